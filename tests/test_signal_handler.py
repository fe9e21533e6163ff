"""The signal-handler contract: a handler the kernel enters (symabi/contracts/signal_handler.py), checked by
``symabi check`` on gVisor's handlers and on tests/data/check/sighandler (one correct handler per shape and
a planted bug each). The verdicts are the solver's; every refutation replays."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys

import pytest
from test_check import LINE, THIRD_PARTY, _findings, _line_of, _obligations, _run

from symabi.contracts.signal_handler import SIGNAL_HANDLER, lookup
from symabi.errors import CaseError
from symabi.obligations.contracts import for_contract
from symabi.obligations.signal_handler import ASSUMPTION, signal_handler
from symabi.ports import AAPCS64, PORTS, SYSV_AMD64

MODULE = THIRD_PARTY / "sighandler"
REALRUN = THIRD_PARTY / "sighandler_realrun"
GVISOR_REALRUN = THIRD_PARTY / "gvisor_realrun"
NATIVE = pytest.mark.skipif(sys.platform != "linux" or platform.machine() != "x86_64", reason="runs linux/amd64 natively")
LINUX = ("--port", "linux/amd64", "--port", "linux/arm64")
HOST_SAVED_AMD64 = ("rbx", "rbp", "r12", "r13", "r14", "r15")


def _verdicts(result) -> dict[tuple[str, str], str]:
    return {(f["symbol"].rpartition(".")[2], f["port"]): f["verdict"] for f in json.loads(result.output)["functions"]}


def _blocks(output: str) -> list[list[str]]:
    """The report's findings: a first-level line and the indented lines under it."""
    out: list[list[str]] = []
    for line in output.splitlines():
        if line.startswith("\t") and out:
            out[-1].append(line)
        else:
            out.append([line])
    return out


def _every_refutation_replays(output: str, host_abi: tuple[str, ...] = ()) -> None:
    """Each refutation says ``replay: confirmed`` and, but for the functions judged by the host ABI, the
    signal-handler contract's assumption."""
    refuted = [b for b in _blocks(output) if LINE.match(b[0]) and LINE.match(b[0])["what"] != "UNKNOWN"]
    assert refuted, output
    for block in refuted:
        assert "\treplay: confirmed" in block, block
        if LINE.match(block[0])["name"] not in host_abi:
            assert any(line.startswith("\tcontract signal-handler") and line.endswith(ASSUMPTION)
                       for line in block), block


def test_the_contract_is_the_host_abis_less_what_rt_sigreturn_restores():
    amd64 = {ob.id for ob in signal_handler(SYSV_AMD64, frozenset({"world.prev"}))}
    assert {"restore-rsp", "return-to-caller", "df-clear-at-call", "host-call-aligned", "no-fault",
            "stack-writes-below-entry-rsp", "x15-zero-at-abiinternal-call", "r14-g-at-abiinternal-call"} <= amd64
    assert not any(i.startswith("preserve-") or i == "df-clear-at-return" for i in amd64), amd64
    arm64 = {ob.id for ob in signal_handler(AAPCS64)}
    assert {"restore-sp", "return-to-caller", "sp-aligned-at-call", "x28-g-at-abiinternal-call", "no-fault"} <= arm64
    assert not any(i.startswith("preserve-") for i in arm64), arm64  # x29 and fpcr included
    # the concrete oracle reads the same definitions, found by the contract's name
    assert for_contract("signal-handler+host-calls(world.prev)", SYSV_AMD64) == \
        signal_handler(SYSV_AMD64, frozenset({"world.prev"}))
    assert for_contract("signal-handler", AAPCS64) == signal_handler(AAPCS64)
    # amd64 without host callees judges no alignment: Go needs none beyond 8 bytes
    assert "host-call-aligned" not in {ob.id for ob in signal_handler(SYSV_AMD64)}
    # a case file may name the host callees; the prover finds the contract by that name, rebound to the port
    contracts: dict = {}
    lookup(contracts, "signal-handler+host-calls(c_log)")
    lookup(contracts, "sysv-amd64")
    assert list(contracts) == ["signal-handler+host-calls(c_log)"]
    arm64 = contracts["signal-handler+host-calls(c_log)"].for_port(PORTS["linux/arm64"])
    assert arm64.obligations == signal_handler(AAPCS64, frozenset({"c_log"})) and arm64.assumptions == (ASSUMPTION,)
    with pytest.raises(CaseError, match="libc's _sigtramp"):
        SIGNAL_HANDLER.for_port(PORTS["darwin/arm64"])


def test_handlers_and_planted_bugs(tmp_path, monkeypatch):
    root = tmp_path / "sighandler"
    shutil.copytree(MODULE, root)
    result = _run([*LINUX, "--port", "darwin/amd64"], root, monkeypatch)
    assert result.exit_code == 1, result.output
    found = _findings(result.output)
    amd64, arm64 = root / "h" / "h_amd64.s", root / "h" / "h_arm64.s"
    for name, port in (("good", "linux/amd64"), ("aligned", "linux/amd64"), ("aligned", "linux/arm64")):
        assert (name, port) not in found, result.output  # proved
    # arm64: Go (ABI0 too) reads g from R28, and a signal that lands in C code hands over the C code's X28
    # (the runtime's sigtramp calls load_g first): undecided without a world that says where g is
    assert "good (linux/arm64): UNKNOWN: x28-g-at-abiinternal-call: X28 at the call to" in result.output
    assert ("callsGo", "linux/amd64") not in found, result.output  # Go asks RSP 0 mod 8 only
    assert ("scratch", "linux/amd64") not in found, result.output  # rt_sigreturn restores RBX, RBP, R12-R15
    # the same code judged by the host ABI, as a C handler chaining to it would need it
    assert _obligations(found, "goodAsC", "linux/amd64") == {f"preserve-{r}" for r in HOST_SAVED_AMD64}, found
    assert ("preserve-x19", _line_of(arm64, "RET", "·goodAsC")) in found[("goodAsC", "linux/arm64")], found
    # returns with SP moved: the restorer's rt_sigreturn would read the wrong frame
    assert found[("skewed", "linux/amd64")] == {("restore-rsp", _line_of(amd64, "JMP", "·skewed"))}, found
    assert found[("skewed", "linux/arm64")] == {("restore-sp", _line_of(arm64, "RET", "·skewed"))}, found
    # a C function called 8 off alignment (amd64); Go called 8 off alignment (arm64, whose Go callee would fault)
    assert found[("unaligned", "linux/amd64")] == {("host-call-aligned", _line_of(amd64, "CALL", "·unaligned"))}
    assert ("sp-aligned-at-call", _line_of(arm64, "BL", "·unaligned")) in found[("unaligned", "linux/arm64")], found
    _every_refutation_replays(result.output, host_abi=("goodAsC",))
    # not linux: the kernel does not enter the handler itself there (darwin's libc _sigtramp calls it as C)
    assert ("good (darwin/amd64): UNKNOWN: contract signal-handler is defined for linux/amd64, linux/arm64 only"
            in result.output), result.output
    assert f"# contract signal-handler assumes: {ASSUMPTION}" in result.stderr, result.stderr

    # the kernel's entry convention by default, and the contract's assumption first among the stated ones
    result = _run(["--json", "--port", "linux/amd64"], root, monkeypatch)
    good = next(f for f in json.loads(result.output)["functions"] if f["symbol"].endswith(".good"))
    assert good["verdict"] == "proved" and good["result"]["contract"]["name"] == "signal-handler", good
    stated = list(good["result"]["assumptions"])
    assert stated[:2] == ["contract signal-handler", "entry convention sysv-signal-handler"], stated


def test_not_for_go_code_calling_the_host(tmp_path, monkeypatch):
    (tmp_path / "p").mkdir()
    (tmp_path / "go.mod").write_text("module example.com/t\n\ngo 1.21\n")
    (tmp_path / "p" / "p.go").write_text("package p\n\nfunc callC(fn uintptr)\n")
    (tmp_path / "p" / "p_amd64.s").write_text(
        '#include "textflag.h"\n\n//symabi:host-call contract=signal-handler\n'
        "TEXT ·callC(SB),NOSPLIT|NOFRAME,$0-8\n\tMOVQ fn+0(FP), AX\n\tJMP AX\n")
    result = _run(["--port", "linux/amd64"], tmp_path, monkeypatch)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("symabi: error: ") and "contract=signal-handler is for a handler the kernel " \
        "enters" in result.output and len(result.output.splitlines()) == 1, result.output


def test_gvisor_handlers_as_the_kernel_enters_them(tmp_path, monkeypatch):
    """gVisor's handlers with ``contract = "signal-handler"`` (their symabi.toml): the KVM platform's SIGILL
    handler, refuted at the 2022 snapshot (amd64: the fallback's tail jump with the assembler's PUSHQ BP still on
    the stack; arm64: with the assembler's 16-byte frame still allocated) and proved at the 2024 one (amd64,
    NOFRAME): a fixed bug at two revisions; the host ABI's verdicts are tests/test_check.py's."""
    gvisor = tmp_path / "gvisor"
    shutil.copytree(THIRD_PARTY / "gvisor", gvisor)
    result = _run([*LINUX], gvisor, monkeypatch)
    assert result.exit_code == 1, result.output
    found = _findings(result.output)
    # proved on both: on arm64 the tail jump goes to the previous handler CSEL chose, X7 = If(SIGSEGV, segv, bus),
    # and the host callee model writes through both alternatives
    assert ("signalHandler", "linux/amd64") not in found and ("signalHandler", "linux/arm64") not in found, found
    kvm = gvisor / "pkg/sentry/platform/kvm"
    jump = _line_of(kvm / "bluepill_impl_amd64.s", "JMP AX", "·sighandler")
    assert found[("sighandler", "linux/amd64")] == {("return-to-caller", jump), ("host-call-aligned", jump)}, found
    branch = _line_of(kvm / "bluepill_impl_arm64.s", "B\t(R7)", "·sighandler")
    assert found[("sighandler", "linux/arm64")] == {("restore-sp", branch)}, found
    _every_refutation_replays(result.output)
    assert "2 proved, 2 refuted" in result.stderr, result.stderr

    fixed = tmp_path / "gvisor-20240729"
    shutil.copytree(THIRD_PARTY / "gvisor-20240729", fixed)
    result = _run(["--json", "--port", "linux/amd64"], fixed, monkeypatch)
    assert result.exit_code == 0, result.output
    assert _verdicts(result) == {("sighandler", "linux/amd64"): "proved"}
    stated = json.loads(result.output)["functions"][0]["result"]["assumptions"]
    assert stated["contract signal-handler+host-calls(world.prev)"] == [ASSUMPTION], stated


def _build(root, toolchain, out):
    env = {**os.environ, "CGO_ENABLED": "0", "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=mod", "GOOS": "linux",
           "GOARCH": "amd64"}
    built = subprocess.run([str(toolchain.go), "build", "-o", str(out), "./cmd/run"], cwd=root, env=env,
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    return out


def _with_program(source, realrun, target, package: str, files: tuple[str, ...]):
    """A copy of the module ``source`` with the real-run files of ``realrun`` added: ``files`` into
    ``package``, main.go into cmd/run."""
    shutil.copytree(source, target)
    for name in files:
        shutil.copy(realrun / name, target / package)
    (target / "cmd" / "run").mkdir(parents=True)
    shutil.copy(realrun / "main.go", target / "cmd" / "run")
    return target


def _runs(program, modes):
    return {mode: subprocess.run([str(program), mode], capture_output=True, text=True, timeout=60) for mode in modes}


@NATIVE
def test_the_real_kernel_agrees(tmp_path, toolchain):
    """The handlers of tests/data/check/sighandler installed with sigaction for SIGUSR1 in a real program
    (tests/data/check/sighandler_realrun), on this machine's kernel: the proved ones return to the interrupted
    code with every register it held (``scratch`` zeroes the ones a C caller keeps: rt_sigreturn restores
    them); the one refuted on restore-rsp kills the process, as rt_sigreturn reads its frame 8 bytes off."""
    root = _with_program(MODULE, REALRUN, tmp_path / "sighandler", "h", ("realrun.go", "realrun_amd64.s"))
    runs = _runs(_build(root, toolchain, tmp_path / "run"), ("good", "scratch", "skewed"))
    for name in ("good", "scratch"):
        assert (runs[name].returncode, runs[name].stdout) == (0, "returned, lost 0\n"), runs[name]
    assert runs["skewed"].returncode != 0 and "returned" not in runs["skewed"].stdout, runs["skewed"]


@NATIVE
def test_gvisor_pair_on_the_real_kernel(tmp_path, toolchain):
    """gVisor's KVM SIGILL handler, both snapshots unchanged, installed for SIGILL as gVisor installs it and sent
    SIGILL from outside the guest (tests/data/check/gvisor_realrun): it chains to a previous handler. The 2024
    one returns through it to the interrupted code with RBP intact; the 2022 one, built with the pinned
    assembler, leaves BP pushed: a previous handler that needs RSP 8 mod 16 faults (host-call-aligned), one that
    returns goes to the interrupted code's RBP (return-to-caller: "RBP's value at entry")."""
    files, kvm = ("realrun_kvm.go", "realrun_kvm_amd64.s"), "pkg/sentry/platform/kvm"
    fixed = _with_program(THIRD_PARTY / "gvisor-20240729", GVISOR_REALRUN, tmp_path / "g2024", kvm, files)
    for mode, run in _runs(_build(fixed, toolchain, tmp_path / "run2024"), ("plain", "aligned")).items():
        assert (run.returncode, run.stdout) == (0, "returned, lost 0\n"), (mode, run)
    old = _with_program(THIRD_PARTY / "gvisor", GVISOR_REALRUN, tmp_path / "g2022", kvm, files)
    runs = _runs(_build(old, toolchain, tmp_path / "run2022"), ("plain", "aligned"))
    assert all(run.returncode != 0 and "returned" not in run.stdout for run in runs.values()), runs
    assert "called from 0x2222222222222222" in runs["plain"].stderr, runs["plain"].stderr  # the pushed RBP
    assert "kvm.prevAligned()" in runs["aligned"].stderr, runs["aligned"].stderr  # its MOVAPS faulted
