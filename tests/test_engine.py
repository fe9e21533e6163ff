"""The engine's honesty on small hand-written trampolines: what it cannot see is UNKNOWN, never PROVED.

Each test writes a one-version case (``t.s``: the TEXT line is line 3) and runs the whole prover on it.
"""

from __future__ import annotations

import pytest

from symabi.casefile import parse_case
from symabi.engine.explore import Limits
from symabi.prover import Options, prove_case
from symabi.verdicts import Verdict

from conftest import write_case

pytestmark = pytest.mark.slow

CALLEES = """
[callees."runtime.foo"]
args = 8
[callees."runtime.die"]
noreturn = true
"""
RETURN_OBLIGATIONS = {
    "preserve-rbx", "preserve-rbp", "preserve-rdi", "preserve-rsi", "preserve-r12", "preserve-r13", "preserve-r14",
    "preserve-r15", *(f"preserve-xmm{i}" for i in range(6, 16)), "restore-rsp", "return-to-caller",
    "df-clear-at-return", "preserve-x87-control-word", "preserve-mxcsr",  # non-volatile on Windows x64 too
}


@pytest.fixture
def prove(tmp_path, toolchain):
    def run(body: str, callees: str = CALLEES, extra: str = "", options: Options = Options()):
        folder = write_case(tmp_path / "cases", "t", body, callees, extra=extra)
        (version,) = prove_case(parse_case(folder), toolchain, options=options).versions
        assert version.verdict is not Verdict.PROVED or not (version.unknowns or version.violations)
        return version

    return run


def violated(version) -> set[tuple[str, str]]:
    return {(v.obligation, v.location) for v in version.violations}


def site(finding) -> str:
    """``t.s:5: MOVQ AX, (CX)`` for a violation's or unknown's site."""
    assert finding.site is not None
    return f"{finding.site.location.rsplit('/', 1)[-1]}: {finding.site.text}"


# --- what the engine cannot see --------------------------------------------------------------------


def test_store_through_a_host_pointer_is_refuted_and_stops_the_path(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	MOVQ	AX, (CX)
        	RET
        """)
    assert v.verdict is Verdict.REFUTED and violated(v) == {("writes-owned-memory", "memory")}
    assert [p.kind for p in v.paths] == ["unknown"]  # what follows the wild store is not modelled
    assert {site(x) for x in v.violations} == {"t.s:4: MOVQ AX, (CX)"}
    assert all("entry.rcx" in u.reason for u in v.unknowns)


def test_store_through_a_pointer_from_the_world_is_unknown(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	MOVQ	0x30(GS), CX
        	MOVQ	AX, (CX)
        	RET
        """)
    assert v.verdict is Verdict.UNKNOWN and not v.violations
    assert [p.kind for p in v.paths] == ["unknown"]
    assert {site(u) for u in v.unknowns} == {"t.s:4: MOVQ 48(GS), CX"}


def test_load_through_a_host_pointer_is_a_fresh_value(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	MOVQ	8(DX), AX
        	RET
        """)
    assert v.verdict is Verdict.PROVED, (v.violations, v.unknowns)
    assert len(v.host_reads) == 1 and "entry.rdx" in v.host_reads[0]


def test_call_to_undeclared_external_is_unknown(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	SUBQ	$8, SP
        	CALL	runtime·bar(SB)
        	ADDQ	$8, SP
        	RET
        """)
    assert v.verdict is Verdict.UNKNOWN and not v.violations
    assert [p.kind for p in v.paths] == ["unknown"]
    assert {u.reason for u in v.unknowns} == {"call to runtime.bar, which the case does not declare"}


def test_undeclared_call_unknown_points_at_the_call(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	SUBQ	$8, SP
        	CALL	runtime·bar(SB)
        	ADDQ	$8, SP
        	RET
        """)
    assert {site(u) for u in v.unknowns} == {"t.s:5: CALL runtime.bar(SB)"}


def test_infinite_loop_hits_the_path_bound(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        loop:
        	JMP	loop
        """, options=Options(limits=Limits(max_blocks_per_path=40)))
    assert v.verdict is Verdict.UNKNOWN and not v.violations
    (path,) = v.paths
    assert path.kind == "unknown" and path.reason.startswith("path bound: more than 40 blocks")


def test_bounded_loop_is_not_cut_off(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	MOVQ	$10, CX
        loop:
        	DECQ	CX
        	JNZ	loop
        	RET
        """)
    assert v.verdict is Verdict.PROVED
    assert [p.kind for p in v.paths] == ["returned"]


def test_input_bounded_loop_hits_the_path_limit(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	MOVQ	AX, CX
        loop:
        	DECQ	CX
        	JNZ	loop
        	RET
        """, options=Options(limits=Limits(max_paths=6)))
    assert v.verdict is Verdict.UNKNOWN
    assert any(p.kind == "unknown" and p.reason == "path limit (6) reached" for p in v.paths)


def test_time_limit_is_unknown(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	RET
        """, options=Options(timeout_s=0))
    assert v.verdict is Verdict.UNKNOWN
    assert [p.reason for p in v.paths] == ["time limit reached before this path ended"]


def test_undecodable_bytes_are_unknown(prove):
    # 0F 0B is UD2; VEX ends the block there with Ijk_NoDecode.
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	MOVQ	AX, R8
        	BYTE	$0x0f; BYTE $0x0b
        	RET
        """)
    assert v.verdict is Verdict.UNKNOWN and not v.violations
    (path,) = v.paths
    assert path.kind == "unknown" and "cannot be decoded" in path.reason and "0x400003" in path.reason


def test_undecodable_first_instruction_is_unknown(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	BYTE	$0x0f; BYTE $0x0b
        	RET
        """)
    assert v.verdict is Verdict.UNKNOWN and not v.violations


# --- control flow the inputs choose ----------------------------------------------------------------


def test_jump_to_input_address_is_refuted(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	JMP	AX
        """)
    assert v.verdict is Verdict.REFUTED
    assert sorted(p.kind for p in v.paths) == ["escaped", "returned"]
    # AX = anything else: the path escapes; AX = the caller's return address: RSP was never popped
    assert violated(v) == {("return-to-caller", "return_address"), ("restore-rsp", "rsp")}
    ret = next(x for x in v.violations if x.obligation == "return-to-caller")
    assert site(ret) == "t.s:4: JMP AX"
    assert int(ret.entry, 16) == int(ret.inputs["entry.return_address"], 16) and ret.exit != ret.entry
    assert "entry.rax" in ret.inputs and int(ret.inputs["entry.rax"], 16) == int(ret.exit, 16)


def test_return_to_input_address_is_refuted(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	MOVQ	AX, -8(SP)
        	SUBQ	$8, SP
        	RET
        """)
    assert v.verdict is Verdict.REFUTED
    assert violated(v) == {("return-to-caller", "return_address"), ("restore-rsp", "rsp")}
    ret = next(x for x in v.violations if x.obligation == "return-to-caller")
    assert site(ret) == "t.s:6: RET" and "inputs choose" in ret.detail


def test_jump_to_a_constant_non_code_address_is_refuted(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	MOVQ	$0x1234, AX
        	JMP	AX
        """)
    assert v.verdict is Verdict.REFUTED
    (x,) = v.violations
    assert (x.obligation, x.exit) == ("return-to-caller", "0x0000000000001234")
    assert "control reached 0x1234, which is not code" in x.detail


def test_a_call_or_jump_to_a_fixed_address_outside_the_first_64k_is_unknown(prove):
    # 0x401000 is where a linux/amd64 binary's text starts: what runs there depends on the program's layout
    # (docs/redteam.md, "Also seen"), so neither a refutation nor a proof
    for branch in ("CALL", "JMP"):
        v = prove(f"""
            TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
            	MOVQ	$0x401000, AX
            	{branch}	AX
            	RET
            """)
        assert v.verdict is Verdict.UNKNOWN, branch
        assert not v.violations
        assert any("0x401000, a fixed address outside the code" in u.reason for u in v.unknowns), branch


def test_noreturn_callee_aborts_the_path(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	SUBQ	$8, SP
        	CALL	runtime·die(SB)
        """)
    assert v.verdict is Verdict.PROVED
    (path,) = v.paths
    assert path.kind == "aborted" and path.reason == "runtime.die does not return"
    # return obligations do not apply to an abort; the ones about calls and stack writes do
    assert {o for o, s in path.statuses.items() if s == "n/a"} == RETURN_OBLIGATIONS
    assert path.statuses["df-clear-at-call"] == path.statuses["stack-writes-in-frame"] == "holds"


# --- stack writes ----------------------------------------------------------------------------------


def test_overwriting_the_return_address_is_refuted(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	MOVQ	$0, 0(SP)
        	RET
        """)
    assert v.verdict is Verdict.REFUTED
    assert violated(v) == {("stack-writes-in-frame", "stack"), ("return-to-caller", "return_address")}
    write = next(x for x in v.violations if x.obligation == "stack-writes-in-frame")
    assert site(write) == "t.s:4: MOVQ $0, (SP)" and write.exit == "+0x0" and "the return address" in write.detail


def test_rewriting_the_return_address_with_itself_is_still_a_write(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	MOVQ	0(SP), AX
        	MOVQ	AX, 0(SP)
        	RET
        """)
    assert v.verdict is Verdict.REFUTED
    assert violated(v) == {("stack-writes-in-frame", "stack")}
    assert [p.kind for p in v.paths] == ["returned"]


def test_home_area_writes_are_allowed(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	MOVQ	CX, 8(SP)
        	MOVQ	R9, 32(SP)
        	MOVQ	DX, -8(SP)
        	RET
        """)
    assert v.verdict is Verdict.PROVED


def test_write_into_the_callers_stack_arguments_is_refuted(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	MOVQ	AX, 40(SP)
        	RET
        """, extra="", callees=CALLEES + "\n[entry_convention]\nstack_args = 16\n")
    assert v.verdict is Verdict.REFUTED
    (x,) = v.violations
    assert (x.obligation, x.exit) == ("stack-writes-in-frame", "+0x28") and "the caller's frame" in x.detail


def test_write_into_the_callers_frame_without_stack_arguments_is_refuted(prove):
    # with no stack arguments declared, entry RSP+0x28 is the caller's own frame: writing it breaks the contract
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	MOVQ	AX, 40(SP)
        	RET
        """)
    assert v.verdict is Verdict.REFUTED
    (x,) = v.violations
    assert (x.obligation, x.exit) == ("stack-writes-in-frame", "+0x28") and "the caller's frame" in x.detail


def test_write_beyond_the_modelled_callers_frame_is_still_a_write_into_it(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	MOVQ	AX, 0x2000(SP)
        	RET
        """)
    assert v.verdict is Verdict.REFUTED
    (x,) = v.violations
    assert (x.obligation, x.exit, x.replay) == ("stack-writes-in-frame", "+0x2000", "confirmed")


# --- the direction flag ----------------------------------------------------------------------------


def test_df_set_at_a_call_is_refuted(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	SUBQ	$8, SP
        	STD
        	CALL	runtime·die(SB)
        """)
    assert v.verdict is Verdict.REFUTED
    (x,) = v.violations
    assert (x.obligation, x.location, x.entry, x.exit) == ("df-clear-at-call", "df", "clear", "set")
    assert site(x) == "t.s:6: CALL runtime.die(SB)" and x.detail == "DF is set at the call to runtime.die"


def test_df_set_at_return_is_refuted(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	STD
        	RET
        """)
    assert v.verdict is Verdict.REFUTED
    (x,) = v.violations
    assert (x.obligation, x.location, x.entry, x.exit) == ("df-clear-at-return", "df", "clear", "set")
    assert site(x) == "t.s:5: RET"


def test_df_cleared_again_before_return_is_proved(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	STD
        	CLD
        	RET
        """)
    assert v.verdict is Verdict.PROVED


# --- callee-saved registers ------------------------------------------------------------------------


def test_callee_clobbers_what_was_not_saved(prove):
    # BX saved around the call survives; SI is not saved and comes back as the callee's value
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	SUBQ	$24, SP
        	MOVQ	BX, 16(SP)
        	MOVQ	CX, 0(SP)
        	CALL	runtime·foo(SB)
        	MOVQ	16(SP), BX
        	ADDQ	$24, SP
        	RET
        """)
    assert v.verdict is Verdict.REFUTED
    clobbered = {x.location for x in v.violations}
    assert "rbx" not in clobbered
    assert clobbered == {"rbp", "rdi", "rsi", "r12", "r13", "r14", "r15", *(f"xmm{i}" for i in range(6, 16))}
    rsi = next(x for x in v.violations if x.location == "rsi")
    assert "runtime.foo#1.rsi" in rsi.inputs and site(rsi) == "t.s:10: RET"


# --- x86 behaviour VEX leaves out (symabi/engine/cpu.py) --------------------------------------------


def test_division_that_always_faults_refutes_no_fault(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	MOVL	$0, CX
        	DIVL	CX
        	RET
        """)
    assert [(p.kind, p.label) for p in v.paths] == [("faulted", "division fault (#DE)")]
    # a trap is not a way out: the no-fault obligation fails, and the oracle's run faults there too
    assert v.verdict is Verdict.REFUTED
    (x,) = v.violations
    assert x.obligation == "no-fault" and site(x) == "t.s:5: DIVL CX" and x.replay == "confirmed"


def test_division_that_may_fault_splits_the_path(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	MOVQ	BX, R11
        	DIVL	CX
        	MOVQ	R11, BX
        	RET
        """)
    assert sorted(p.kind for p in v.paths) == ["faulted", "returned"]
    assert v.verdict is Verdict.REFUTED and {x.obligation for x in v.violations} == {"no-fault"}
    (x,) = v.violations
    assert site(x) == "t.s:5: DIVL CX" and x.replay == "confirmed"


def test_division_that_cannot_fault_has_one_path(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	MOVL	$0, DX
        	MOVL	$5, CX
        	DIVL	CX
        	RET
        """)
    assert [p.kind for p in v.paths] == ["returned"]


def test_pushfq_pushes_the_reserved_bit(prove):
    # RFLAGS bit 1 always reads as 1: restoring BX from the flags slot gives an odd-looking value with bit 1 set
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	PUSHFQ
        	POPQ	BX
        	RET
        """)
    (x,) = [x for x in v.violations if x.obligation == "preserve-rbx"]
    assert int(x.exit, 16) & 0x2 and x.replay == "confirmed"


def test_popfq_of_a_word_with_tf_set_traps(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	PUSHQ	AX
        	POPFQ
        	RET
        """)
    assert sorted((p.kind, p.label) for p in v.paths) == [
        ("faulted", "POPFQ sets the trap flag: the CPU traps (#DB)"), ("returned", "returns to the caller")]
    # the popped word may also set DF, which the return then breaks
    assert {x.obligation for x in v.violations} == {"no-fault", "df-clear-at-return"}
    assert all(x.replay == "confirmed" for x in v.violations)
