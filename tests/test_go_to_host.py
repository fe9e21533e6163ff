"""The Go -> host direction (issue 13): host callee models, Go entry conventions, the go-to-host contract.

Verdicts come from the prover over the real assembler's bytes; every refutation must be confirmed by the
concrete replay (an unconfirmed one would have been demoted to UNKNOWN). Mutants copy a shipped case and
edit exactly one occurrence of a line.
"""

from __future__ import annotations

import pytest

from symabi.casefile import parse_case
from symabi.contracts import CONTRACTS
from symabi.models import CALLEE_MODELS
from symabi.models.host_callee import volatile
from symabi.ports import PORTS, SYSV_AMD64, WINDOWS_X64
from symabi.prover import prove_case
from symabi.verdicts import Verdict

from conftest import mutate

ALIGN = "\tANDQ\t$~15, SP\t// alignment\n"


def _prove(case_dir, toolchain):
    return prove_case(parse_case(case_dir), toolchain).versions[-1]


def _failing(version) -> set[str]:
    return {v.obligation for v in version.violations}


def _confirmed(version) -> None:
    assert version.violations
    assert all(v.replay == "confirmed" for v in version.violations), [v.replay for v in version.violations]


def _port(case_dir, port: str) -> None:
    mutate(case_dir / "case.toml", 'port = "linux/amd64"', f'port = "{port}"')


def _narrow_n(case_dir, *values: str) -> None:
    """stdcall: check only some argument counts (the shipped case checks N = 0 .. 7)."""
    toml = case_dir / "case.toml"
    text = toml.read_text()
    start = text.index("values = [\"0\", \"1\"")
    end = text.index("\n", text.index("labels = [\"N = 0\"", start))
    toml.write_text(text[:start] + "values = [" + ", ".join(f'"{v}"' for v in values) + "]\nlabels = ["
                    + ", ".join(f'"N = {v}"' for v in values) + "]" + text[end:])


# --- the models as data --------------------------------------------------------------------------

def test_host_models_clobber_exactly_the_volatile_registers():
    assert volatile(WINDOWS_X64) == ("rax", "rcx", "rdx", "r8", "r9", "r10", "r11",
                                     *(f"xmm{i}" for i in range(6)))
    assert volatile(SYSV_AMD64) == ("rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11",
                                    *(f"xmm{i}" for i in range(16)))
    assert {"host-windows-x64", "host-sysv-amd64"} <= set(CALLEE_MODELS)


def test_go_to_host_has_a_home_area_obligation_only_where_the_host_abi_has_one():
    contract = CONTRACTS["go-to-host"]
    windows = [o.id for o in contract.for_port(PORTS["windows/amd64"]).obligations]
    linux = [o.id for o in contract.for_port(PORTS["linux/amd64"]).obligations]
    assert "home-area-at-call" in windows and "home-area-at-call" not in linux
    for ids in (windows, linux):
        assert {"host-stack-aligned-at-call", "df-clear-at-call", "restore-rsp", "return-to-caller", "preserve-rbp",
                "x15-zero-at-return", "r14-g-at-return", "stack-writes-in-go-frame", "no-fault"} <= set(ids)


def test_go_to_host_on_an_arm64_port_has_arm64s_obligations():
    """SP, R29 and R28 instead of RSP, RBP, R14 and X15; no home area, no DF (tests/test_go_to_host_arm64.py)."""
    ids = [o.id for o in CONTRACTS["go-to-host"].for_port(PORTS["linux/arm64"]).obligations]
    assert ids == ["host-stack-aligned-at-call", "restore-sp", "return-to-caller", "preserve-x29", "x28-g-at-return",
                   "stack-writes-in-go-frame", "preserve-fpcr", "no-fault"]


# --- asmcgocall_no_g ----------------------------------------------------------------------------

def test_asmcgocall_no_g_is_proved_on_linux(case_copy, toolchain):
    version = _prove(case_copy("asmcgocall_no_g"), toolchain)
    assert version.verdict is Verdict.PROVED
    assert {p.label.split(":")[0] for p in version.paths} == {"RSP 0 mod 16 at entry", "RSP 8 mod 16 at entry"}


def test_asmcgocall_no_g_without_the_alignment_is_refuted_at_the_call(case_copy, toolchain):
    case = case_copy("asmcgocall_no_g")
    mutate(case / "new" / "asm_amd64.s", ALIGN, "\tNOP\n")
    version = _prove(case, toolchain)
    assert version.verdict is Verdict.REFUTED and _failing(version) == {"host-stack-aligned-at-call"}
    _confirmed(version)
    (v,) = version.violations
    assert v.site.text == "CALL AX" and v.exit == "0x0000000000000008"
    assert version.paths[v.path].label.startswith("RSP 0 mod 16 at entry")


def test_asmcgocall_no_g_keeping_the_saved_sp_in_a_volatile_register_is_refuted(case_copy, toolchain):
    """Without the reload from 8(SP), SP comes back from DX, which the C function may have clobbered."""
    case = case_copy("asmcgocall_no_g")
    mutate(case / "new" / "asm_amd64.s", "\tMOVQ\t8(SP), DX\n", "\tNOP\n")
    version = _prove(case, toolchain)
    assert version.verdict is Verdict.REFUTED and _failing(version) == {"no-fault"}
    _confirmed(version)
    assert all("#1.rdx" in v.detail for v in version.violations)


def test_asmcgocall_no_g_on_windows_keeps_the_saved_sp_in_the_callees_home_area(case_copy, toolchain):
    """On windows/amd64 the 32-byte frame aligned down is the C function's home area, and 8(SP), where
    asmcgocall_no_g keeps the caller's SP, is its second slot: a callee may overwrite it (go1.27.3)."""
    case = case_copy("asmcgocall_no_g")
    _port(case, "windows/amd64")
    version = _prove(case, toolchain)
    assert version.verdict is Verdict.REFUTED and _failing(version) == {"no-fault"}
    _confirmed(version)
    assert all("home+0x8" in v.detail for v in version.violations)


# --- StdCall / asmstdcall (windows/amd64) ---------------------------------------------------------

@pytest.mark.slow
def test_stdcall_is_proved_for_every_argument_count_it_states(case_copy, toolchain):
    version = _prove(case_copy("stdcall"), toolchain)
    assert version.verdict is Verdict.PROVED
    assert len(version.paths) == 16 and all(p.kind == "returned" for p in version.paths)


def test_stdcall_without_the_home_area_is_refuted(case_copy, toolchain):
    case = case_copy("stdcall")
    _narrow_n(case, "1")
    mutate(case / "new" / "asm_windows_amd64.s", "\tSUBQ\t$32, SP\t// reserve shadow space (Windows x64 ABI)\n",
           "\tNOP\n")
    version = _prove(case, toolchain)
    assert version.verdict is Verdict.REFUTED and "home-area-at-call" in _failing(version)
    _confirmed(version)
    home = next(v for v in version.violations if v.obligation == "home-area-at-call")
    assert home.site.text == "CALL AX"


def test_stdcall_without_the_alignment_is_refuted(case_copy, toolchain):
    case = case_copy("stdcall")
    _narrow_n(case, "5")
    mutate(case / "new" / "asm_windows_amd64.s", "\tANDQ\t$~15, SP\t// alignment as per Windows requirement\n",
           "\tNOP\n")
    version = _prove(case, toolchain)
    assert version.verdict is Verdict.REFUTED and _failing(version) == {"host-stack-aligned-at-call"}
    _confirmed(version)


# --- registry entries on a tree ------------------------------------------------------------------

def _registry(target, *keys: str):
    """The shipped registry reduced to the entries ``keys`` (their [entries.KEY...] tables, verbatim)."""
    import re

    from symabi.gate import registry

    blocks = re.split(r"(?m)^(?=\[\[?entries\.)", registry.REGISTRY.read_text())
    kept = [b for b in blocks[1:] if re.match(r"\[\[?entries\.(\w+)", b).group(1) in keys]
    target.write_text("".join(kept))
    return target


@pytest.mark.slow
def test_asmcgocall_without_its_gcc_alignment_is_refuted_where_g0s_sp_is_8_mod_16(tmp_path, monkeypatch):
    """On a goroutine asmcgocall switches to g0.sched.sp - 16 and aligns it; without the ANDQ the C function
    is entered misaligned exactly when g0's saved SP is 8 mod 16 (a world fact, both values real)."""
    from test_gate import copy_goroot

    from symabi.gate.run import run_gate
    from symabi.toolchain import find_toolchain

    monkeypatch.delenv("SYMABI_GO", raising=False)
    (tmp_path / "cases").mkdir()
    goroot = copy_goroot(find_toolchain().goroot, tmp_path / "goroot")
    mutate(goroot / "src/runtime/asm_amd64.s", "\tANDQ\t$~15, SP\t// alignment for gcc ABI\n", "\tNOP\n")
    result = run_gate(goroot=goroot, cases_dir=tmp_path / "cases", ports=("linux/amd64",),
                      registry_path=_registry(tmp_path / "registry.toml", "asmcgocall_sysv"))
    (item,) = result.items
    assert item.verdict is Verdict.REFUTED and item.failing == ("host-stack-aligned-at-call",)
    _confirmed(item.outcome)
    labels = {item.outcome.paths[v.path].label for v in item.outcome.violations}
    assert labels and all("on a goroutine" in lbl and "g0 SP 8 mod 16" in lbl for lbl in labels)


@pytest.mark.slow
def test_racewrite_without_rezeroing_x15_after_the_c_call_is_refuted(tmp_path, monkeypatch):
    """racecall<> returns into ABIInternal code after calling the race runtime, which (System V) may
    leave anything in X15: without XORPS X15, X15 the caller's zero register is lost."""
    from test_gate import copy_goroot

    from symabi.gate.run import run_gate
    from symabi.toolchain import find_toolchain

    monkeypatch.delenv("SYMABI_GO", raising=False)
    (tmp_path / "cases").mkdir()
    goroot = copy_goroot(find_toolchain().goroot, tmp_path / "goroot")
    mutate(goroot / "src/runtime/race_amd64.s", "\tXORPS\tX15, X15\n", "\tNOP\n")
    result = run_gate(goroot=goroot, cases_dir=tmp_path / "cases", ports=("linux/amd64",),
                      registry_path=_registry(tmp_path / "registry.toml", "racewrite"))
    (item,) = result.items
    assert item.verdict is Verdict.REFUTED and item.failing == ("x15-zero-at-return",)
    _confirmed(item.outcome)
    assert all(v.origin == ("__tsan_write#1.xmm15",) and v.site.text == "RET" for v in item.outcome.violations)


@pytest.mark.slow
def test_racewrite_on_windows_gives_the_race_runtime_no_home_area(tmp_path, monkeypatch):
    """A finding on go1.27.3: racecall<> aligns SP and calls the race runtime without reserving the Windows
    x64 home area, so the callee may overwrite the 32 bytes above its return address: g0's live frames, or,
    on g0, the Go caller's frame. (Why racewrite is registered for linux/amd64 only.)"""
    from symabi.gate.run import run_gate

    monkeypatch.delenv("SYMABI_GO", raising=False)
    (tmp_path / "cases").mkdir()
    registry = _registry(tmp_path / "registry.toml", "racewrite")
    mutate(registry, 'ports = ["linux/amd64"]', 'ports = ["windows/amd64"]')
    result = run_gate(cases_dir=tmp_path / "cases", ports=("windows/amd64",), registry_path=registry)
    (item,) = result.items
    # on g0 the home area covers racewrite's own return address: the RET then goes where the callee chose
    # (and may even reach __tsan_write again, misaligned); every one of these is confirmed concretely
    assert item.verdict is Verdict.REFUTED and "home-area-at-call" in item.failing
    assert set(item.failing) <= {"home-area-at-call", "return-to-caller", "host-stack-aligned-at-call"}
    _confirmed(item.outcome)
    assert {v.site.text for v in item.outcome.violations if v.obligation == "home-area-at-call"} == {"CALL AX"}


def test_a_paths_entry_situation_does_not_hide_its_replay_setup():
    from types import SimpleNamespace

    from symabi.replay.confirm import select

    setups = [SimpleNamespace(entry_name="e", facts=("N = 0",)), SimpleNamespace(entry_name="e", facts=("N = 1",))]
    assert select(setups, "RSP 8 mod 16 at entry, N = 1: returns to the caller") is setups[1]


# --- history ----------------------------------------------------------------------------------------

def test_sigfwd_history_the_alignment_fix(toolchain):
    """golang/go#17641: go1.7's sigfwd called the C handler with Go's RSP, misaligned whenever Go's RSP is
    8 mod 16; go1.8 aligns it (ANDQ $~15, SP) and keeps its SP in BP, which C preserves."""
    from pathlib import Path

    result = prove_case(parse_case(Path(__file__).parent.parent / "cases" / "sigfwd_linux"), toolchain)
    old, new = result.versions
    assert old.verdict is Verdict.REFUTED and _failing(old) == {"host-stack-aligned-at-call"}
    _confirmed(old)
    (v,) = old.violations
    assert v.site.text == "CALL AX" and old.paths[v.path].label.startswith("RSP 8 mod 16 at entry")
    assert new.verdict is Verdict.PROVED


@pytest.mark.slow
def test_racecall_x15_history_the_rezeroing_fix(toolchain):
    """racewrite is entered with ABIInternal (X15 = 0) and returns to ABIInternal code; the race runtime (C)
    may leave anything in X15. The Go 1.17 cycle's racecall<> returned without XORPS X15, X15: refuted at the
    RET on every path that reaches the C call (replay confirmed); go1.27.3's re-zeroes it."""
    from pathlib import Path

    case = parse_case(Path(__file__).parent.parent / "cases" / "racecall_x15")
    old, new = (prove_case(case, toolchain, versions=[name]).versions[0] for name in ("old", "new"))
    assert old.verdict is Verdict.REFUTED and _failing(old) == {"x15-zero-at-return"}
    _confirmed(old)
    assert all(v.site.text == "RET" and v.origin == ("__tsan_write#1.xmm15",) for v in old.violations)
    called = {p.index for p in old.paths if any("CALL AX" in line.text for line in p.lines)}
    assert {v.path for v in old.violations} == called
    assert new.verdict is Verdict.PROVED
