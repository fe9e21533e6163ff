"""The host-entry contract of a checked trampoline: its port's host ABI contract, plus what it owes the
host-ABI code it calls itself (crosscall2, a C function): at each such call the stack is aligned as the
host ABI requires, and, on Windows, the callee's 32-byte home area lies in the trampoline's own frame.

Which callees are host code is data of the check (``symabi.check.callees``), so the contract is made per
set of host callees and registered under a name that says so: ``windows-x64+host-calls``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import claripy

from symabi.contracts import CONTRACTS
from symabi.contracts.base import CheckContext, Finding, Obligation
from symabi.contracts.solver import PathSolver
from symabi.contracts.windows_x64 import HostAbiContract, _WithSolver
from symabi.engine.explore import UNKNOWN, PathOutcome
from symabi.ports import HostAbi
from symabi.replay.contract import HOLDS, VIOLATED, ConcreteFinding, _unfinished, obligation

HOST_CALL_ALIGNED = Obligation(
    "host-call-aligned", "rsp", "host-call",
    "RSP is a multiple of 16 at every CALL into host-ABI code (RSP + 8 on the callee's entry), as the host "
    "ABI requires of its callers", applies_on_abort=True)
HOST_CALL_ALIGNED_ARM64 = Obligation(
    "host-call-aligned", "sp", "host-call",
    "SP is a multiple of 16 at every BL into host-ABI code (AAPCS64 6.4.5.1: SP mod 16 = 0 at a public "
    "interface), as the host ABI requires of its callers", applies_on_abort=True)
HOST_CALL_HOME_AREA = Obligation(
    "host-call-home-area", "rsp", "host-call",
    "at every CALL into host-ABI code the 32 bytes above the return address (the callee's home area, which "
    "it may write) lie in the trampoline's own frame, below the entry RSP", applies_on_abort=True)
ALIGNMENT = 16
HOME_AREA = 32  # Windows x64; the only host ABI with one
# Every callee some registered contract calls host code (the concrete checks below see only names).
HOST_CALLEES: set[str] = set()


@dataclass(frozen=True)
class HostCallsContract:
    """``base`` (the host ABI's own contract) plus the obligations at calls into ``host_callees``."""

    abi: HostAbi
    host_callees: frozenset[str]
    name: str = ""
    doc: str = ""
    base: HostAbiContract = field(init=False, repr=False)
    obligations: tuple[Obligation, ...] = field(init=False)

    def __post_init__(self):
        set_ = object.__setattr__
        base = CONTRACTS.get(self.abi.name) or HostAbiContract(self.abi)
        set_(self, "base", base)
        set_(self, "name", self.name or f"{self.abi.name}+host-calls")
        callees = ", ".join(sorted(self.host_callees))
        set_(self, "doc", self.doc or f"{base.doc}; at each call into host code ({callees}) the stack is aligned "
                                      "and (Windows) the home area reserved")
        aligned = HOST_CALL_ALIGNED_ARM64 if self.abi.arch.link_register else HOST_CALL_ALIGNED
        extra = (aligned, HOST_CALL_HOME_AREA) if self.abi.home_area else (aligned,)
        set_(self, "obligations", (*base.obligations, *extra))

    def check(self, path: PathOutcome, ctx: CheckContext) -> list[Finding]:
        findings = self.base.check(path, ctx)
        solver_ctx = _WithSolver(ctx, PathSolver(path.state.solver.constraints, ctx.timeout_ms))
        for ob in self.obligations[len(self.base.obligations):]:
            findings.append(self._at_host_calls(ob, path, solver_ctx))
        return findings

    def _at_host_calls(self, ob: Obligation, path: PathOutcome, ctx) -> Finding:
        arch = self.abi.arch
        entry_rsp = ctx.regs[arch.stack_pointer]
        for event in path.calls:
            if event.callee not in self.host_callees:
                continue
            before = event.rsp + arch.return_slot  # the stack pointer before a CALL pushed its return address
            if ob.id == HOST_CALL_ALIGNED.id:
                bad = before & (ALIGNMENT - 1) != 0
                observe = {"entry": entry_rsp, "exit": before}
                detail = f"{arch.stack_pointer.upper()} is not a multiple of {ALIGNMENT} at the call to {event.callee}"
            else:
                bad = claripy.UGT(before + self.abi.home_area, entry_rsp)
                observe = {"entry": entry_rsp, "exit": before}
                detail = (f"the {self.abi.home_area}-byte home area of {event.callee} reaches above the entry RSP "
                          "(into the return address or the caller's frame): the trampoline reserved too little")
            finding = self.base._ask(ob, path, bad, observe, ctx, event.site, detail)
            if finding.status != "holds":
                return finding
        if path.kind == UNKNOWN:
            return Finding(ob, path.index, "unknown", detail=path.reason, site=path.ins_addr)
        return Finding(ob, path.index, "holds")


def register(abi: HostAbi, host_callees: frozenset[str]) -> str:
    """The contract's name, registered in CONTRACTS (the prover looks contracts up by name)."""
    if not host_callees:
        return abi.name
    contract = HostCallsContract(abi, host_callees)
    HOST_CALLEES.update(host_callees)
    name = f"{contract.name}({','.join(sorted(host_callees))})"
    if name not in CONTRACTS:
        CONTRACTS[name] = HostCallsContract(abi, host_callees, name=name)
    return name


# The same obligations on one concrete run (symabi.replay): a refutation replays like every other.
@obligation(HOST_CALL_ALIGNED.id)
def _aligned_on_run(run, ob: str, loc: str) -> ConcreteFinding:
    """The stack pointer at each call into host code: on amd64 RSP + 8 (the CALL pushed its return address),
    on arm64 SP itself (a BL pushes nothing; an arm64 run names its stack pointer "sp")."""
    sp, pushed = ("sp", 0) if "sp" in run.entry_regs else ("rsp", 8)
    for call in run.calls:
        if call.callee in HOST_CALLEES and (call.rsp + pushed) % ALIGNMENT:
            return ConcreteFinding(ob, loc, VIOLATED, run.entry_regs[sp], call.rsp + pushed,
                                   f"the stack pointer is not a multiple of {ALIGNMENT} at the call to {call.callee}",
                                   call.site)
    return _unfinished(run, ob, loc) or ConcreteFinding(ob, loc, HOLDS)


@obligation(HOST_CALL_HOME_AREA.id)
def _home_area_on_run(run, ob: str, loc: str) -> ConcreteFinding:
    for call in run.calls:
        if call.callee in HOST_CALLEES and call.rsp + 8 + HOME_AREA > run.entry_rsp:
            return ConcreteFinding(ob, loc, VIOLATED, run.entry_rsp, call.rsp + 8,
                                   f"the home area of {call.callee} reaches above the entry RSP", call.site)
    return _unfinished(run, ob, loc) or ConcreteFinding(ob, loc, HOLDS)
