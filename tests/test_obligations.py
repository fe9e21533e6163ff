"""One definition, two evaluators: an obligation is a record (``symabi.obligations``), and both the symbolic
evaluator (Z3 over a path record) and the concrete one (over a unicorn run) read that same record."""

from __future__ import annotations

import pytest
from conftest import write_case

from symabi.casefile import parse_case
from symabi.contracts import CONTRACTS
from symabi.contracts.windows_x64 import HostAbiContract
from symabi.frontend import AssembleRequest, assemble
from symabi.loader import lay_out
from symabi.obligations import concrete, for_host_abi
from symabi.obligations.definition import AT_EVERY_CALL, AT_RETURN, RegisterZero, SameAsEntry, define
from symabi.obligations.host_abi import definition
from symabi.ports import HOST_ABIS, WINDOWS_X64
from symabi.prover import prove_case
from symabi.replay import ConcreteInputs, setups_for_case
from symabi.verdicts import Verdict

# Synthetic obligations no host ABI has (RAX and R13 are volatile everywhere): what they claim is data only.
KEEPS_RAX = define("test-keeps-rax", "rax", "test", "RAX at return equals RAX at entry", AT_RETURN,
                   SameAsEntry("rax", "rax", 64))
R13_ZERO_AT_CALL = define("test-r13-zero-at-call", "r13", "test", "R13 is zero on every call into Go", AT_EVERY_CALL,
                          RegisterZero("r13", 64))
BODY = """
TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
	CMPQ	CX, $5
	JNE	ok
	INCQ	AX
ok:
	CALL	runtime·foo(SB)
	RET
"""
CALLEES = """
[callees."runtime.foo"]
args = 0
keeps = ["rax"]
clobbers = ["rbx"]
clobbers_reason = "a test callee that keeps RAX"
"""


def test_one_definition_drives_both_evaluators(tmp_path, toolchain, monkeypatch):
    """The synthetic contract's obligations are refuted by Z3 on the tiny program, and each witness, run on
    unicorn and judged by the concrete evaluator from the same record, fails the same way at the same
    instruction; an input outside the witness's condition keeps RAX on both sides."""
    contract = HostAbiContract(WINDOWS_X64, name="test-synthetic", obligations=(KEEPS_RAX, R13_ZERO_AT_CALL))
    monkeypatch.setitem(CONTRACTS, contract.name, contract)
    folder = write_case(tmp_path / "cases", "t", BODY, CALLEES, extra='contract = "test-synthetic"')
    case = parse_case(folder)
    (version,) = prove_case(case, toolchain).versions
    assert version.verdict is Verdict.REFUTED
    assert {v.obligation for v in version.violations} == {KEEPS_RAX.id, R13_ZERO_AT_CALL.id}
    v = case.newest
    image = lay_out(assemble(toolchain, AssembleRequest(v.source, v.include_dirs, case.defines, case.package)))
    (setup,) = setups_for_case(case, image)
    by_id = {ob.id: ob for ob in contract.obligations}
    for violation in version.violations:
        run = setup.run(ConcreteInputs.from_witness(violation.inputs))
        finding = concrete.evaluate(by_id[violation.obligation], run)
        assert finding.status == "violated", (violation.obligation, finding)
        assert finding.site == violation.site.address
        assert (finding.entry_text, finding.exit_text) == (violation.entry, violation.exit)
    rax = next(v for v in version.violations if v.obligation == KEEPS_RAX.id)
    assert int(rax.inputs["entry.rcx"], 0) == 5  # the only way RAX changes
    inputs = dict(rax.inputs, **{"entry.rcx": "0x6"})
    assert concrete.evaluate(KEEPS_RAX, setup.run(ConcreteInputs.from_witness(inputs))).status == "holds"


def test_the_concrete_evaluator_reads_the_claim_not_the_id(tmp_path, toolchain):
    """On runs of the tiny program, RAX changes exactly when CX = 5 at entry, whatever else the run draws."""
    folder = write_case(tmp_path / "cases", "t", BODY, CALLEES)
    case = parse_case(folder)
    v = case.newest
    image = lay_out(assemble(toolchain, AssembleRequest(v.source, v.include_dirs, case.defines, case.package)))
    (setup,) = setups_for_case(case, image)
    for n, rcx in enumerate((5, 6, 5, 0)):
        run = setup.run(ConcreteInputs.from_witness({"entry.rcx": hex(rcx)}, seed=f"draw-{n}"))
        assert concrete.evaluate(KEEPS_RAX, run).status == ("violated" if rcx == 5 else "holds")


@pytest.mark.parametrize("abi", sorted(HOST_ABIS))
def test_a_host_abis_contract_is_its_derived_obligations(abi):
    """Each host ABI's contract lists exactly the obligations derived from its port table, and an id names
    one claim wherever it appears (a witness names an obligation by id only)."""
    assert CONTRACTS[abi].obligations == for_host_abi(HOST_ABIS[abi])
    for ob in for_host_abi(HOST_ABIS[abi]):
        assert ob.claim is not None and ob.when
        assert definition(ob.id).claim == ob.claim and definition(ob.id).when == ob.when
        assert ob.applies_on_abort == (ob.when != AT_RETURN)


@pytest.mark.parametrize("port, frame", [("windows/amd64", 8 + 32), ("linux/amd64", 8)])
def test_the_caller_frame_is_derived_once(tmp_path, toolchain, port, frame):
    """Where the caller's own frame begins (above the return address, the home area and the stack arguments)
    is the entry convention's: the prover's check context and the oracle's runs read the same derivation."""
    from symabi.models import ENTRY_CONVENTIONS
    from symabi.models.entry import CALLER_FRAME

    folder = write_case(tmp_path / "cases", "t", BODY, CALLEES, extra=f'port = "{port}"')
    case = parse_case(folder)
    convention = ENTRY_CONVENTIONS[case.entry_convention.name]
    assert convention.caller_frame(case.entry_convention.stack_args) == frame
    assert convention.caller_window(case.entry_convention.stack_args) == frame + CALLER_FRAME
    v = case.newest
    image = lay_out(assemble(toolchain, AssembleRequest(v.source, v.include_dirs, case.defines, case.package)))
    (setup,) = setups_for_case(case, image)
    assert setup.run(ConcreteInputs.from_witness({})).caller_frame == frame


def test_the_definitions_and_the_concrete_evaluator_import_no_solver():
    """Replay reads the definitions without angr or claripy (the symbolic evaluator is the one that needs them)."""
    import subprocess
    import sys

    code = ("import sys, symabi.obligations, symabi.obligations.concrete, symabi.obligations.contracts; "
            "sys.exit(any(m in sys.modules for m in ('angr', 'claripy', 'z3')))")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


# ---- go-to-host and check's host calls: lists of definitions, judged by the same concrete evaluator ----------


def _run(arch="amd64", calls=(), writes=(), exit_regs=None, **fields):
    """A synthetic concrete run that returned: entry SP 0x10000, the given calls and stores."""
    from symabi.ports import ARCHITECTURES
    from symabi.replay.machine import ConcreteRun

    sp = "rsp" if arch == "amd64" else "sp"
    entry = {sp: 0x10000, "rbp": 1, "r14": 2, "x28": 2, "xmm15": 0}
    return ConcreteRun(kind="returned", reason="", entry=0x400000, inputs=None, caller_return=0x500000,
                       entry_regs=entry, entry_rflags=0, exit_regs={**entry, **(exit_regs or {})}, exit_rflags=0,
                       target=0x500000, site=0x400010, calls=tuple(calls), writes=tuple(writes), steps=1,
                       arch=ARCHITECTURES[arch], **fields)


def _call(callee, sp):
    from symabi.replay.machine import ConcreteCall

    return ConcreteCall(callee, 1, 0x400004, False, sp, ())


@pytest.mark.parametrize("port", ["windows/amd64", "linux/amd64", "linux/arm64", "darwin/arm64", "windows/arm64"])
def test_go_to_host_is_a_list_of_definitions(port):
    """The go-to-host contract on each port is the definitions' list, every obligation with its claim, and
    replay finds the same list by the contract's name."""
    from symabi.obligations.contracts import for_contract
    from symabi.obligations.go_to_host import go_to_host
    from symabi.ports import PORTS

    abi = PORTS[port].abi
    contract = CONTRACTS["go-to-host"].for_port(PORTS[port])
    assert contract.obligations == go_to_host(abi) == for_contract("go-to-host", abi)
    assert all(ob.claim is not None and ob.when for ob in contract.obligations)
    ids = [ob.id for ob in contract.obligations]
    assert ids[0] == "host-stack-aligned-at-call" and ("home-area-at-call" in ids) == bool(abi.home_area)
    assert ("x15-zero-at-return" in ids) == (abi.arch.name == "amd64") != ("x28-g-at-return" in ids)


@pytest.mark.parametrize("abi", ["windows-x64", "sysv-amd64", "aapcs64"])
def test_checks_host_calls_contract_is_a_list_of_definitions(abi):
    """``symabi check``'s <abi>+host-calls(...) contract: the host ABI's definitions, then the host-call ones
    with the callees in their claims; replay reads them back from the contract's name."""
    from symabi.check.contract import register
    from symabi.obligations.contracts import for_contract

    name = register(HOST_ABIS[abi], frozenset({"crosscall2", "puts"}))
    assert name == f"{abi}+host-calls(crosscall2,puts)"
    obligations = CONTRACTS[name].obligations
    assert obligations == for_contract(name, HOST_ABIS[abi])
    assert obligations[:len(for_host_abi(HOST_ABIS[abi]))] == for_host_abi(HOST_ABIS[abi])
    extra = obligations[len(for_host_abi(HOST_ABIS[abi])):]
    if abi == "aapcs64":  # the host ABI's own sp-aligned-at-call judges every BL, the host callees' included
        assert extra == () and "sp-aligned-at-call" in [ob.id for ob in obligations]
        return
    assert [ob.id for ob in extra] == ["host-call-aligned", *(["host-call-home-area"] if abi == "windows-x64" else [])]
    assert all(ob.claim.callees == {"crosscall2", "puts"} for ob in extra)


def test_stack_alignment_at_host_calls_on_a_run():
    """StackAligned: the stack pointer before the call pushed anything (amd64: the callee's RSP + 8; arm64:
    SP), at the claim's host callees only (every callee when it names none)."""
    from symabi.obligations.definition import AT_EVERY_HOST_CALL, StackAligned

    named = define("t-aligned", "rsp", "test", "", AT_EVERY_HOST_CALL, StackAligned(16, frozenset({"c"})))
    every = define("t-aligned", "rsp", "test", "", AT_EVERY_HOST_CALL, StackAligned(16))
    misaligned_go = _run(calls=[_call("go", 0xFF00), _call("c", 0xFEF8)])  # go: RSP+8 = 8 mod 16; c: 0 mod 16
    assert concrete.evaluate(named, misaligned_go).status == "holds"
    finding = concrete.evaluate(every, misaligned_go)
    assert (finding.status, finding.entry, finding.exit) == ("violated", 0, 8)
    assert concrete.evaluate(every, _run("arm64", calls=[_call("c", 0xFF00)])).status == "holds"
    assert concrete.evaluate(every, _run("arm64", calls=[_call("c", 0xFEF8)])).exit == 8


def test_home_area_at_host_calls_on_a_run():
    """HomeAreaReserved: the callee's home area (above its return address) ends at or below the entry RSP."""
    from symabi.obligations.definition import AT_EVERY_HOST_CALL, HomeAreaReserved

    home = define("t-home", "stack", "test", "", AT_EVERY_HOST_CALL, HomeAreaReserved(32))
    assert concrete.evaluate(home, _run(calls=[_call("c", 0x10000 - 0x28)])).status == "holds"
    finding = concrete.evaluate(home, _run(calls=[_call("c", 0x10000 - 0x20)]))
    assert (finding.status, finding.exit) == ("violated", -0x20)


def test_stores_in_the_go_frame_on_a_run():
    """StoresInGoFrame: the argument and result words (whole words of stack_args) are the trampoline's, the
    return address and the rest of the Go caller's frame are not; on arm64 neither is the saved FP at SP-8."""
    from symabi.obligations.go_to_host import go_stack_writes
    from symabi.ports import AMD64, ARM64
    from symabi.replay.machine import ConcreteWrite

    def store(offset, size=8):
        return ConcreteWrite(0x10000 + offset, size, "stack", offset, 0x400008)

    amd64, arm64 = go_stack_writes(AMD64), go_stack_writes(ARM64)
    assert concrete.evaluate(amd64, _run(writes=[store(-8), store(8), store(16, 4)], stack_args=12)).status == "holds"
    assert concrete.evaluate(amd64, _run(writes=[store(0)], stack_args=12)).exit == 0
    assert concrete.evaluate(amd64, _run(writes=[store(24)], stack_args=12)).exit == 24
    assert concrete.evaluate(arm64, _run("arm64", writes=[store(-16), store(8)], stack_args=8)).status == "holds"
    assert concrete.evaluate(arm64, _run("arm64", writes=[store(-8)], stack_args=8)).exit == -8


def test_x15_is_owed_to_an_abiinternal_caller_only():
    """x15-zero-at-return is n/a on a run Go entered with ABI0, violated with X15 != 0 after an ABIInternal
    entry; r14-g-at-return compares R14 with its entry value (the current g)."""
    from symabi.obligations.go_to_host import R14_AT_RETURN, X15_AT_RETURN

    dirty = {"xmm15": 7, "r14": 3}
    assert concrete.evaluate(X15_AT_RETURN, _run(exit_regs=dirty, convention="go-abi0-call")).status == "n/a"
    finding = concrete.evaluate(X15_AT_RETURN, _run(exit_regs=dirty, convention="go-abiinternal-call"))
    assert (finding.status, finding.entry, finding.exit) == ("violated", 0, 7)
    finding = concrete.evaluate(R14_AT_RETURN, _run(exit_regs=dirty, convention="go-abiinternal-call"))
    assert (finding.status, finding.entry, finding.exit) == ("violated", 2, 3)
    assert concrete.evaluate(R14_AT_RETURN, _run(convention="go-abiinternal-call")).status == "holds"
