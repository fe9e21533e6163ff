"""End-to-end verdicts on sigtramp, callbackasm1 and tstart_stdcall (issue 3), through the prover.

The shipped cases are proved once per module (both versions and old ≡ new); each mutant copies a case,
applies exact one-occurrence edits to its new version and proves only what the test needs. Every result
goes through ``_accounted``: no path may be lost, and nothing is PROVED because a path stopped early.
"""

from __future__ import annotations

from collections import Counter

import pytest

from symabi.casefile import parse_case
from symabi.errors import AssemblerError
from symabi.prover import prove_case
from symabi.verdicts import Verdict

from conftest import CASES, mutate

pytestmark = pytest.mark.slow

GPRS = ("rbx", "rbp", "rdi", "rsi", "r12", "r13", "r14", "r15")
XMM6_15 = tuple(f"xmm{i}" for i in range(6, 16))
NONVOLATILE = GPRS + XMM6_15
ENTRIES = ("runtime.exceptiontramp", "runtime.firstcontinuetramp", "runtime.lastcontinuetramp")
HANDLERS = dict(zip(ENTRIES, ("runtime.exceptionhandler", "runtime.firstcontinuehandler",
                              "runtime.lastcontinuehandler")))
REGS_HOST_TO_ABI0_STACK = 28 * 8 + 8  # cgo/abi_amd64.h: what PUSH_REGS_HOST_TO_ABI0 takes from the stack

H, S = "new/cgo/abi_amd64.h", "new/sys_windows_amd64.s"
CLD = "\tCLD\t\t\t\\\n"  # the CLD line of PUSH_REGS_HOST_TO_ABI0
ONE_ENTRY = ("case.toml", 'entry = ["runtime.exceptiontramp", "runtime.firstcontinuetramp", "runtime.lastcontinuetramp"]',
             'entry = "runtime.exceptiontramp"')  # old ≡ new mutants of sigtramp<>'s shared body need one entry


def _prove(case_dir, toolchain, versions=None):
    return prove_case(parse_case(case_dir), toolchain, versions)


def _label(entry: str, words: str) -> str:
    return f"{entry}, {words}"


def _not_reproduced(version, path, obligation: str) -> bool:
    """The model's counterexample did not replay, so the obligation is UNKNOWN on that path (honestly)."""
    return path.statuses[obligation] == "unknown" and any(
        u.path == path.index and u.obligation == obligation and "not reproduced" in u.reason for u in version.unknowns)


def _accounted(version):
    """Every path is accounted for and the verdict follows from what each path showed.

    A path ends returned, aborted, faulted, escaped or unknown; an escaped path violates return-to-caller,
    a faulted one no-fault; an unknown path holds nothing; PROVED only if every path returned or aborted
    and every obligation held.
    """
    assert version.paths, f"{version.name}: no paths at all"
    assert [p.index for p in version.paths] == list(range(len(version.paths)))
    statuses = []
    for p in version.paths:
        assert p.kind in {"returned", "aborted", "faulted", "escaped", "unknown"}, p
        assert set(p.statuses.values()) <= {"holds", "violated", "unknown", "n/a"}, p
        statuses += p.statuses.values()
        if p.kind == "returned":
            assert p.statuses["return-to-caller"] == "holds", p
        elif p.kind in ("aborted", "faulted"):
            assert p.statuses["return-to-caller"] == "n/a" and p.statuses["restore-rsp"] == "n/a", p
            assert p.statuses["no-fault"] == ("violated" if p.kind == "faulted" else "holds") \
                or _not_reproduced(version, p, "no-fault"), (
                p, [u.reason for u in version.unknowns if u.path == p.index and u.obligation == "no-fault"])
        elif p.kind == "escaped":
            assert p.statuses["return-to-caller"] == "violated" or _not_reproduced(version, p, "return-to-caller"), p
        else:
            assert set(p.statuses.values()) <= {"unknown", "violated"}, f"an unfinished path proved something: {p}"
            assert p.reason
    for v in version.violations:
        assert version.paths[v.path].statuses[v.obligation] == "violated"
    for u in version.unknowns:
        assert version.paths[u.path].statuses[u.obligation] == "unknown"
    expected = (Verdict.REFUTED if "violated" in statuses else Verdict.UNKNOWN if "unknown" in statuses
                else Verdict.PROVED)
    assert version.verdict is expected
    if version.verdict is Verdict.PROVED:
        assert {p.kind for p in version.paths} <= {"returned", "aborted"}
        assert not version.violations and not version.unknowns and not version.error


def _kinds(version) -> Counter:
    return Counter((p.label, p.kind) for p in version.paths)


def _violated(version) -> dict[str, set[str]]:
    """path label -> obligation ids violated on it (labels of paths with no violation are left out)."""
    out: dict[str, set[str]] = {}
    for v in version.violations:
        out.setdefault(version.paths[v.path].label, set()).add(v.obligation)
    return out


def _texts(path) -> list[str]:
    return [line.text for line in path.lines]


# badsignal2 RETURNS in the 2021 code (it only writes a message): sigtramp then reads g_m(DX) through
# whatever DX it left. Where that can be null the path faults (no-fault fails, a real finding of the
# model that no longer takes the case's old "noreturn" at its word); elsewhere the read is uncovered.
G_NIL_FAULT = "TLS set, g = nil: a read through an address computed from runtime.badsignal2#1.rdx, which can be null: a page fault"
G_NIL_STOPPED = "TLS set, g = nil: analysis stopped"
BADSIGNAL2 = {_label(e, G_NIL_FAULT): {"no-fault"} for e in ENTRIES}


def _violated_beyond_badsignal2(version) -> dict[str, set[str]]:
    """_violated without the g = nil paths' no-fault (every sigtramp version has it: see BADSIGNAL2)."""
    out = _violated(version)
    for label, obligations in BADSIGNAL2.items():
        assert out.get(label, set()) >= obligations, (label, out.get(label))
        rest = out.pop(label) - obligations
        if rest:
            out[label] = rest
    return out


def _new_mutant(case_copy, toolchain, name, *edits):
    case = case_copy(name)
    for file, old, new in edits:
        mutate(case / file, old, new)
    (new,) = _prove(case, toolchain, ["new"]).versions
    _accounted(new)
    return new


def _both_mutant(case_copy, toolchain, name, *edits):
    case = case_copy(name)
    for file, old, new in edits:
        mutate(case / file, old, new)
    result = _prove(case, toolchain)
    for version in result.versions:
        _accounted(version)
    return result


# --- the shipped cases, both versions and old ≡ new, proved once per module -------------------------

@pytest.fixture(scope="module")
def sigtramp(toolchain):
    return _prove(CASES / "sigtramp", toolchain)


@pytest.fixture(scope="module")
def callbackasm1(toolchain):
    return _prove(CASES / "callbackasm1", toolchain)


@pytest.fixture(scope="module")
def tstart(toolchain):
    return _prove(CASES / "tstart_stdcall", toolchain)


def test_new_sigtramp_holds_everywhere_but_where_badsignal2_returns(sigtramp):
    _, new = sigtramp.versions
    assert new.name == "new" and new.verdict is Verdict.REFUTED
    _accounted(new)
    assert _kinds(new) == Counter({
        **{(_label(e, "no TLS: returns to the caller"), "returned"): 1 for e in ENTRIES},
        **{(_label(e, G_NIL_FAULT), "faulted"): 1 for e in ENTRIES},
        **{(_label(e, G_NIL_STOPPED), "unknown"): 1 for e in ENTRIES},
        **{(_label(e, "TLS set, g ≠ g0: returns to the caller"), "returned"): 1 for e in ENTRIES},
        **{(_label(e, "TLS set, g = g0: returns to the caller"), "returned"): 1 for e in ENTRIES},
    })
    assert _violated(new) == BADSIGNAL2
    for v in new.violations:  # a witness where badsignal2 leaves DX near null, confirmed by the oracle
        assert v.replay == "confirmed" and v.site.text == "MOVQ 48(DX), BX"
        assert (int(v.inputs["runtime.badsignal2#1.rdx"], 16) + 0x30) % 2**64 < 0x10000  # the address wraps
    for p in new.paths:
        texts = _texts(p)
        if p.kind in ("faulted", "unknown"):
            assert "CALL runtime.badsignal2(SB)" in texts
            assert p.statuses["df-clear-at-call"] == ("holds" if p.kind == "faulted" else "unknown")
            assert {p.statuses[f"preserve-{r}"] for r in NONVOLATILE} <= {"n/a", "unknown"}
        else:
            assert set(p.statuses.values()) == {"holds"}
            assert texts[-1] == "RET"
        # the words name the branch the code really took: only g ≠ g0 switches to g0's stack
        assert ("MOVQ DI, SP" in texts) == ("g ≠ g0" in p.label)
        assert any(t.startswith("CALL R15") for t in texts) == ("g ≠ g0" in p.label or "g = g0" in p.label)


def test_old_sigtramp_loses_exactly_xmm6_to_xmm15_after_the_handler(sigtramp):
    old, _ = sigtramp.versions
    assert old.name == "old" and old.verdict is Verdict.REFUTED
    _accounted(old)
    assert {(v.obligation, v.location) for v in old.violations} == {
        (f"preserve-{x}", x) for x in XMM6_15} | {("no-fault", "fault")}
    # the same paths as the new version; the XMM registers are lost exactly where a handler runs
    assert {p.label for p in old.paths} == {p.label for p in sigtramp.versions[1].paths}
    handler_paths = {_label(e, f"TLS set, {g}: returns to the caller") for e in ENTRIES for g in ("g ≠ g0", "g = g0")}
    assert _violated_beyond_badsignal2(old) == {label: {f"preserve-{x}" for x in XMM6_15} for label in handler_paths}
    for v in old.violations:
        assert v.replay == "confirmed"
        if v.obligation == "no-fault":
            continue
        assert len(v.entry) == len(v.exit) == 2 + 32 and v.entry != v.exit  # all 128 bits
        assert v.site.text == "RET" and "/old/" in v.site.location
        entry = old.paths[v.path].label.split(",")[0]
        assert f"{HANDLERS[entry]}#1.{v.location}" in v.inputs  # the handler's clobber is the witness


def test_new_callbackasm1_is_proved(callbackasm1):
    _, new = callbackasm1.versions
    assert new.verdict is Verdict.PROVED
    _accounted(new)
    assert _kinds(new) == Counter({("returns to the caller", "returned"): 1})
    assert set(new.paths[0].statuses.values()) == {"holds"}


def test_old_callbackasm1_loses_exactly_xmm6_to_xmm15(callbackasm1):
    old, _ = callbackasm1.versions
    assert old.verdict is Verdict.REFUTED
    _accounted(old)
    assert {(v.obligation, v.location) for v in old.violations} == {(f"preserve-{x}", x) for x in XMM6_15}
    for v in old.violations:
        assert len(v.entry) == len(v.exit) == 2 + 32 and v.entry != v.exit
        assert v.site.text == "RET"
        assert f"runtime.cgocallback#1.{v.location}" in v.inputs


def test_new_tstart_stdcall_is_proved(tstart):
    _, new = tstart.versions
    assert new.verdict is Verdict.PROVED
    _accounted(new)
    assert _kinds(new) == Counter({("returns to the caller", "returned"): 1})
    assert set(new.paths[0].statuses.values()) == {"holds"}


def test_old_tstart_stdcall_preserves_no_callee_saved_register(tstart):
    """Read from the code: the old tstart_stdcall saves nothing. It overwrites SI itself (LEAQ m_tls(CX), SI),
    and runtime·mstart, an ABI0 function that runs the scheduler, may clobber every other GPR and every XMM
    register. It has no frame (NOFRAME, CALL/RET balanced), so RSP and the return hold; CLD before the calls
    and a callee that returns DF clear keep DF clear; it writes no stack. So exactly the 18 callee-saved
    registers of the Windows x64 ABI fail, and nothing else."""
    old, _ = tstart.versions
    assert old.verdict is Verdict.REFUTED
    _accounted(old)
    assert {(v.obligation, v.location) for v in old.violations} == {(f"preserve-{r}", r) for r in NONVOLATILE}
    (path,) = old.paths
    assert path.kind == "returned"
    assert {ob for ob, s in path.statuses.items() if s == "holds"} >= {
        "restore-rsp", "return-to-caller", "df-clear-at-return", "df-clear-at-call", "stack-writes-in-frame"}
    for v in old.violations:
        assert v.site.text == "RET" and v.entry != v.exit
        assert len(v.entry) == 2 + (32 if v.location.startswith("xmm") else 16)


# --- old ≡ new on the shipped cases -------------------------------------------------------------------

def test_tstart_stdcall_equivalence_differs_by_232_bytes_on_g0_stack_bounds(tstart):
    eq = tstart.equivalence
    assert eq.verdict is Verdict.PROVED and not eq.reason
    assert not [d for d in eq.differences if d.kind == "behavioural"]
    layout = [d for d in eq.differences if d.kind == "stack-layout"]
    # g0.stack.lo, .hi, stackguard0 and stackguard1, as every call and the end see them
    assert {d.what for d in layout} == {
        f"g0+{off:#x} {when}" for off in (0x0, 0x8, 0x10, 0x18)
        for when in ("before call 1 (runtime.stackcheck)", "before call 2 (runtime.mstart)", "at the end")}
    # the new version lays g0's stack out below the 232 bytes PUSH_REGS_HOST_TO_ABI0 took
    assert {d.stack_delta for d in layout} == {REGS_HOST_TO_ABI0_STACK} == {232}
    for d in layout:
        assert int(d.old, 16) - int(d.new, 16) == 232
        if d.what.startswith("g0+0x8 "):  # stack.hi: the entry RSP itself in the old version
            assert int(d.old, 16) == int(d.inputs["entry.rsp"], 16)
    assert {d.what for d in eq.differences if d.kind == "contract-fix"} == {f"{r.upper()} at return" for r in NONVOLATILE}


def test_sigtramp_equivalence_is_only_the_xmm_contract_fix(sigtramp):
    eq = sigtramp.equivalence
    # the g = nil paths that read through badsignal2's DX are unfinished in both versions: not a proof
    assert eq.verdict is Verdict.UNKNOWN and eq.reason
    # the g0 frames differ in layout, but below g0.sched.sp: free stack, not observable
    assert {d.kind for d in eq.differences} == {"contract-fix"}
    assert {d.what for d in eq.differences} == {f"{x.upper()} at return" for x in XMM6_15}


def test_callbackasm1_equivalence_is_the_xmm_fix_and_a_moved_frame(callbackasm1):
    eq = callbackasm1.equivalence
    assert eq.verdict is Verdict.PROVED and not eq.reason
    assert not [d for d in eq.differences if d.kind == "behavioural"]
    (layout,) = [d for d in eq.differences if d.kind == "stack-layout"]
    # &callbackArgs moves down by the new register area (232) less the old one (PUSHFQ + 64)
    assert layout.what == "call 1 (runtime.cgocallback) argument word 1 (frame+0x8)"
    assert layout.stack_delta == REGS_HOST_TO_ABI0_STACK - (8 + 64) == 160
    assert {d.what for d in eq.differences if d.kind == "contract-fix"} == {f"{x.upper()} at return" for x in XMM6_15}


# --- mutants of the new sigtramp ----------------------------------------------------------------------

SIG_HANDLER_PATHS = {_label(e, f"TLS set, {g}: returns to the caller") for e in ENTRIES for g in ("g ≠ g0", "g = g0")}


def test_sigtramp_dropped_xmm_restore_is_refuted_where_a_handler_ran(case_copy, toolchain):
    new = _new_mutant(case_copy, toolchain, "sigtramp", (H, "\tMOVUPS\t(20*8)(SP), X12\t\\\n", ""))
    assert new.verdict is Verdict.REFUTED
    assert {(v.obligation, v.location) for v in new.violations} == {("preserve-xmm12", "xmm12"), ("no-fault", "fault")}
    # no TLS: nothing touched X12; g = nil: no handler runs; every handler path loses it
    assert _violated_beyond_badsignal2(new) == {label: {"preserve-xmm12"} for label in SIG_HANDLER_PATHS}
    assert all(len(v.exit) == 2 + 32 and v.site.text == "RET" for v in new.violations if v.obligation != "no-fault")


def test_sigtramp_saved_sp_slot_moved_on_g0_leaves_the_switch_paths_unknown(case_copy, toolchain):
    """MOVQ SP, 48(DI): the old SP goes one slot too high on g0's stack, and after the handler
    MOVQ 40(SP), SP loads a word of g0's free stack that nobody wrote. RSP is then a value no region
    covers, and the next load through it (MOVQ 32(SP), DX) stops the path: UNKNOWN, never PROVED. The
    engine does not pick a value for an unconstrained pointer, so there is no witness to REFUTE with."""
    new = _new_mutant(case_copy, toolchain, "sigtramp", (S, "MOVQ\tSP, 40(DI)", "MOVQ\tSP, 48(DI)"))
    assert new.verdict is Verdict.REFUTED and not _violated_beyond_badsignal2(new)
    stopped = [p for p in new.paths if p.kind == "unknown" and G_NIL_STOPPED not in p.label]
    assert {p.label for p in stopped} == {_label(e, "TLS set, g ≠ g0: analysis stopped") for e in ENTRIES}
    for p in stopped:
        assert "uncovered memory access" in p.reason and "init.g0stack+" in p.reason
    assert {u.site.text for u in new.unknowns if u.path in {p.index for p in stopped}} == {"MOVQ 32(SP), DX"}
    assert len(new.paths) == 15


def test_sigtramp_saved_sp_slot_moved_in_its_own_frame_overwrites_the_saved_di(case_copy, toolchain):
    """MOVQ SP, 48(SP): 48(SP) is the first word of PUSH_REGS_HOST_TO_ABI0's area, the saved DI. On the
    switch path the g0 copy (40(DI)) brings SP back and DI returns as that SP (entry RSP - 0x118); on the
    g = g0 path MOVQ 40(SP), SP reads a slot never written: garbage, and the first read through it may fault."""
    new = _new_mutant(case_copy, toolchain, "sigtramp", (S, "MOVQ\tSP, 40(SP)", "MOVQ\tSP, 48(SP)"))
    assert new.verdict is Verdict.REFUTED
    garbage_sp = ("TLS set, g = g0: a read through an address computed from init.stack-0xf0, taken from memory "
                  "nobody wrote, which can be null: a page fault")
    violated = _violated_beyond_badsignal2(new)
    for e in ENTRIES:
        assert violated.pop(_label(e, "TLS set, g ≠ g0: returns to the caller")) == {"preserve-rdi"}
        assert violated.pop(_label(e, garbage_sp)) == {"no-fault"}
    # where the garbage SP does not fault, everything it pops is garbage too (flags, registers): what else the
    # solver refutes there, and replay confirms, depends on the witness; it stays on the g = g0 paths
    assert all(", TLS set, g = g0: " in label for label in violated), violated
    for v in new.violations:
        if v.obligation == "preserve-rdi":
            assert int(v.exit, 16) == int(v.inputs["entry.rsp"], 16) - 0x118


def test_sigtramp_dropped_sp_restore_returns_on_g0_stack_or_escapes(case_copy, toolchain):
    """Without MOVQ 40(SP), SP the switch path pops the registers and the return address from g0's
    stack: where that word is not the caller's return address control escapes; where it is, RSP is left on
    g0's stack (g0.sched.sp + 8) and every register comes from g0's stack. POPFQ pops an unknown word of
    g0's stack, so where its TF bit is set the CPU traps (an aborted path)."""
    new = _new_mutant(case_copy, toolchain, "sigtramp", (S, "\tMOVQ\t40(SP), SP\n", ""))
    assert new.verdict is Verdict.REFUTED
    kinds = _kinds(new)
    for e in ENTRIES:
        assert kinds[(_label(e, "TLS set, g ≠ g0: escapes"), "escaped")] >= 1
        assert kinds[(_label(e, "TLS set, g ≠ g0: returns to the caller"), "returned")] >= 1
        assert kinds[(_label(e, "TLS set, g = g0: returns to the caller"), "returned")] == 1
        assert kinds[(_label(e, "no TLS: returns to the caller"), "returned")] == 1
        assert kinds[(_label(e, "TLS set, g ≠ g0: POPFQ sets the trap flag: the CPU traps (#DB)"), "faulted")] >= 1
    violated = _violated_beyond_badsignal2(new)
    assert set(violated) == {_label(e, w) for e in ENTRIES for w in (
        "TLS set, g ≠ g0: escapes", "TLS set, g ≠ g0: returns to the caller",
        "TLS set, g ≠ g0: POPFQ sets the trap flag: the CPU traps (#DB)")}
    for v in new.violations:
        g0_sp = int(v.inputs.get("world.g0stack", "0"), 16) + 0x8000
        if v.obligation == "return-to-caller":
            assert v.location == "return_address" and v.site.text == "RET"
            assert "init.g0stack+0x8000" in v.inputs  # the word RET popped from g0's stack
        if v.obligation == "restore-rsp":
            assert int(v.exit, 16) == g0_sp + 8
    assert violated[_label(ENTRIES[0], "TLS set, g ≠ g0: returns to the caller")] >= {
        "restore-rsp", *(f"preserve-{r}" for r in NONVOLATILE)}


def test_sigtramp_one_adjsp_changed_is_rejected_by_the_assembler(case_copy, toolchain):
    case = case_copy("sigtramp")
    mutate(case / S, "ADJSP\t$48", "ADJSP\t$40")
    with pytest.raises(AssemblerError, match="unbalanced PUSH/POP"):
        _prove(case, toolchain, ["new"])


def test_sigtramp_smaller_frame_puts_the_saved_sp_over_the_saved_di(case_copy, toolchain):
    # ADJSP $40 / $-40 (both, so the assembler's balance check passes): 40(SP), where the old SP is
    # saved, is now the saved DI, on every path that gets as far as a handler call.
    new = _new_mutant(case_copy, toolchain, "sigtramp", (S, "ADJSP\t$48", "ADJSP\t$40"), (S, "ADJSP\t$-48", "ADJSP\t$-40"))
    assert new.verdict is Verdict.REFUTED
    assert _violated_beyond_badsignal2(new) == {label: {"preserve-rdi"} for label in SIG_HANDLER_PATHS}
    for v in (v for v in new.violations if v.obligation == "preserve-rdi"):
        assert int(v.exit, 16) == int(v.inputs["entry.rsp"], 16) - 0x110  # the SP that was saved


@pytest.mark.parametrize("name", ["sigtramp", "callbackasm1", "tstart_stdcall"])
def test_removed_cld_is_still_proved(case_copy, toolchain, name):
    # The Windows x64 convention has DF clear at entry (printed as an assumption): the macro's CLD is
    # defensive, and removing it changes nothing that can be observed.
    new = _new_mutant(case_copy, toolchain, name, (H, CLD, ""))
    if name == "sigtramp":  # sigtramp's g = nil paths fail no-fault with or without the CLD
        assert not _violated_beyond_badsignal2(new)
    else:
        assert new.verdict is Verdict.PROVED


def test_sigtramp_std_instead_of_cld_is_refuted_at_every_call(case_copy, toolchain):
    new = _new_mutant(case_copy, toolchain, "sigtramp", (H, CLD, "\tSTD\t\t\t\\\n"))
    assert new.verdict is Verdict.REFUTED
    # every path that calls Go, badsignal2's included; POPFQ gives the caller its clear DF back
    calls = {_label(e, w) for e in ENTRIES for w in (G_NIL_FAULT, G_NIL_STOPPED)} | SIG_HANDLER_PATHS
    assert _violated_beyond_badsignal2(new) == {label: {"df-clear-at-call"} for label in calls}
    assert {(v.entry, v.exit) for v in new.violations if v.obligation != "no-fault"} == {("clear", "set")}
    assert {v.site.text for v in new.violations if v.obligation != "no-fault"} == {
        "CALL runtime.badsignal2(SB)", "CALL R15"}
    assert all(p.statuses["df-clear-at-return"] == "holds" for p in new.paths if p.kind == "returned")


# old ≡ new mutants of sigtramp<>'s shared body: one entry is enough and three times faster

def test_sigtramp_result_from_the_wrong_word_is_a_behavioural_difference(case_copy, toolchain):
    # MOVL 16(SP), AX reads the handler's gp argument word instead of its int32 result: no contract cares
    result = _both_mutant(case_copy, toolchain, "sigtramp", ONE_ENTRY, (S, "MOVL\t24(SP), AX", "MOVL\t16(SP), AX"))
    assert {v.obligation for v in result.versions[1].violations} == {"no-fault"}
    eq = result.equivalence
    assert eq.verdict is Verdict.REFUTED
    assert [d.what for d in eq.differences if d.kind == "behavioural"] == ["result (EAX)"]


def test_sigtramp_dropped_g_restore_is_a_behavioural_difference(case_copy, toolchain):
    # After a stack switch m.tls[0] must name the interrupted g again; left as g0 the contract cannot
    # see it (runtime state, not the caller's), old ≡ new can.
    result = _both_mutant(case_copy, toolchain, "sigtramp", ONE_ENTRY, (S, "\tget_tls(BP)\n\tMOVQ\tDX, g(BP)\n", ""))
    assert {v.obligation for v in result.versions[1].violations} == {"no-fault"}
    eq = result.equivalence
    assert eq.verdict is Verdict.REFUTED
    (d,) = [d for d in eq.differences if d.kind == "behavioural"]
    assert d.what == "m+0x58 at the end"
    assert (int(d.old, 16), int(d.new, 16)) == (int(d.inputs["world.g"], 16), int(d.inputs["world.g0"], 16))


def test_sigtramp_frame_above_g0_sched_sp_is_refuted_and_differs(case_copy, toolchain):
    """SUBQ $16, DI instead of $(REGS_HOST_TO_ABI0_STACK + 48): the handler's frame and the saved SP land
    above g0.sched.sp, over g0's live frames. The stack-writes obligation covers the other stack the world
    declares (its free space ends at g0.sched.sp), and old ≡ new reports the writes too."""
    result = _both_mutant(case_copy, toolchain, "sigtramp", ONE_ENTRY,
                          (S, "SUBQ\t$(REGS_HOST_TO_ABI0_STACK + 48), DI", "SUBQ\t$16, DI"))
    assert result.versions[1].verdict is Verdict.REFUTED
    assert {v.obligation for v in result.versions[1].violations} == {"stack-writes-in-frame", "no-fault"}
    eq = result.equivalence
    assert eq.verdict is Verdict.REFUTED
    behavioural = {d.what for d in eq.differences if d.kind == "behavioural"}
    assert "g0stack+0x8000 before call 1 (runtime.exceptionhandler)" in behavioural
    assert {"g0stack+0x8000 at the end", "g0stack+0x8018 at the end"} <= behavioural
    assert all(w.startswith("g0stack+0x80") for w in behavioural)


# --- mutants of the new callbackasm1 ------------------------------------------------------------------

def test_callbackasm1_dropped_r15_restore_is_refuted(case_copy, toolchain):
    new = _new_mutant(case_copy, toolchain, "callbackasm1", (H, "\tMOVQ\t(7*8)(SP), R15\t\\\n", ""))
    assert new.verdict is Verdict.REFUTED
    (v,) = new.violations
    assert (v.obligation, v.location) == ("preserve-r15", "r15")
    assert "runtime.cgocallback#1.r15" in v.inputs and v.site.text == "RET"


def test_callbackasm1_smaller_frame_alone_returns_through_the_spilled_cx(case_copy, toolchain):
    """SUBQ $(16+callbackArgs__size) with the ADDQ unchanged: SP comes back 8 bytes too high, the pops
    read the wrong slots, POPFQ pops the caller's return address and RET pops the first home-area word,
    where callbackasm1 spilled CX. Control goes wherever CX pointed (escaped); if CX happened to be the
    return address, RSP is 8 bytes too high and every callee-saved register comes from the wrong slot."""
    new = _new_mutant(case_copy, toolchain, "callbackasm1",
                      (S, "SUBQ\t$(24+callbackArgs__size), SP", "SUBQ\t$(16+callbackArgs__size), SP"))
    assert new.verdict is Verdict.REFUTED
    kinds = _kinds(new)
    # the second escape runs on through memory the host's R9 points to: its witness does not replay
    assert kinds[("escapes", "escaped")] in (1, 2) and kinds[("returns to the caller", "returned")] == 1
    # POPFQ pops the caller's return address, whose bit 8 (TF) reality leaves free: a trap
    assert kinds[("POPFQ sets the trap flag: the CPU traps (#DB)", "faulted")] == 1
    assert set(kinds) - {("escapes", "escaped"), ("returns to the caller", "returned"),
                         ("POPFQ sets the trap flag: the CPU traps (#DB)", "faulted")} <= {("analysis stopped", "unknown")}
    violated = _violated(new)
    # on the second escape POPFQ popped a word whose DF bit can be set, and cgocallback is then called with it
    assert {"return-to-caller"} <= violated["escapes"] <= {"return-to-caller", "df-clear-at-call"}
    # ... and POPFQ took DF from the return address's bit 10
    assert violated["returns to the caller"] == {"restore-rsp", "df-clear-at-return",
                                                 *(f"preserve-{r}" for r in NONVOLATILE)}
    (escape,) = [v for v in new.violations if v.obligation == "return-to-caller"]
    assert int(escape.exit, 16) == int(escape.inputs["entry.rcx"], 16)
    (rsp,) = [v for v in new.violations if v.obligation == "restore-rsp"]
    assert int(rsp.exit, 16) - int(rsp.entry, 16) == 8 + 8


def test_callbackasm1_smaller_frame_lets_callbackwrap_overwrite_the_saved_di(case_copy, toolchain):
    # Both adjustments 24 -> 16: callbackArgs (24(SP), 32 bytes) now ends 8 bytes into the saved
    # registers, and callbackWrap's store of retPop (callbackArgs+24) lands on the saved DI.
    new = _new_mutant(case_copy, toolchain, "callbackasm1",
                      (S, "SUBQ\t$(24+callbackArgs__size), SP", "SUBQ\t$(16+callbackArgs__size), SP"),
                      (S, "ADDQ\t$(24+callbackArgs__size), SP", "ADDQ\t$(16+callbackArgs__size), SP"))
    assert new.verdict is Verdict.REFUTED
    (v,) = new.violations
    assert (v.obligation, v.location) == ("preserve-rdi", "rdi")
    assert int(v.exit, 16) == int(v.inputs["runtime.cgocallback#1.*frame+0x8+0x18"], 16)


def test_callbackasm1_keeping_the_table_return_address_escapes_into_the_table(case_copy, toolchain):
    # ADDQ $0, SP instead of $8: RET pops the address the table entry's CALL pushed (table + 5*(i+1)),
    # which the callback index chooses: a return into callbackasm, not to the C caller.
    new = _new_mutant(case_copy, toolchain, "callbackasm1", (S, "ADDQ\t$8, SP", "ADDQ\t$0, SP"))
    assert new.verdict is Verdict.REFUTED
    assert _kinds(new) == Counter({("escapes", "escaped"): 1})
    (v,) = new.violations
    assert (v.obligation, v.location, v.site.text) == ("return-to-caller", "return_address", "RET")
    assert "entry.callback_index" in v.inputs


def test_callbackasm1_wrong_ctxt_is_a_behavioural_difference(case_copy, toolchain):
    result = _both_mutant(case_copy, toolchain, "callbackasm1", (S, "MOVQ\t$0, 16(SP)", "MOVQ\t$1, 16(SP)"))
    assert result.versions[1].verdict is Verdict.PROVED
    eq = result.equivalence
    assert eq.verdict is Verdict.REFUTED
    (d,) = [d for d in eq.differences if d.kind == "behavioural"]
    assert d.what == "call 1 (runtime.cgocallback) argument word 2 (frame+0x10)"
    assert (int(d.old, 16), int(d.new, 16)) == (0, 1)


def test_callbackasm1_wrong_initial_result_is_a_behavioural_difference_in_the_pointee(case_copy, toolchain):
    # &callbackArgs differs only in stack layout; what it points to is compared word by word
    result = _both_mutant(case_copy, toolchain, "callbackasm1",
                          (S, "MOVQ\t$0, (24+callbackArgs_result)(SP)", "MOVQ\t$1, (24+callbackArgs_result)(SP)"))
    eq = result.equivalence
    assert eq.verdict is Verdict.REFUTED
    (d,) = [d for d in eq.differences if d.kind == "behavioural"]
    assert d.what == "call 1 (runtime.cgocallback) *(argument word 1)+0x10"
    assert (int(d.old, 16), int(d.new, 16)) == (0, 1)


# --- mutants of the new tstart_stdcall ----------------------------------------------------------------

@pytest.mark.parametrize("register, line", [
    ("rsi", "\tMOVQ\t(1*8)(SP), SI\t\\\n"),  # also overwritten by the function itself (LEAQ m_tls(CX), SI)
    ("xmm6", "\tMOVUPS\t(8*8)(SP), X6\t\\\n"),
], ids=["rsi", "xmm6"])
def test_tstart_dropped_restore_is_refuted(case_copy, toolchain, register, line):
    new = _new_mutant(case_copy, toolchain, "tstart_stdcall", (H, line, ""))
    assert new.verdict is Verdict.REFUTED
    (v,) = new.violations
    assert (v.obligation, v.location, v.site.text) == (f"preserve-{register}", register, "RET")


def test_tstart_tls_store_into_the_frame_overwrites_the_saved_r13(case_copy, toolchain):
    # MOVQ SI, 0x28(SP): 0x28(SP) is R13's slot (5*8) in PUSH_REGS_HOST_TO_ABI0's area, so R13 comes back
    # as &m.tls
    new = _new_mutant(case_copy, toolchain, "tstart_stdcall", (S, "MOVQ\tSI, 0x28(GS)", "MOVQ\tSI, 0x28(SP)"))
    assert new.verdict is Verdict.REFUTED
    (v,) = new.violations
    assert (v.obligation, v.location) == ("preserve-r13", "r13")
    assert int(v.exit, 16) == int(v.inputs["world.m"], 16) + 0x58


def test_tstart_tls_store_outside_the_teb_is_unknown(case_copy, toolchain):
    new = _new_mutant(case_copy, toolchain, "tstart_stdcall", (S, "MOVQ\tSI, 0x28(GS)", "MOVQ\tSI, 0x100(GS)"))
    assert new.verdict is Verdict.UNKNOWN
    (path,) = new.paths
    assert path.kind == "unknown" and "offset +0x100 is outside region teb" in path.reason
    assert {u.site.text for u in new.unknowns} == {"MOVQ SI, 256(GS)"}


def test_tstart_undeclared_callee_is_unknown(case_copy, toolchain):
    new = _new_mutant(case_copy, toolchain, "tstart_stdcall",
                      (S, "CALL\truntime·mstart(SB)", "CALL\truntime·mstart1(SB)"))
    assert new.verdict is Verdict.UNKNOWN
    (path,) = new.paths
    assert path.kind == "unknown" and "runtime.mstart1" in path.reason


def test_tstart_tls_store_redirected_in_the_teb_is_caught_only_by_equivalence(case_copy, toolchain):
    """MOVQ SI, 0x30(GS): the TLS slot stays unset, but the contract is about the caller's registers and
    stack, so the new version is still PROVED; old ≡ new sees the TEB word each version writes."""
    result = _both_mutant(case_copy, toolchain, "tstart_stdcall", (S, "MOVQ\tSI, 0x28(GS)", "MOVQ\tSI, 0x30(GS)"))
    assert result.versions[1].verdict is Verdict.PROVED
    eq = result.equivalence
    assert eq.verdict is Verdict.REFUTED
    behavioural = {d.what: d.detail for d in eq.differences if d.kind == "behavioural"}
    whens = ("before call 1 (runtime.stackcheck)", "before call 2 (runtime.mstart)", "at the end")
    assert set(behavioural) == {f"teb+{off:#x} {when}" for off in (0x28, 0x30) for when in whens}
    assert all(behavioural[f"teb+0x28 {w}"].startswith("only the old version writes") for w in whens)
    assert all(behavioural[f"teb+0x30 {w}"].startswith("only the new version writes") for w in whens)
    # the g0 stack-layout differences are still the 232 bytes of the shipped pair
    assert {d.stack_delta for d in eq.differences if d.kind == "stack-layout"} == {232}


def test_sigtramp_frame_built_over_g0s_live_frames_is_refuted(case_copy, toolchain):
    """SUBQ $16, DI instead of the whole frame: sigtramp's frame on g0's stack now reaches above
    g0.sched.sp, into the live frames of the code g0 was running. The world declares g0's free space
    (free_below), so the stack-writes obligation sees it, and the replay confirms it."""
    new = _new_mutant(case_copy, toolchain, "sigtramp",
                      (S, "SUBQ\t$(REGS_HOST_TO_ABI0_STACK + 48), DI", "SUBQ\t$16, DI"))
    assert new.verdict is Verdict.REFUTED
    assert {(v.obligation, v.location) for v in new.violations} == {("stack-writes-in-frame", "stack"), ("no-fault", "fault")}
    assert all("g0stack+0x8" in v.detail and "live frames" in v.detail for v in new.violations
               if v.obligation != "no-fault")
    assert all(v.replay == "confirmed" for v in new.violations)
