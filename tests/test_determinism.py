"""A counterexample's values depend only on the proof: not on Python's string hashing (a new seed each run)
nor on what the process proved before (a gate worker's other proofs, symabi check's other functions)."""

import random

import claripy

from symabi.casefile import default_cases_dir, parse_case
from symabi.contracts import solver
from symabi.engine.isolation import isolated
from symabi.prover import prove_case


def _witness(result):
    return [(v.obligation, v.entry, v.exit, sorted(v.inputs.items())) for ver in result.versions
            for v in ver.violations]


def test_the_same_constraints_in_any_order_give_the_same_witness():
    a, b, c, d = (claripy.BVS(n, 64, explicit_name=True) for n in ("entry.rsi", "world.info", "entry.rdx", "u"))
    constraints = [a == b, c == d, claripy.UGT(b, 0x1000), (a ^ c)[7:0] == 0x5A,
                   claripy.Or(c == a + 0x5A, claripy.UGT(c, 0x1_0000_0000))]
    violated = claripy.UGT(a, 0x2000)
    observe = {"rsi": a}
    answers = set()
    for seed in range(6):
        shuffled = list(constraints)
        random.Random(seed).shuffle(shuffled)
        # each on a fresh context, as each proof is: Z3's answer also depends on what its context saw before
        answer = isolated(solver.check, shuffled, violated, observe, 5000)
        assert answer.status == solver.VIOLATED
        answers.add(tuple(sorted(answer.inputs.items())))
    assert len(answers) == 1


def test_a_proof_finds_the_same_counterexample_after_other_proofs(toolchain):
    # crosscall2_arm64's old version is REFUTED with a witness whose stack and return address are the
    # solver's choice; proved alone, then after two other refuted cases, it must show the same values
    folder = default_cases_dir()
    alone = _witness(prove_case(parse_case(folder / "crosscall2_arm64"), toolchain))
    assert alone
    prove_case(parse_case(folder / "rt0_linux_lib"), toolchain)
    prove_case(parse_case(folder / "tstart_stdcall"), toolchain)
    assert _witness(prove_case(parse_case(folder / "crosscall2_arm64"), toolchain)) == alone


def test_what_a_proof_raises_reaches_its_caller():
    def fails():
        raise ValueError("from the proof's thread")

    try:
        isolated(fails)
    except ValueError as exc:
        assert str(exc) == "from the proof's thread"
    else:
        raise AssertionError("the error was lost")
