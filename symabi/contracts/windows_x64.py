"""windows-x64: what a trampoline entered from the Windows x64 ABI owes its caller.

The Microsoft x64 calling convention makes RBX, RBP, RDI, RSI, RSP, R12-R15 and XMM6-XMM15 (all
128 bits), the x87 control word and MXCSR's control bits non-volatile, and requires DF clear on return. Go ABI0 code may clobber all of them but RSP,
so a trampoline that calls into Go must save and restore each one itself. Go in turn expects DF clear
whenever it is entered.

A host ABI's contract is data: its obligations are derived from its table in ``symabi.ports``
(``symabi.obligations.for_host_abi``), each defined once in ``symabi.obligations``, and judged on a path
by the symbolic evaluator (``symabi.obligations.symbolic``). ``HostAbiContract(WINDOWS_X64_ABI)`` is
this contract; ``symabi.contracts.sysv_amd64`` and ``symabi.contracts.aapcs64`` are the same class over
other host ABIs.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from symabi.contracts import solver
from symabi.contracts.base import CheckContext, Finding
from symabi.engine.explore import PathOutcome
from symabi.obligations import symbolic
from symabi.obligations.abi_internal import R14_AT_CALL, X15_AT_CALL
from symabi.obligations.callee_saved import preserved
from symabi.obligations.definition import Obligation
from symabi.obligations.direction_flag import DF_AT_CALL, DF_AT_RETURN
from symabi.obligations.faults import NO_FAULT
from symabi.obligations.host_abi import for_host_abi
from symabi.obligations.stack_pointer import RETURN, restore_sp
from symabi.obligations.stack_writes import WILD_WRITE_TARGET, WRITES_OWNED, stack_writes
from symabi.ports import WINDOWS_X64 as WINDOWS_X64_ABI
from symabi.ports import HostAbi
from symabi.ports.arch import AMD64

# The names this module has always had
NONVOLATILE_GPRS = tuple(c.register for c in WINDOWS_X64_ABI.callee_saved if c.bits == 64)
NONVOLATILE_XMMS = tuple(c.register for c in WINDOWS_X64_ABI.callee_saved if c.bits == 128)
PRESERVED = preserved(WINDOWS_X64_ABI)
RSP = restore_sp(AMD64)
STACK_WRITES = stack_writes(WINDOWS_X64_ABI)
ABI_INTERNAL = (X15_AT_CALL, R14_AT_CALL)

__all__ = ["DF_AT_CALL", "DF_AT_RETURN", "NO_FAULT", "RETURN", "RSP", "STACK_WRITES", "WILD_WRITE_TARGET",
           "WRITES_OWNED", "HostAbiContract", "WINDOWS_X64"]


@dataclass(frozen=True)
class HostAbiContract:
    """The obligations of one host ABI (``abi``), checked on a path."""

    abi: HostAbi
    name: str = ""
    doc: str = ""
    obligations: tuple[Obligation, ...] = field(default=())
    stack_writes: Obligation = field(init=False, repr=False)  # the ABI's (with or without a home area)

    def __post_init__(self):
        set_ = object.__setattr__  # frozen: the derived fields are filled in once, here
        set_(self, "name", self.name or self.abi.name)
        set_(self, "stack_writes", stack_writes(self.abi))
        if not self.obligations:
            set_(self, "obligations", for_host_abi(self.abi))

    def check(self, path: PathOutcome, ctx: CheckContext) -> list[Finding]:
        ctx = symbolic.with_solver(path, ctx)
        return symbolic.shared_witnesses(solver.all_hold(
            ctx.solver, lambda s: [symbolic.evaluate(ob, path, replace(ctx, solver=s)) for ob in self.obligations]))


WindowsX64Contract = HostAbiContract  # the name it had before the contract was parametrized
WINDOWS_X64 = HostAbiContract(WINDOWS_X64_ABI, doc=__doc__.strip().splitlines()[0])
