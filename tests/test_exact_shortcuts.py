"""Shortcuts that save solver work must give the answers the solver would: each against the long way."""

from __future__ import annotations

import angr
import claripy

from conftest import CASES, write_case
from symabi import prover
from symabi.casefile import parse_case
from symabi.contracts import solver
from symabi.engine import memory
from symabi.engine.explore import Explorer
from symabi.verdicts import Verdict

RSP = claripy.BVS("entry.rsp", 64, explicit_name=True)


def _state(*constraints):
    project = angr.load_shellcode(b"\xc3", "amd64")
    state = project.factory.blank_state()
    state.add_constraints(*constraints)
    return state


def _aligned_frame(offset: int):
    """(entry RSP - 0x18) & ~15, then ``offset`` from it, less the entry RSP: what ANDQ $~15, SP leaves."""
    aligned = claripy.Concat((RSP - 0x18)[63:4], claripy.BVV(0, 4))
    return aligned + offset - RSP


def test_linear_reads_a_cleared_low_nibble():
    terms, const = memory._linear(_aligned_frame(8))
    assert const == (8 - 0x18) % 2**64
    ((term, coef),) = terms.items()
    assert term == (4, ((("entry.rsp", 1),), (-0x18) % 2**64)) and coef == 2**64 - 1


def test_constant_offset_of_an_aligned_frame_is_the_solvers_answer():
    for residue in (0, 8):
        state = _state(RSP[3:0] == residue)
        for offset in (0, 8, -0x20):
            delta = _aligned_frame(offset)
            expected = memory.only_value(state, delta)
            assert memory._constant_offset(state, delta + RSP, RSP) == memory._signed(expected)
        assert state.globals[memory.FIXED_LOW_BITS] == {("entry.rsp", 4): residue}


def test_unfixed_low_bits_leave_the_offset_unknown():
    state = _state(claripy.Or(RSP[3:0] == 0, RSP[3:0] == 8))
    assert memory._constant_offset(state, _aligned_frame(0) + RSP, RSP) is None
    assert memory.FIXED_LOW_BITS not in state.globals


def _questions(path_solver):
    x = claripy.BVS("x", 64, explicit_name=True)
    return [solver.ask(path_solver, q, {"exit": x}).status for q in (x == 3, claripy.UGT(x, 10), x == 5)]


def test_all_hold_keeps_the_dry_run_only_when_z3_confirms_it():
    x = claripy.BVS("x", 64, explicit_name=True)
    holding = solver.PathSolver([claripy.UGE(x, 6), claripy.ULE(x, 9)], 10_000)
    assert solver.all_hold(holding, _questions) == [solver.HOLDS] * 3
    failing = solver.PathSolver([claripy.ULE(x, 9)], 10_000)
    assert solver.all_hold(failing, _questions) == _questions(failing) == [solver.VIOLATED, solver.HOLDS,
                                                                             solver.VIOLATED]


def test_a_path_asks_its_start_solver_the_same_questions():
    x = claripy.BVS("x", 64, explicit_name=True)
    start = [claripy.ULE(x, 9)]
    entry = solver.PathSolver(start, 10_000)
    path = [*start, claripy.UGE(x, 5)]
    shared, alone = solver.PathSolver(path, 10_000, entry), solver.PathSolver(path, 10_000)
    assert shared.solver.own == (path[1],)
    assert _questions(shared) == _questions(alone) == [solver.HOLDS, solver.HOLDS, solver.VIOLATED]


def test_only_value_of_a_bare_symbol_is_the_solvers_answer():
    x, y = (claripy.BVS(n, 64, explicit_name=True) for n in ("x", "y"))
    state = _state(x == 7)
    assert memory.only_value(state, x) == 7
    assert memory.only_value(state, y) is None  # mentioned by no constraint: any value
    assert memory.only_value(_state(claripy.Or(x == 1, x == 2)), x) is None


# --- world configurations sharing the steps before they differ (symabi.engine.prefixes) ----------

LATE_READ = """
TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
	CMPQ	CX, $0
	JEQ	zero
	MOVQ	$1, AX
	JMP	done
zero:
	MOVQ	$2, AX
done:
	MOVQ	0x28(GS), DX
	CMPQ	DX, $0
	JEQ	ok
	MOVQ	$5, BX
ok:
	RET
"""

def _field(at: str, *values: tuple[str, str]) -> str:
    """A world field's table from (value, label) pairs."""
    listed = ", ".join(f'"{v}"' for v, _ in values)
    labels = ", ".join(f'"{label}"' for _, label in values)
    return f'[[world.fields]]\nat = "{at}"\nvalues = [{listed}]\n' + (f"labels = [{labels}]\n" if len(values) > 1 else "")


def _teb_world(*tables: str) -> str:
    """A world whose GS points at a TEB region, with more regions' and fields' tables."""
    return '[world]\ngs = "teb"\n[world.regions.teb]\nsize = 0x100\n' + "\n".join(tables) + "\n"


# teb+0x28 is read after two blocks (and decides whether RBX is clobbered); teb+0x30 is never read
LATE_WORLD = _teb_world(_field("teb+0x28", ("0", "the slot is clear"), ("1", "the slot is set")),
                        _field("teb+0x30", ("0", ""), ("7", "the other slot holds 7")))


def _facts(result):
    """Everything a verdict reports, except the witnesses' values (another Z3 history may pick others)."""
    return [(v.name, v.verdict, v.error,
             [(p.index, p.kind, p.label, p.reason, p.lines, sorted(p.statuses.items())) for p in v.paths],
             [(x.obligation, x.path, x.site, x.detail, x.origin, x.replay) for x in v.violations],
             [(u.obligation, u.path, u.reason) for u in v.unknowns]) for v in result.versions]


def _both_ways(case, toolchain, monkeypatch):
    """(the long way's facts, the shortcut's facts, how many states each advanced)."""
    advanced = [0]
    plain = Explorer._advance

    def counted(self, state):
        advanced[0] += 1
        return plain(self, state)

    monkeypatch.setattr(Explorer, "_advance", counted)
    out = []
    for share in (False, True):
        monkeypatch.setattr(prover, "SHARE_PREFIXES", share)
        advanced[0] = 0
        out.append((_facts(prover.prove_case(case, toolchain)), advanced[0]))
    (long_way, long_steps), (shortcut, short_steps) = out
    return long_way, shortcut, long_steps, short_steps


def test_configurations_share_the_steps_before_the_field_they_differ_in(tmp_path, toolchain, monkeypatch):
    case = parse_case(write_case(tmp_path, "late", LATE_READ, LATE_WORLD))
    long_way, shortcut, long_steps, short_steps = _both_ways(case, toolchain, monkeypatch)
    assert shortcut == long_way
    assert short_steps < long_steps  # the two blocks before the read are advanced once
    ((_, verdict, _, paths, violations, _),) = shortcut
    assert verdict is Verdict.REFUTED
    assert {x[0] for x in violations} == {"preserve-rbx"}
    assert all("the slot is set" in paths[x[1]][2] for x in violations)


def test_a_field_read_at_entry_shares_nothing(tmp_path, toolchain, monkeypatch):
    early = LATE_READ.replace("\tCMPQ\tCX, $0\n", "\tMOVQ\t0x28(GS), DX\n\tCMPQ\tCX, $0\n", 1)
    case = parse_case(write_case(tmp_path, "early", early, LATE_WORLD))
    long_way, shortcut, long_steps, short_steps = _both_ways(case, toolchain, monkeypatch)
    assert shortcut == long_way and short_steps == long_steps


def test_a_shipped_world_gives_the_same_verdicts_both_ways(toolchain, monkeypatch):
    long_way, shortcut, long_steps, short_steps = _both_ways(parse_case(CASES / "stdcall"), toolchain, monkeypatch)
    assert shortcut == long_way and short_steps < long_steps


# the slot is read by both branches; through the first, a null slot faults in the block that read it
# (the faulted path keeps the state from before the block, without the read): that step is never taken
FAULT_AFTER_READ = """
TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
	CMPQ	CX, $0
	JEQ	other
	MOVQ	0x28(GS), DX
	MOVQ	0(DX), AX
	RET
other:
	MOVQ	0x28(GS), AX
	RET
"""

SLOT_WORLD = _teb_world(_field("teb+0x28", ("0", "the slot is null"), ("teb", "the slot points at the TEB")))


def test_a_step_that_raised_is_stepped_again(tmp_path, toolchain, monkeypatch):
    case = parse_case(write_case(tmp_path, "fault", FAULT_AFTER_READ, SLOT_WORLD))
    long_way, shortcut, long_steps, short_steps = _both_ways(case, toolchain, monkeypatch)
    assert shortcut == long_way and short_steps < long_steps
    ((_, _, _, paths, _, _),) = shortcut
    # taking the null slot's faulted step would have made the TEB's first branch fault too
    assert sorted(kind for _, kind, *_ in paths) == ["faulted", "returned", "returned", "returned"]


# the code overwrites the field before a later block reads it: both worlds read 7 (RBX is kept)
WRITE_THEN_READ = """
TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
	MOVQ	0x28(GS), DX
	MOVQ	$7, 0(DX)
	CMPQ	CX, $0
	JEQ	read
	MOVQ	$1, AX
read:
	MOVQ	0(DX), AX
	CMPQ	AX, $7
	JEQ	ok
	MOVQ	$5, BX
ok:
	RET
"""

WRITTEN_WORLD = _teb_world('[world.regions.m]\nsize = 0x100\nwritable = true', _field("teb+0x28", ("m", "")),
                           _field("m+0x0", ("0", "m.word is 0"), ("1", "m.word is 1")))


def test_a_field_the_code_wrote_is_not_laid_again(tmp_path, toolchain, monkeypatch):
    case = parse_case(write_case(tmp_path, "written", WRITE_THEN_READ, WRITTEN_WORLD))
    long_way, shortcut, _, _ = _both_ways(case, toolchain, monkeypatch)
    assert shortcut == long_way
    assert shortcut[0][1] is Verdict.PROVED


def _model_of(constraints, violated, observe, answer) -> bool:
    """Whether ``answer``'s inputs fix every input of the question and make it a model of it, with
    ``answer.values`` the observed values there (asked of a solver of its own)."""
    named = {leaf.args[0]: leaf for e in (*constraints, violated, *observe.values()) for leaf in e.leaf_asts()
             if leaf.symbolic}
    if not named.keys() <= answer.inputs.keys():
        return False
    fixed = [leaf == answer.inputs[name] for name, leaf in named.items()]
    alone = claripy.Solver()
    return alone.satisfiable(extra_constraints=(*constraints, violated, *fixed)) and all(
        alone.eval(e, 1, extra_constraints=fixed)[0] == answer.values[n] for n, e in observe.items())


def test_a_witness_found_on_a_path_answers_its_other_violations():
    x = claripy.BVS("x", 64, explicit_name=True)
    a, b, c, d = (claripy.BVS(f"entry.{n}", 64, explicit_name=True) for n in "abcd")
    constraints = [claripy.ULE(x, 9)]
    questions = [(a != b, {"entry": a, "exit": b}), (c != d + x, {"entry": c, "exit": d + x}),
                 (x == 12, {"exit": x}), (claripy.ULE(x, 9), {"exit": x}), (claripy.BoolV(True), {})]
    path = solver.PathSolver(constraints, 10_000)
    answers = [solver.ask(path, q, observe) for q, observe in questions]
    assert [a.status for a in answers] == [solver.check(constraints, q, o, 10_000).status for q, o in questions] \
        == [solver.VIOLATED, solver.VIOLATED, solver.HOLDS, solver.VIOLATED, solver.VIOLATED]
    assert len(path.witnesses) == 1  # one shrunk witness; the others are it, widened over their own inputs
    for (q, observe), answer in zip(questions, answers):
        assert answer.status == solver.HOLDS or _model_of(constraints, q, observe, answer)
    first, second = answers[0].inputs, answers[1].inputs
    assert second.items() >= first.items() and path.witnesses == [answers[-1].inputs]


def test_a_witness_that_does_not_show_a_violation_leaves_it_to_the_solver():
    x = claripy.BVS("x", 64, explicit_name=True)
    constraints = [claripy.ULE(x, 9)]
    path = solver.PathSolver(constraints, 10_000)
    first = solver.ask(path, x == 0, {"exit": x})
    second = solver.ask(path, x == 7, {"exit": x})  # the first witness has x = 0: a new one
    assert (first.values, second.values) == ({"exit": 0}, {"exit": 7}) and len(path.witnesses) == 2
    y = claripy.BVS("y", 8, explicit_name=True)
    divided = solver.ask(path, claripy.BVV(6, 8) // y == 3, {"exit": y})  # the guess y = 0 cannot be evaluated
    assert divided.status == solver.VIOLATED and divided.values == {"exit": 2}


def test_a_path_s_violations_share_the_widest_witness_that_extends_theirs():
    from symabi.contracts.base import Finding
    from symabi.obligations.symbolic import shared_witnesses

    ob = object()
    findings = [Finding(ob, 0, "violated", inputs={"a": 1}), Finding(ob, 0, "holds"),
                Finding(ob, 0, "violated", inputs={"a": 1, "b": 0}), Finding(ob, 0, "violated", inputs={"a": 2}),
                Finding(ob, 0, "violated")]
    assert [f.inputs for f in shared_witnesses(findings)] == [{"a": 1, "b": 0}, {}, {"a": 1, "b": 0}, {"a": 2}, {}]
