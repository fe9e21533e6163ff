"""Ports as data: pure (no angr), the two host ABIs, the parametrized contract, control state, history."""

from __future__ import annotations

import subprocess
import sys

import pytest

from symabi.casefile import parse_case
from symabi.contracts import CONTRACTS
from symabi.ports import PORTS, SYSV_AMD64, WINDOWS_X64, port
from symabi.prover import prove_case
from symabi.verdicts import Verdict

from conftest import CASES, REPO, write_case


def test_ports_import_neither_angr_nor_unicorn():
    code = "import sys, symabi.ports; sys.exit(any(m in sys.modules for m in ('angr', 'unicorn', 'claripy')))"
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO).returncode == 0


def test_host_abis_as_data():
    assert SYSV_AMD64.callee_saved_registers == ("rbx", "rbp", "r12", "r13", "r14", "r15")
    assert (SYSV_AMD64.red_zone, SYSV_AMD64.home_area, WINDOWS_X64.red_zone, WINDOWS_X64.home_area) == (128, 0, 0, 32)
    assert {c.register: c.bits for c in WINDOWS_X64.callee_saved}["xmm6"] == 128
    assert port("linux/amd64").tls.segment == "fs" and port("darwin/amd64").tls.segment == "gs"
    assert port("android/amd64").tls.indirect == "runtime.tls_g"
    assert PORTS["plan9/amd64"].abi is None
    with pytest.raises(ValueError, match="unknown port"):
        port("linux/vax")


def test_one_contract_class_two_instances():
    windows, sysv = CONTRACTS["windows-x64"], CONTRACTS["sysv-amd64"]
    assert type(windows) is type(sysv)
    assert [o.id for o in windows.obligations][:18] == [f"preserve-{r}" for r in WINDOWS_X64.callee_saved_registers]
    ids = [o.id for o in sysv.obligations]
    assert ids == ["preserve-rbx", "preserve-rbp", "preserve-r12", "preserve-r13", "preserve-r14", "preserve-r15",
                   "restore-rsp", "return-to-caller", "df-clear-at-return", "df-clear-at-call",
                   "stack-writes-below-entry-rsp", "writes-owned-memory", "preserve-x87-control-word", "preserve-mxcsr",
                   "x87-empty-at-return", "x87-empty-at-call",
                   "x15-zero-at-abiinternal-call", "r14-g-at-abiinternal-call", "no-fault"]
    assert "stack-writes-in-frame" in {o.id for o in windows.obligations}
    assert "preserve-rdi" not in ids and "preserve-xmm6" not in ids


SYSV = 'port = "linux/amd64"'


@pytest.mark.parametrize("body, verdict, failing", [
    ("TEXT tramp(SB),NOSPLIT|NOFRAME,$0\n\tRET\n", Verdict.PROVED, set()),
    # the caller's frame starts right above the return address on System V: no home area to spill into
    ("TEXT tramp(SB),NOSPLIT|NOFRAME,$0\n\tMOVQ\tCX, 8(SP)\n\tRET\n", Verdict.REFUTED, {"stack-writes-below-entry-rsp"}),
    # the red zone below RSP is the trampoline's own
    ("TEXT tramp(SB),NOSPLIT|NOFRAME,$0\n\tMOVQ\tCX, -16(SP)\n\tRET\n", Verdict.PROVED, set()),
    # RDI is caller-saved on System V (it is callee-saved on Windows)
    ("TEXT tramp(SB),NOSPLIT|NOFRAME,$0\n\tXORQ\tDI, DI\n\tRET\n", Verdict.PROVED, set()),
    ("TEXT tramp(SB),NOSPLIT|NOFRAME,$0\n\tXORQ\tR13, R13\n\tRET\n", Verdict.REFUTED, {"preserve-r13"}),
])
def test_sysv_contract_on_snippets(tmp_path, toolchain, body, verdict, failing):
    case = parse_case(write_case(tmp_path, "t", body, extra=SYSV))
    assert case.contract == "sysv-amd64" and case.entry_convention.name == "sysv-call"
    v = prove_case(case, toolchain).versions[0]
    assert v.verdict is verdict and {x.obligation for x in v.violations} == failing


@pytest.mark.parametrize("save, load, obligation", [("STMXCSR", "LDMXCSR", "preserve-mxcsr"),
                                                     ("FSTCW", "FLDCW", "preserve-x87-control-word")])
def test_code_that_touches_the_control_state_is_unknown_not_proved(tmp_path, toolchain, save, load, obligation):
    body = f"TEXT tramp(SB),NOSPLIT|NOFRAME,$8\n\t{save}\t0(SP)\n\t{load}\t0(SP)\n\tRET\n"
    v = prove_case(parse_case(write_case(tmp_path, "t", body, extra=SYSV)), toolchain).versions[0]
    assert v.verdict is Verdict.UNKNOWN
    assert obligation in {u.obligation for u in v.unknowns}


@pytest.mark.parametrize("name, source", [("sigtramp_linux", "old/sys_linux_amd64.s"),
                                          ("sigtramp_dragonfly", "old/sys_dragonfly_amd64.s"),
                                          ("rt0_linux_lib", "old/rt0_linux_amd64.s")])
def test_history_old_refuted_on_the_callee_saved_registers_new_proved(toolchain, name, source):
    """Three System V trampolines Go fixed for the C callee-saved registers: the tool finds each bug."""
    case = parse_case(CASES / name)
    assert case.contract == "sysv-amd64" and case.port != "windows/amd64"
    old, new = prove_case(case, toolchain).versions
    assert old.verdict is Verdict.REFUTED
    assert {x.obligation for x in old.violations} == {"preserve-rbx", "preserve-r12", "preserve-r13",
                                                       "preserve-r14", "preserve-r15"}
    assert all(x.replay == "confirmed" for x in old.violations)
    assert new.verdict is Verdict.PROVED
    text = (CASES / name / source).read_text()
    assert text.startswith("// Copyright") and "golang/go" in text
