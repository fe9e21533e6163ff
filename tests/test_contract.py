"""The solver's answers and the shape of a counterexample: small, complete, and about the right values."""

from __future__ import annotations

import claripy
import pytest

from symabi.casefile import parse_case
from symabi.contracts import CONTRACTS
from symabi.contracts.solver import HOLDS, VIOLATED, check
from symabi.prover import prove_case
from symabi.verdicts import Verdict

from conftest import write_case

TIMEOUT_MS = 10_000


def _bv(name: str, bits: int = 64):
    return claripy.BVS(name, bits, explicit_name=True)


# --- the solver --------------------------------------------------------------------------------------


def test_holds_when_the_violation_is_unsatisfiable():
    x = _bv("entry.rbx")
    answer = check([], x != x, {"entry": x, "exit": x}, TIMEOUT_MS)
    assert answer.status == HOLDS and not answer.values and not answer.inputs


def test_holds_under_the_path_constraints():
    x, y = _bv("entry.rbx"), _bv("callee#1.rbx")
    answer = check([y == x], x != y, {"entry": x, "exit": y}, TIMEOUT_MS)
    assert answer.status == HOLDS


def test_witness_is_shrunk_to_small_values():
    entry, exit_ = _bv("entry.rbx"), _bv("callee#1.rbx")
    answer = check([], entry != exit_, {"entry": entry, "exit": exit_}, TIMEOUT_MS)
    assert answer.status == VIOLATED
    # inputs are shrunk one at a time in name order: each is tried at 0, then at most 0xf, then at most 0xff
    assert answer.values["exit"] == 0 and 0 < answer.values["entry"] <= 0xF  # "callee#1.rbx" < "entry.rbx"
    assert answer.inputs == {"entry.rbx": answer.values["entry"], "callee#1.rbx": answer.values["exit"]}


def test_witness_respects_the_constraints():
    entry, exit_ = _bv("entry.rsp"), _bv("callee#1.rsp")
    constraints = [claripy.UGT(entry, 0x10000), entry & 0xF == 8]
    answer = check(constraints, exit_ != entry + 8, {"entry": entry, "exit": exit_}, TIMEOUT_MS)
    assert answer.status == VIOLATED
    assert answer.values["entry"] > 0x10000 and answer.values["entry"] & 0xF == 8
    assert answer.values["exit"] != answer.values["entry"] + 8 and answer.values["exit"] <= 0xF


def test_witness_covers_inputs_only_the_constraints_mention():
    x, y, z = _bv("entry.rax"), _bv("entry.rbx"), _bv("mem@0x10.64")
    answer = check([z == x + 1], y != x, {"entry": x, "exit": y}, TIMEOUT_MS)
    assert answer.status == VIOLATED
    assert set(answer.inputs) == {"entry.rax", "entry.rbx", "mem@0x10.64"}
    assert answer.inputs["mem@0x10.64"] == answer.inputs["entry.rax"] + 1


def test_witness_for_128_bit_values():
    entry, exit_ = _bv("entry.xmm6", 128), _bv("callee#1.xmm6", 128)
    answer = check([claripy.UGE(entry, 1 << 100)], entry != exit_, {"entry": entry, "exit": exit_}, TIMEOUT_MS)
    assert answer.status == VIOLATED
    assert answer.values["entry"] >= 1 << 100 and answer.values["exit"] == 0


def test_windows_x64_obligations():
    contract = CONTRACTS["windows-x64"]
    ids = [o.id for o in contract.obligations]
    assert len(ids) == len(set(ids))
    assert {"restore-rsp", "return-to-caller", "df-clear-at-return", "df-clear-at-call",
            "stack-writes-in-frame"} <= set(ids)
    locations = {o.location for o in contract.obligations}
    assert {"rbx", "rbp", "rdi", "rsi", "r12", "r13", "r14", "r15"} <= locations
    assert {f"xmm{i}" for i in range(6, 16)} <= locations
    assert {"rsp", "return_address", "df", "stack"} <= locations
    assert not {"rax", "rcx", "rdx", "r8", "r9", "r10", "r11", "xmm0", "xmm5"} & locations  # volatile


# --- counterexamples end to end ------------------------------------------------------------------------


@pytest.fixture
def prove(tmp_path, toolchain):
    def run(body: str):
        folder = write_case(tmp_path / "cases", "t", body)
        (version,) = prove_case(parse_case(folder), toolchain).versions
        return version

    return run


@pytest.mark.slow
def test_xmm_counterexample_shape(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	PXOR	X6, X6
        	RET
        """)
    assert v.verdict is Verdict.REFUTED
    (x,) = v.violations
    assert (x.obligation, x.location) == ("preserve-xmm6", "xmm6")
    # all 128 bits, as 0x + 32 hex digits; the entry value must be non-zero, so it shrinks to at most 0xf
    assert len(x.entry) == len(x.exit) == 34 and x.entry.startswith("0x") and x.exit.startswith("0x")
    assert x.exit == "0x" + "0" * 32 and 0 < int(x.entry, 16) <= 0xF
    assert x.inputs["entry.xmm6"] == hex(int(x.entry, 16))
    assert x.site is not None and x.site.text == "RET" and x.site.location.endswith("t.s:5")
    assert [line.text for line in x.path_lines] == ["PXOR X6, X6", "RET"]


@pytest.mark.slow
def test_counterexample_names_the_branch_that_fails(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	CMPQ	AX, $0x1234
        	JNE	ok
        	MOVQ	$7, BX
        ok:
        	RET
        """)
    assert v.verdict is Verdict.REFUTED
    assert sorted(p.kind for p in v.paths) == ["returned", "returned"]
    (x,) = v.violations
    assert (x.obligation, x.entry, x.exit) == ("preserve-rbx", "0x" + "0" * 16, "0x" + "0" * 15 + "7")
    assert x.inputs["entry.rax"] == "0x1234"  # the input that takes the clobbering branch
    assert x.inputs["entry.rbx"] == "0x0"
    assert [line.text.split()[0] for line in x.path_lines] == ["CMPQ", "JNE", "MOVQ", "RET"]
    path = v.paths[x.path]
    assert path.statuses["preserve-rbx"] == "violated"
    other = next(p for p in v.paths if p.index != x.path)
    assert other.statuses["preserve-rbx"] == "holds"


@pytest.mark.slow
def test_rsp_counterexample(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	MOVQ	0(SP), AX
        	ADDQ	$16, SP
        	JMP	AX
        """)
    assert v.verdict is Verdict.REFUTED
    (x,) = v.violations
    assert (x.obligation, x.location) == ("restore-rsp", "rsp")
    entry, exit_ = int(x.entry, 16), int(x.exit, 16)
    assert exit_ == entry + 16 and entry & 0xF == 8  # the entry convention: RSP is 8 mod 16 at entry


def test_a_solver_without_an_answer_is_unknown_never_holds(monkeypatch):
    # Z3 giving up (a timeout, an internal error) must leave the obligation UNKNOWN.
    def gives_up(self, *args, **kwargs):
        raise claripy.errors.ClaripySolverInterruptError("timeout")

    monkeypatch.setattr(claripy.Solver, "satisfiable", gives_up)
    x, y = _bv("entry.rbx"), _bv("callee#1.rbx")
    answer = check([], x != y, {"entry": x, "exit": y}, TIMEOUT_MS)
    assert answer.status == "unknown" and "timeout" in answer.reason


def test_a_one_millisecond_solver_budget_never_proves_a_hard_query():
    # Whatever Z3 manages in 1 ms, the answer is either a real one or UNKNOWN: never HOLDS by default.
    a, b = _bv("entry.a"), _bv("entry.b")
    hard = [a * b == 0x1234567890ABCDEF, claripy.UGT(a, 1), claripy.UGT(b, 1)]
    answer = check(hard, a != b, {"entry": a, "exit": b}, 1)
    assert answer.status in (VIOLATED, "unknown")
