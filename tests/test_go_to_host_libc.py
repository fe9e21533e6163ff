"""The libc trampolines of darwin and openbsd (issue 13): registry families and the host-calls contract.

Each ``*_trampoline`` of sys_darwin_*.s and sys_openbsd_*.s is host code (entered by asmcgocall as a C
function) that calls libc: the port's host-entry contract plus, at each call of a ``libc_*`` callee, the
host-call obligations (symabi.contracts.host_calls.host_calls_contract). The registry states them as two families
(one entry per architecture whose ``case.entry`` is a pattern). Verdicts come from the prover over the
pinned tree's bytes; every refutation must be confirmed by the concrete oracle.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import mutate
from test_go_to_host import _registry
from test_go_to_host_arm64 import _gate as gate_one
from test_go_to_host_arm64 import gate_items

from symabi.errors import CaseError
from symabi.gate import registry
from symabi.ports import PORTS
from symabi.verdicts import Verdict

AMD64, ARM64 = "libc_trampolines_amd64", "libc_trampolines_arm64"


def _family(tmp_path: Path, key: str, names: tuple[str, ...]) -> Path:
    """The shipped family ``key`` alone, its pattern narrowed to the trampolines ``names`` (a few: fast)."""
    path = _registry(tmp_path / "registry.toml", key)
    patterns = ", ".join(f'"runtime.{n}_trampoline*"' for n in names)
    mutate(path, 'entry = "runtime.*_trampoline"', f"entry = [{patterns}]")
    return path


def _gate(tmp_path: Path, monkeypatch, port: str, key: str, names: tuple[str, ...], edit=None, source: str = ""):
    items = gate_items(tmp_path, monkeypatch, port, _family(tmp_path, key, names), edit, source)
    return {item.name.rpartition("/")[2]: item for item in items}


def _confirmed(item) -> None:
    assert item.outcome.violations and all(v.replay == "confirmed" for v in item.outcome.violations)


# --- the registry as data --------------------------------------------------------------------------

def test_each_family_is_one_entry_naming_its_trampolines_by_a_pattern():
    families = {e.name: e for e in registry.load() if e.family}
    assert set(families) == {"libc"}
    entries = [e for e in registry.load() if e.family]
    assert sorted(p for e in entries for p in e.ports) == sorted(
        ["darwin/amd64", "ios/amd64", "openbsd/amd64", "darwin/arm64", "ios/arm64", "openbsd/arm64"])
    e = entries[0]
    assert e.members(["runtime.mmap_trampoline", "runtime.sigfwd", "runtime.syscall6", "runtime.exit_trampoline"]) \
        == ["runtime.mmap_trampoline", "runtime.exit_trampoline"]
    assert all(e.table["case"]["contract"] == registry.HOST_CALLS for e in entries)


def test_a_callee_pattern_models_each_symbol_it_matches_and_a_named_table_wins():
    table = {"libc_exit": {"noreturn": True}, "libc_error": {"unstated": "why"}, "libc_*": {"doc": "libc"},
             "entry.stack+0x8": {"doc": "fn"}}
    callees, why = registry.callees_for(table, ["libc_exit", "libc_close", "runtime.other"])
    assert callees == {"libc_exit": {"noreturn": True}, "libc_close": {"doc": "libc"}, "entry.stack+0x8": {"doc": "fn"}}
    assert why == ""
    callees, why = registry.callees_for(table, ["libc_read", "libc_error"])
    assert why == "it calls libc_error: why" and "unstated" not in callees["libc_error"]


def test_host_calls_is_the_host_abis_contract_over_the_callees_of_the_host_model():
    from symabi.contracts import CONTRACTS

    given = {"libc_close": {"doc": "libc"}, "runtime.load_g": {"model": "go-abi0"}}
    amd64 = PORTS["darwin/amd64"]
    head, callees = registry.host_calls(amd64, {"contract": "host-calls"}, given)
    contract = CONTRACTS[head["contract"]]
    assert head["contract"] == "sysv-amd64+host-calls(libc_close)"
    assert [o.id for o in contract.obligations][-1] == "host-call-aligned"
    assert contract.obligations[-1].claim.callees == {"libc_close"}
    # on arm64 the host ABI itself owes SP 16-aligned at every BL (sp-aligned-at-call): nothing is added
    port = PORTS["darwin/arm64"]
    head, callees = registry.host_calls(port, {"contract": "host-calls"}, given)
    ids = [o.id for o in CONTRACTS[head["contract"]].obligations]
    assert head["contract"] == "darwin-arm64+host-calls(libc_close)"
    assert "sp-aligned-at-call" in ids and "host-call-aligned" not in ids
    assert set(callees["libc_close"]["keeps"]) == set(port.abi.callee_saved_registers)
    assert "keeps" not in callees["runtime.load_g"]
    with pytest.raises(CaseError, match="callee_model"):
        registry.host_calls(port, {"contract": "host-calls", "callee_model": "host"}, {})


# --- the pinned tree ----------------------------------------------------------------------------------

def test_darwin_amd64_trampolines_on_the_pinned_tree(tmp_path, monkeypatch):
    """close: PROVED; read reads errno through __error's result (the address of the errno region): PROVED;
    raiseproc keeps the signal in RBX across libc_getpid without saving the C caller's RBX (a finding,
    harmless under asmcgocall); syscallN keeps its argument pointer in R13 and its SP in R14, and its
    refutation replays only if the oracle's __error returns the errno region too (it reads errno after)."""
    items = _gate(tmp_path, monkeypatch, "darwin/amd64", AMD64, ("close", "read", "raiseproc", "syscallN"))
    assert set(items) == {"close_trampoline", "read_trampoline", "raiseproc_trampoline", "syscallN_trampoline"}
    syscall = items["syscallN_trampoline"]
    assert syscall.verdict is Verdict.REFUTED and set(syscall.failing) == {"preserve-r13", "preserve-r14"}, syscall
    _confirmed(syscall)
    assert items["close_trampoline"].verdict is Verdict.PROVED
    assert items["read_trampoline"].verdict is Verdict.PROVED, items["read_trampoline"].outcome.unknowns[:1]
    raiseproc = items["raiseproc_trampoline"]
    assert raiseproc.verdict is Verdict.REFUTED and raiseproc.failing == ("preserve-rbx",)
    _confirmed(raiseproc)


def test_a_callee_whose_result_is_not_a_world_address_lets_the_errno_read_fault(tmp_path, monkeypatch):
    """Without `returns_region`, __error's result is a fresh value, null included: the read of errno
    through it faults on some path (which the oracle confirms), so the registry must say what it returns."""
    path = _family(tmp_path, AMD64, ("read",))
    mutate(path, 'returns_region = "errno"\ndoc = "libSystem', 'doc = "libSystem')
    items = gate_items(tmp_path, monkeypatch, "darwin/amd64", path)
    (item,) = items
    assert item.verdict is Verdict.REFUTED and item.failing == ("no-fault",)
    _confirmed(item)
    assert {v.site.text for v in item.outcome.violations} == {"MOVL (AX), AX"}


def test_arm64_trampolines_lose_the_frame_pointer_unless_they_step_past_it(tmp_path, monkeypatch):
    """A finding on go1.27.3: a trampoline that BLs libc from its own SP gives libc the word where its prologue
    saved the caller's R29 (as sigfwd does); open_trampoline's SUB $16, RSP keeps it."""
    items = _gate(tmp_path, monkeypatch, "darwin/arm64", ARM64, ("close", "open"))
    assert set(items) == {"close_trampoline", "open_trampoline"}
    assert items["open_trampoline"].verdict is Verdict.PROVED
    close = items["close_trampoline"]
    assert close.verdict is Verdict.REFUTED and close.failing == ("preserve-x29",)
    _confirmed(close)
    assert all(v.site.text == "RET (R30)" for v in close.outcome.violations)


# Planted bugs, one line each: (port, family, trampoline, file, the line replaced, its replacement, the obligation,
# the instruction the refutation names).
MUTANTS = [
    pytest.param("darwin/amd64", AMD64, "close", "sys_darwin_amd64.s", "\tCALL\tlibc_close(SB)\n",
                 "\tSUBQ\t$8, SP\n\tCALL\tlibc_close(SB)\n\tADDQ\t$8, SP\n", "host-call-aligned",
                 "CALL libc_close(SB)", id="darwin-amd64-misaligned-call"),
    pytest.param("openbsd/amd64", AMD64, "sched_yield", "sys_openbsd_amd64.s", "\tCALL\tlibc_sched_yield(SB)\n",
                 "\tMOVQ\tDI, R12\n\tCALL\tlibc_sched_yield(SB)\n", "preserve-r12", "RET",
                 id="openbsd-amd64-clobbered-r12"),
    pytest.param("darwin/arm64", ARM64, "open", "sys_darwin_arm64.s", "\tBL\tlibc_open(SB)\n",
                 "\tSUB\t$8, RSP\n\tBL\tlibc_open(SB)\n\tADD\t$8, RSP\n", "sp-aligned-at-call",
                 "CALL libc_open(SB)", id="darwin-arm64-misaligned-bl"),
]


@pytest.mark.parametrize(("port", "key", "name", "source", "old", "new", "obligation", "site"), MUTANTS)
def test_a_planted_bug_is_refuted_naming_the_obligation_and_the_line(tmp_path, monkeypatch, port, key, name, source,
                                                                     old, new, obligation, site):
    items = _gate(tmp_path, monkeypatch, port, key, (name,), lambda path: mutate(path, old, new), source)
    item = items[f"{name}_trampoline"]
    assert item.verdict is Verdict.REFUTED and obligation in item.failing, (item.failing, item.unknown_reason)
    _confirmed(item)
    found = [v for v in item.outcome.violations if v.obligation == obligation]
    lines = (tmp_path / "goroot/src/runtime" / source).read_text().splitlines()
    planted = lines.index(new.split("\n")[0]) + 1  # the line the site must name: at or after the planted one
    for v in found:
        assert v.site.text == site and v.site.location.rpartition("/")[2].startswith(f"{source}:")
        assert int(v.site.location.rpartition(":")[2]) >= planted
    if obligation == "host-call-aligned":  # the call itself, right after the misaligning instruction
        assert {int(v.site.location.rpartition(":")[2]) for v in found} == {planted + 1}




# --- callCgoSigaction: Go calls the C function runtime/cgo stored in _cgo_sigaction -----------------------

@pytest.mark.parametrize(("port", "key"), [("linux/amd64", "callCgoSigaction"),
                                           ("linux/arm64", "callCgoSigaction_arm64")])
def test_call_cgo_sigaction_is_proved_on_the_pinned_tree(tmp_path, monkeypatch, port, key):
    item = gate_one(tmp_path, monkeypatch, port, key=key)
    assert item.verdict is Verdict.PROVED, (item.failing, item.unknown_reason, item.note)
    assert item.result.contract == "go-to-host"


_CCS_CALL = "\tCALL\tAX\n\tMOVQ\tBX, SP\n\tMOVL\tAX, ret+24(FP)\n"  # unique: sigfwd ends alike, without the result
_CCS_ARM64_CALL = ("\tMOVD\t _cgo_sigaction(SB), R3\n\tSUB\t$16, RSP\t\t// reserve 16 bytes for sp-8 where fp may be "
                   "saved.\n\tBL\tR3\n\tADD\t$16, RSP\n")
CGO_SIGACTION = [
    pytest.param("linux/amd64", "callCgoSigaction", "sys_linux_amd64.s",
                 [("\tANDQ\t$~15, SP\t// alignment as per amd64 psABI\n" + _CCS_CALL, _CCS_CALL)],
                 "host-stack-aligned-at-call", "CALL AX", id="amd64-no-alignment"),
    # SP kept in R11 across the C call (volatile): SP comes back as whatever the C function left there, and the
    # store of the result through it faults
    pytest.param("linux/amd64", "callCgoSigaction", "sys_linux_amd64.s",
                 [("\tMOVQ\tSP, BX\t// callee-saved\n", "\tMOVQ\tSP, R11\n"),
                  (_CCS_CALL, _CCS_CALL.replace("BX, SP", "R11, SP"))], "no-fault", "MOVL AX, ret+56(FP)",
                 id="amd64-saved-sp-in-a-volatile-register"),
    pytest.param("linux/arm64", "callCgoSigaction_arm64", "sys_linux_arm64.s",
                 [(_CCS_ARM64_CALL, "\tMOVD\t _cgo_sigaction(SB), R3\n\tBL\tR3\n")],
                 "preserve-x29", "RET (R30)", id="arm64-c-frame-over-the-saved-fp"),
]


@pytest.mark.parametrize(("port", "key", "source", "edits", "obligation", "site"), CGO_SIGACTION)
def test_call_cgo_sigaction_mutants_are_refuted_naming_the_obligation(tmp_path, monkeypatch, port, key, source,
                                                                      edits, obligation, site):
    def edit(path):
        for old, new in edits:
            mutate(path, old, new)

    item = gate_one(tmp_path, monkeypatch, port, edit, key, source)
    assert item.verdict is Verdict.REFUTED and obligation in item.failing, (item.failing, item.unknown_reason)
    _confirmed(item)
    assert {v.site.text for v in item.outcome.violations if v.obligation == obligation} == {site}
    assert all(f"{source}:" in v.site.location for v in item.outcome.violations)
