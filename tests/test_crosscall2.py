"""End-to-end verdicts on crosscall2 and its mutants, through the prover (real assembler, angr, Z3)."""

from __future__ import annotations

import pytest

from symabi.casefile import parse_case
from symabi.errors import AssemblerError
from symabi.prover import prove_case
from symabi.verdicts import Verdict

from conftest import CASES, mutate

pytestmark = pytest.mark.slow


def _prove(case_dir, toolchain, versions=None):
    return prove_case(parse_case(case_dir), toolchain, versions)


def test_new_crosscall2_is_proved(toolchain):
    result = _prove(CASES / "crosscall2", toolchain, ["new"])
    (new,) = result.versions
    assert new.verdict is Verdict.PROVED
    assert not new.violations and not new.unknowns
    assert [p.kind for p in new.paths] == ["returned"]


def test_removed_xmm_restore_is_refuted(case_copy, toolchain):
    case = case_copy("crosscall2")
    mutate(case / "new" / "abi_amd64.h", "\tMOVUPS\t(10*8)(SP), X7\t\\\n", "")
    (new,) = _prove(case, toolchain, ["new"]).versions
    assert new.verdict is Verdict.REFUTED
    assert {v.location for v in new.violations} == {"xmm7"}
    (v,) = new.violations
    assert v.entry != v.exit and len(v.entry) == 2 + 32
    assert v.site is not None and v.site.text == "RET"


def test_moved_save_slot_is_refuted(case_copy, toolchain):
    case = case_copy("crosscall2")
    # R12 saved over R13's slot: R13's save then overwrites it, so R12 comes back as R13.
    mutate(case / "new" / "abi_amd64.h", "MOVQ\tR12, (4*8)(SP)", "MOVQ\tR12, (5*8)(SP)")
    (new,) = _prove(case, toolchain, ["new"]).versions
    assert new.verdict is Verdict.REFUTED
    assert {v.location for v in new.violations} == {"r12"}


# --- the old version ---------------------------------------------------------------------------------


def test_old_crosscall2_is_proved(toolchain):
    """Read from the listing, not from history: the old Windows body saves BX R12-R15 DI SI X6-X15 in its
    0x110-byte frame above the 24 argument bytes cgocallback may overwrite, restores each one, and the
    assembler's frame-pointer prologue (PUSHQ BP ... POPQ BP, the case's deviation) saves BP. It never
    touches DF, which the Windows x64 caller leaves clear and an ABI0 callee returns clear, and it writes
    only below the entry RSP. So every obligation holds under the printed assumptions."""
    result = _prove(CASES / "crosscall2", toolchain, ["old"])
    (old,) = result.versions
    assert old.verdict is Verdict.PROVED
    assert not old.violations and not old.unknowns
    assert [p.kind for p in old.paths] == ["returned"]
    assert any("DF and TF are clear at entry; IF and RFLAGS bit 1 are set" in a for a in result.assumptions["entry convention windows-x64-call"])


def test_old_without_the_frame_pointer_loses_bp(case_copy, toolchain):
    case = case_copy("crosscall2")
    mutate(case / "old" / "asm_amd64.s", "NOSPLIT,$0x110-0", "NOSPLIT|NOFRAME,$0x110-0")
    (old,) = _prove(case, toolchain, ["old"]).versions
    assert old.verdict is Verdict.REFUTED
    assert {v.location for v in old.violations} == {"rbp"}


def test_old_removed_bx_restore_is_refuted(case_copy, toolchain):
    case = case_copy("crosscall2")
    mutate(case / "old" / "asm_amd64.s", "\tMOVQ\t0x18(SP), BX\n", "")
    (old,) = _prove(case, toolchain, ["old"]).versions
    assert old.verdict is Verdict.REFUTED
    (v,) = old.violations
    assert (v.obligation, v.location) == ("preserve-rbx", "rbx")
    assert v.site.text == "RET" and v.site.location.endswith("old/asm_amd64.s:71")


# --- mutants of the new version ----------------------------------------------------------------------

H, S = "abi_amd64.h", "asm_amd64.s"
GPR_RESTORES = {
    "rdi": "\tMOVQ\t(0*0)(SP), DI\t\\\n", "rsi": "\tMOVQ\t(1*8)(SP), SI\t\\\n",
    "rbp": "\tMOVQ\t(2*8)(SP), BP\t\\\n", "rbx": "\tMOVQ\t(3*8)(SP), BX\t\\\n",
    "r12": "\tMOVQ\t(4*8)(SP), R12\t\\\n", "r13": "\tMOVQ\t(5*8)(SP), R13\t\\\n",
    "r14": "\tMOVQ\t(6*8)(SP), R14\t\\\n", "r15": "\tMOVQ\t(7*8)(SP), R15\t\\\n",
}
XMM_RESTORES = {f"xmm{i}": f"\tMOVUPS\t({2 * i - 4}*8)(SP), X{i}\t\\\n" for i in range(6, 16)}
RET_LINE = "POP_REGS_HOST_TO_ABI0()\n\tRET"


def _new_mutant(case_copy, toolchain, *edits):
    case = case_copy("crosscall2")
    for file, old, new in edits:
        mutate(case / "new" / file, old, new)
    (new,) = _prove(case, toolchain, ["new"]).versions
    return new


@pytest.mark.parametrize("register", ["rbx", "rbp", "r15"])
def test_removed_gpr_restore_is_refuted(case_copy, toolchain, register):
    new = _new_mutant(case_copy, toolchain, (H, GPR_RESTORES[register], ""))
    assert new.verdict is Verdict.REFUTED
    (v,) = new.violations
    assert (v.obligation, v.location) == (f"preserve-{register}", register)
    assert v.entry != v.exit and len(v.entry) == 2 + 16
    assert v.site.text == "RET" and v.site.location.endswith("new/asm_amd64.s:51")
    assert any(k.startswith("runtime.cgocallback#1.") for k in v.inputs)  # the callee's clobber is the witness


def test_all_gpr_restores_removed_names_exactly_those(case_copy, toolchain):
    new = _new_mutant(case_copy, toolchain, *((H, line, "") for line in GPR_RESTORES.values()))
    assert new.verdict is Verdict.REFUTED
    assert {v.location for v in new.violations} == set(GPR_RESTORES)


def test_all_xmm_restores_removed_names_exactly_those(case_copy, toolchain):
    new = _new_mutant(case_copy, toolchain, *((H, line, "") for line in XMM_RESTORES.values()))
    assert new.verdict is Verdict.REFUTED
    assert {v.location for v in new.violations} == set(XMM_RESTORES)
    assert all(len(v.entry) == len(v.exit) == 2 + 32 for v in new.violations)


def test_removed_xmm15_restore_is_refuted(case_copy, toolchain):
    new = _new_mutant(case_copy, toolchain, (H, XMM_RESTORES["xmm15"], ""))
    assert new.verdict is Verdict.REFUTED
    assert {(v.obligation, v.location) for v in new.violations} == {("preserve-xmm15", "xmm15")}


def test_moved_xmm_save_slot_is_refuted(case_copy, toolchain):
    # X6 saved over X7's slot: X7's save overwrites it, and X6's own slot is never written
    new = _new_mutant(case_copy, toolchain, (H, "MOVUPS\tX6, (8*8)(SP)", "MOVUPS\tX6, (10*8)(SP)"))
    assert new.verdict is Verdict.REFUTED
    assert {v.location for v in new.violations} == {"xmm6"}


def test_smaller_argument_area_overlaps_the_saved_di(case_copy, toolchain):
    # ADJSP $0x10 (both of the pair, so the assembler's balance check passes): the third argument word,
    # 0x10(SP), is now the saved DI, overwritten by MOVQ R9 and then by cgocallback.
    new = _new_mutant(case_copy, toolchain, (S, "ADJSP\t$0x18", "ADJSP\t$0x10"),
                      (S, "ADJSP\t$-0x18", "ADJSP\t$-0x10"))
    assert new.verdict is Verdict.REFUTED
    (v,) = new.violations
    assert (v.obligation, v.location) == ("preserve-rdi", "rdi")


def test_larger_argument_area_is_proved(case_copy, toolchain):
    new = _new_mutant(case_copy, toolchain, (S, "ADJSP\t$0x18", "ADJSP\t$0x20"),
                      (S, "ADJSP\t$-0x18", "ADJSP\t$-0x20"))
    assert new.verdict is Verdict.PROVED


@pytest.mark.parametrize(
    "file, old, new",
    [
        (S, "ADJSP\t$0x18", "ADJSP\t$0x10"),  # only one of the pair
        (H, "\\\n\tPOPFQ\n", "\n"),  # the POPFQ removed: PUSHFQ's 8 bytes never come back
    ],
    ids=["one-adjsp", "no-popfq"],
)
def test_unbalanced_stack_is_rejected_by_the_assembler(case_copy, toolchain, file, old, new):
    # The Go assembler's own balance check refuses these; symabi points at the Windows TEXT line
    # (line 37: the #else branch), not the first TEXT crosscall2 in the file (line 14, non-Windows).
    case = case_copy("crosscall2")
    mutate(case / "new" / file, old, new)
    with pytest.raises(AssemblerError, match=r"new/asm_amd64\.s:37: crosscall2: unbalanced PUSH/POP"):
        _prove(case, toolchain, ["new"])


def test_removed_cld_is_still_proved(case_copy, toolchain):
    # DF is clear at entry (the Windows x64 convention, printed as an assumption), so CLD changes nothing
    # here; PUSHFQ/POPFQ still restore the caller's flags.
    new = _new_mutant(case_copy, toolchain, (H, "\tCLD\t\t\t\\\n", ""))
    assert new.verdict is Verdict.PROVED


def test_std_instead_of_cld_is_refuted_at_the_call(case_copy, toolchain):
    # DF set on entry to Go; POPFQ restores the caller's clear DF before RET, so only the call fails
    new = _new_mutant(case_copy, toolchain, (H, "\tCLD\t\t\t\\\n", "\tSTD\t\t\t\\\n"))
    assert new.verdict is Verdict.REFUTED
    (v,) = new.violations
    assert (v.obligation, v.location, v.entry, v.exit) == ("df-clear-at-call", "df", "clear", "set")
    assert v.site.text == "CALL runtime.cgocallback(SB)" and v.site.location.endswith("new/asm_amd64.s:47")


def test_popfq_replaced_by_a_stack_adjustment_is_proved(case_copy, toolchain):
    # Without POPFQ the arithmetic flags are not restored (they are volatile), and DF stays as CLD left it.
    new = _new_mutant(case_copy, toolchain, (H, "\\\n\tPOPFQ\n", "\\\n\tADJSP\t$-8\n"))
    assert new.verdict is Verdict.PROVED


def test_std_before_ret_is_refuted(case_copy, toolchain):
    new = _new_mutant(case_copy, toolchain, (S, RET_LINE, "POP_REGS_HOST_TO_ABI0()\n\tSTD\n\tRET"))
    assert new.verdict is Verdict.REFUTED
    (v,) = new.violations
    assert (v.obligation, v.location, v.exit) == ("df-clear-at-return", "df", "set")


def test_ret_replaced_by_jump_through_ax_is_refuted(case_copy, toolchain):
    new = _new_mutant(case_copy, toolchain, (S, RET_LINE, "POP_REGS_HOST_TO_ABI0()\n\tJMP\tAX"))
    assert new.verdict is Verdict.REFUTED
    # AX may be the caller's return address, cgocallback's own address (the code takes it: a tail call
    # back into it), or anything else
    assert {"escaped", "returned"} <= {p.kind for p in new.paths}
    assert {("return-to-caller", "return_address"), ("restore-rsp", "rsp")} <= {
        (v.obligation, v.location) for v in new.violations}
    escape = next(v for v in new.violations if v.obligation == "return-to-caller")
    assert escape.site.text == "JMP AX" and "runtime.cgocallback#1.rax" in escape.inputs


def test_ret_replaced_by_pop_and_jump_is_proved(case_copy, toolchain):
    # POPQ CX (as a BYTE, so the assembler's balance check does not see it); JMP CX: a RET in two steps
    new = _new_mutant(case_copy, toolchain, (S, RET_LINE, "POP_REGS_HOST_TO_ABI0()\n\tBYTE\t$0x59\n\tJMP\tCX"))
    assert new.verdict is Verdict.PROVED
