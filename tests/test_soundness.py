"""Issue 9's classes: each is a trampoline that a model narrower than reality PROVED (or refuted
wrongly, or left UNKNOWN); each test fails on the old model. Verdicts come from the prover, and every
refutation must replay on the independent oracle ("confirmed")."""

from __future__ import annotations

import pytest

from conftest import write_case
from symabi.casefile import parse_case
from symabi.errors import CaseError
from symabi.prover import prove_case
from symabi.verdicts import Verdict

FOO = '[callees."runtime.foo"]\nargs = 8\n'

pytestmark = pytest.mark.slow


@pytest.fixture
def prove(tmp_path, toolchain):
    def run(body: str, callees: str = FOO, extra: str = "", world: str = ""):
        folder = write_case(tmp_path / "cases", "t", body, callees + world, extra=extra)
        (version,) = prove_case(parse_case(folder), toolchain).versions
        return version

    return run


def refuted(version, obligation: str):
    """The violations of one obligation, all confirmed by the oracle."""
    found = [v for v in version.violations if v.obligation == obligation]
    assert version.verdict is Verdict.REFUTED and found, (version.verdict, version.violations, version.unknowns)
    assert all(v.replay == "confirmed" for v in found), [v.replay for v in found]
    return found


def holds(version, obligation: str) -> None:
    """The obligation holds on every path (other obligations may fail: the callee clobbers the rest)."""
    assert all(p.statuses.get(obligation) in ("holds", "n/a") for p in version.paths), \
        [(p.label, p.statuses.get(obligation)) for p in version.paths]


# --- 1. memory below the stack pointer does not survive a call --------------------------------------

def test_a_save_below_sp_during_a_call_is_lost_to_the_callees_frame(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	SUBQ	$16, SP
        	MOVQ	BX, 0(SP)	// saved at entry RSP - 0x10 ...
        	ADDQ	$16, SP	// ... which is below SP during the call
        	CALL	runtime·foo(SB)
        	SUBQ	$16, SP
        	MOVQ	0(SP), BX
        	ADDQ	$16, SP
        	RET
        """)
    (x,) = refuted(v, "preserve-rbx")
    assert any(name.startswith("runtime.foo#1.below-") for name in x.inputs), x.inputs


def test_a_save_above_sp_survives_the_call(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	SUBQ	$24, SP
        	MOVQ	BX, 16(SP)
        	CALL	runtime·foo(SB)
        	MOVQ	16(SP), BX
        	ADDQ	$24, SP
        	RET
        """)
    holds(v, "preserve-rbx")


def test_a_read_below_sp_sees_what_windows_may_have_left_there(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	MOVQ	BX, -8(SP)
        	MOVQ	-8(SP), BX
        	RET
        """, callees="")
    (x,) = refuted(v, "preserve-rbx")
    assert any(name.startswith("below-rsp#1.") for name in x.inputs), x.inputs


# --- 2. a callee writes what its pointer arguments reach ---------------------------------------------

POINTER_TO_SAVE = """
    TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
    	SUBQ	$32, SP
    	MOVQ	BX, 16(SP)
    	LEAQ	16(SP), AX
    	MOVQ	AX, 0(SP)	// the argument points at the save slot
    	CALL	runtime·foo(SB)
    	MOVQ	16(SP), BX
    	ADDQ	$32, SP
    	RET
    """


def test_a_callee_may_write_through_a_pointer_to_a_save_slot(prove):
    v = prove(POINTER_TO_SAVE)
    (x,) = refuted(v, "preserve-rbx")
    assert "runtime.foo#1.*frame+0x0+0x0" in x.inputs


def test_a_narrowed_callee_needs_a_reason_and_then_keeps_the_slot(prove):
    with pytest.raises(CaseError, match="writes_reason"):
        prove(POINTER_TO_SAVE, callees=FOO + "writes = [{ pointer_at = 0, offset = 8 }]\n")
    v = prove(POINTER_TO_SAVE, callees=FOO + 'writes = [{ pointer_at = 0, offset = 8 }]\nwrites_reason = "test"\n')
    holds(v, "preserve-rbx")


# --- 3. values reality varies are not fixed ----------------------------------------------------------

def test_a_branch_on_the_return_address_sees_both_ways(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	MOVQ	0(SP), AX
        	TESTQ	$1, AX
        	JEQ	even
        	XORQ	BX, BX
        even:
        	RET
        """, callees="")
    (x,) = refuted(v, "preserve-rbx")
    assert int(x.inputs["entry.return_address"], 16) & 1


WORLD = """
[world]
doc = "one runtime structure"
[world.regions.r]
size = 0x40
writable = true
"""


def test_a_branch_on_a_world_pointer_sees_every_placement(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	TESTQ	$0x10, CX
        	JEQ	ok
        	XORQ	BX, BX
        ok:
        	RET
        """, callees="", extra="", world=WORLD + '[entry_convention]\nregisters = { rcx = "r" }\n')
    (x,) = refuted(v, "preserve-rbx")
    assert int(x.inputs["world.r"], 16) & 0x10


def test_a_pushfq_image_has_if_set(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	PUSHFQ
        	POPQ	AX
        	TESTQ	$0x200, AX
        	JNE	ok
        	XORQ	BX, BX
        ok:
        	RET
        """, callees="")
    assert v.verdict is Verdict.PROVED, (v.violations, v.unknowns)


def test_a_branch_on_cpuid_sees_every_cpu(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	MOVQ	BX, R8
        	MOVL	$1, AX
        	CPUID
        	MOVQ	R8, BX
        	TESTL	$1, CX	// SSE3
        	JNE	ok
        	XORQ	BX, BX
        ok:
        	RET
        """, callees="")
    (x,) = refuted(v, "preserve-rbx")
    assert int(x.inputs["cpuid#1.ecx"], 16) & 1 == 0


# --- 4. a fault is not a way out ---------------------------------------------------------------------

def test_a_misaligned_movaps_faults(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	SUBQ	$16, SP	// entry RSP is 8 mod 16: so is this
        	MOVAPS	X6, 0(SP)
        	ADDQ	$16, SP
        	RET
        """, callees="")
    (x,) = refuted(v, "no-fault")
    assert "aligned" in x.detail


def test_an_aligned_movaps_does_not_fault(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	SUBQ	$24, SP
        	MOVAPS	X6, 0(SP)
        	MOVAPS	0(SP), X6
        	ADDQ	$24, SP
        	RET
        """, callees="")
    assert v.verdict is Verdict.PROVED, (v.violations, v.unknowns)


def test_a_pointer_a_callee_left_may_be_null(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	SUBQ	$16, SP
        	CALL	runtime·foo(SB)
        	MOVQ	8(DX), AX	// DX is whatever the callee left
        	ADDQ	$16, SP
        	RET
        """)
    (x,) = refuted(v, "no-fault")
    assert "runtime.foo#1.rdx" in x.inputs


# --- 5. the stack pointer taken from memory nobody wrote --------------------------------------------

def test_sp_reloaded_from_a_slot_nobody_filled_is_refuted_at_its_first_use(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	SUBQ	$24, SP
        	MOVQ	8(SP), SP	// nobody stored at entry RSP - 0x10: SP is garbage
        	MOVQ	0(SP), BX
        	RET
        """, callees="")
    (x,) = refuted(v, "no-fault")
    assert any(name.startswith("init.stack-") for name in x.inputs), x.inputs


def test_sp_reloaded_from_its_own_save_slot_is_proved(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	MOVQ	SP, AX
        	SUBQ	$24, SP
        	MOVQ	AX, 8(SP)
        	MOVQ	8(SP), SP
        	RET
        """, callees="")
    assert v.verdict is Verdict.PROVED, (v.violations, v.unknowns)


# --- 6. writes through an address the host chooses --------------------------------------------------

def test_sp_reloaded_from_below_sp_replays_the_bytes_the_witness_chose(prove):
    # The campaign's callbackasm1 "sp-unwritten" mutant: the engine names each byte below RSP on its own
    # (below-rsp#1.stack-0x9 ... -0x10); a replay that took only one of them as the word did not reproduce.
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	MOVQ	-8(SP), SP	// below the entry RSP: whatever the OS left there
        	MOVQ	$0, (SP)
        	RET
        """, callees="")
    (x,) = refuted(v, "writes-owned-memory")
    assert any(name.startswith("below-rsp#1.stack-") for name in x.inputs), x.inputs


def test_a_declared_callee_write_through_a_host_value_is_refuted(prove):
    # The campaign's callbackasm1 mutant without LEAQ 24(SP), AX: the frame argument is the host's value,
    # and the callee writes a result through it (it faulted in every concrete run; PROVED before).
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	SUBQ	$24, SP
        	MOVQ	CX, 0(SP)	// should be the address of a slot of this frame
        	CALL	runtime·foo(SB)
        	ADDQ	$24, SP
        	RET
        """, callees=FOO + 'writes = [{ pointer_at = 0, offset = 8 }]\nwrites_reason = "test"\n')
    (x,) = refuted(v, "writes-owned-memory")
    assert "entry.rcx" in x.inputs, x.inputs


def test_a_default_callee_given_the_hosts_pointer_writes_host_memory(prove):
    # crosscall2's shape: the host's own pointer passed on is the host's business (printed as assumed).
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	SUBQ	$24, SP
        	MOVQ	CX, 0(SP)
        	CALL	runtime·foo(SB)
        	ADDQ	$24, SP
        	RET
        """)
    holds(v, "writes-owned-memory")


def test_a_write_through_a_host_register_is_refuted_into_the_callers_frame(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	MOVQ	$0, (BX)	// BX is the host's callee-saved value: it may point anywhere
        	RET
        """, callees="")
    (x,) = refuted(v, "writes-owned-memory")
    assert "entry.rbx" in x.inputs, x.inputs


def test_a_host_chosen_index_into_the_stack_is_refuted(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	SUBQ	$64, SP
        	MOVQ	$0, (SP)(CX*8)	// CX is the host's: the index can reach the caller's frame
        	ADDQ	$64, SP
        	RET
        """, callees="")
    refuted(v, "writes-owned-memory")


def test_a_write_through_what_a_callee_left_stays_unknown(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	SUBQ	$16, SP
        	CALL	runtime·foo(SB)
        	MOVQ	$0, 0x10000(DX)	// DX is the callee's: a gap in the model, not the host's doing
        	ADDQ	$16, SP
        	RET
        """)
    assert not [x for x in v.violations if x.obligation == "writes-owned-memory"], v.violations
    assert any(p.statuses.get("writes-owned-memory") == "unknown" for p in v.paths)


# --- 7. reads through an address the host chooses --------------------------------------------------

def test_a_read_through_a_host_pointer_is_a_fresh_value_and_an_assumption(prove, tmp_path, toolchain):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	MOVQ	8(DX), AX	// the host's pointer argument
        	MOVQ	8(DX), CX	// the same address: the same value
        	CMPQ	AX, CX
        	JEQ	ok
        	MOVQ	$0, BX	// unreachable: two reads of one address agree
        ok:
        	RET
        """, callees="")
    assert v.verdict is Verdict.PROVED, (v.violations, v.unknowns)
    assert any("entry.rdx" in a for a in v.host_reads), v.host_reads


def test_a_read_through_garbage_may_fault(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	SUBQ	$24, SP
        	MOVQ	8(SP), AX	// nobody wrote it
        	MOVQ	(AX), AX
        	ADDQ	$24, SP
        	RET
        """, callees="")
    refuted(v, "no-fault")


# --- 8. a write beyond the modelled part of the caller's frame ---------------------------------------

def test_a_write_far_above_the_entry_rsp_is_refuted(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	MOVQ	$0, 0x2000(SP)	// the caller's frame, beyond the window symabi lays out
        	RET
        """, callees="")
    refuted(v, "stack-writes-in-frame")


# --- 9. indirect calls -------------------------------------------------------------------------------

def test_a_call_through_an_input_declared_as_a_callee_clobbers_like_one(prove):
    # the 2016 crosscall2 called the Go function the host passed in CX
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	SUBQ	$8, SP
        	CALL	CX
        	ADDQ	$8, SP
        	RET
        """, callees='[callees."entry.rcx"]\nargs = 0\n')
    (x,) = refuted(v, "preserve-rbx")
    assert "entry.rcx#1.rbx" in x.inputs, x.inputs


def test_an_undeclared_indirect_call_is_unknown_and_says_what_to_declare(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	SUBQ	$8, SP
        	CALL	CX
        	ADDQ	$8, SP
        	RET
        """, callees="")
    assert v.verdict is Verdict.UNKNOWN
    assert any('[callees."entry.rcx"]' in u.reason for u in v.unknowns), v.unknowns


# --- the model itself --------------------------------------------------------------------------------

def test_a_world_that_contradicts_the_entry_convention_is_an_error(prove):
    # RSP bound to 0 contradicts "RSP is 8 mod 16": no execution is left, so nothing may be PROVED
    with pytest.raises(CaseError, match="contradict"):
        prove("""
            TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
            	RET
            """, callees="", world=WORLD + '[entry_convention]\nregisters = { rsp = "0" }\n')


def test_a_world_entered_on_another_stack_repeats_only_a_wider_world():
    # a configuration entered on g0's stack has fewer executions: it may reuse a wider world's paths that
    # never touched that stack, never the other way round
    from symabi.casefile import FieldSpec
    from symabi.models.world import Choice, Configuration
    from symabi.prover import _repeats

    spec = FieldSpec("m+0x58", ("g", "g0"), ("g ≠ g0", "g = g0"), running_on=("", "g0stack"))
    wide = Configuration((Choice(spec, "m", 0x58, "g", "g ≠ g0"),))
    narrow = Configuration((Choice(spec, "m", 0x58, "g", "g ≠ g0", running_on="g0stack"),))
    assert _repeats(narrow, wide, frozenset(), frozenset({"m"}))
    assert not _repeats(narrow, wide, frozenset(), frozenset({"g0stack"}))
    assert not _repeats(wide, narrow, frozenset(), frozenset())


def test_a_refutation_resting_on_host_memory_replays_with_that_memory_laid_out(prove):
    v = prove("""
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	MOVQ	16(R8), BX	// RBX restored from the host's memory: not its entry value
        	RET
        """, callees="")
    (x,) = refuted(v, "preserve-rbx")
    assert any(name.startswith("host-mem[") for name in x.origin), x.origin
