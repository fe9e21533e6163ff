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

    code = ("import sys, symabi.obligations, symabi.obligations.concrete; "
            "sys.exit(any(m in sys.modules for m in ('angr', 'claripy', 'z3')))")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
