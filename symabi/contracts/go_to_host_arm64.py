"""go-to-host on arm64: what Go code that calls into host code (C, the OS) owes the host at each call, and
its Go caller when it returns, under AAPCS64 and its Apple and Windows variants.

At every call (a BL or BLR; ``symabi.models.host_callee`` models the host callee):

    host-stack-aligned-at-call   SP is 16-byte aligned (AAPCS64 5.2.2: at every public interface; the CPU's
                                 SP alignment check faults on the callee's first SP-based access otherwise).
                                 Checked at every call of the path: Go's arm64 ABIs keep SP 16-byte aligned
                                 too, so a Go helper the trampoline calls (runtime·save_g) owes the same

When the trampoline returns to Go (src/cmd/compile/abi-internal.md, "arm64 architecture"):

    restore-sp, return-to-caller   SP = entry SP, control back at the entry X30
    preserve-x29                   the frame pointer as the caller left it ("Same" in both Go ABIs)
    x28-g-at-return                R28 = the current g, as at entry: the assembler's `g` is R28 in ABI0 and
                                   ABIInternal code alike, so both Go ABIs expect it back
    stack-writes-in-go-frame       no store at or above entry SP - 8 (the caller's saved frame pointer, its
                                   saved-LR slot at 0(RSP)) outside the argument and result words at 8(RSP) up
    no-fault                       no instruction faults (an SP alignment fault, a page fault)

Nothing the trampoline relies on after a host call may be kept in a host-volatile register (X0-X18 but
where the platform reserves X18, X30, V0-V7, V16-V31, the high halves of V8-V15) or below SP: the host
callee model clobbers them, so such a reliance shows up as one of the obligations above failing (SP or R29
not restored, g lost, a fault through a clobbered pointer, a wrong return), on the line that uses it.
"""

from __future__ import annotations

from dataclasses import dataclass

import claripy

from symabi.contracts import solver
from symabi.contracts.base import CheckContext, Finding, Obligation
from symabi.contracts.go_to_host import GoToHostContract
from symabi.contracts.windows_x64 import RETURN, _WithSolver
from symabi.engine.explore import PathOutcome
from symabi.models.entry_go import GO_ENTRY
from symabi.obligations.faults import NO_FAULT_ARM64 as NO_FAULT

ALIGNED = Obligation("host-stack-aligned-at-call", "sp", "host-call",
                     "SP is 16-byte aligned at every BL into host code (AAPCS64; a BL pushes nothing)",
                     applies_on_abort=True)
SP = Obligation("restore-sp", "sp", "stack-pointer", "SP at return equals SP at entry")
PRESERVE_X29 = Obligation("preserve-x29", "x29", "go-callee-saved",
                          "R29 at return equals R29 at entry (Go's frame pointer)")
G_AT_RETURN = Obligation("x28-g-at-return", "x28", "go-return",
                         "R28 at return equals R28 at entry, the current g (Go's arm64 ABIs keep g in R28)")
GO_STACK_WRITES = Obligation(
    "stack-writes-in-go-frame", "stack", "stack-writes",
    "stack writes stay below entry SP - 8 (the caller's saved frame pointer and its saved-LR slot are above) or "
    "in the argument and result words from entry SP + 8 (and, on another stack the world declares, in its free "
    "space)", applies_on_abort=True)
_AT_RETURN = {SP.id: "SP at return is not the entry SP", PRESERVE_X29.id: "R29 (the frame pointer) is not preserved",
              G_AT_RETURN.id: "R28 at return is not the current g the caller entered with"}


@dataclass(frozen=True)
class GoToHostArm64Contract(GoToHostContract):
    """The go-to-host obligations over an arm64 host ABI."""

    reserved_below = 8  # the caller's saved R29 at entry SP - 8 (Go's arm64 frame layout)

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "name", "go-to-host")
        set_(self, "doc", f"Go code calling into host code under the {self.abi.name} ABI, and returning to Go")
        set_(self, "stack_writes", GO_STACK_WRITES)
        set_(self, "obligations", (ALIGNED, SP, RETURN, PRESERVE_X29, G_AT_RETURN, GO_STACK_WRITES, NO_FAULT))

    def check(self, path: PathOutcome, ctx: CheckContext) -> list[Finding]:
        ctx = _WithSolver(ctx, solver.PathSolver(path.state.solver.constraints, ctx.timeout_ms))
        entry = path.state.globals.get(GO_ENTRY)
        findings = []
        for ob in self.obligations:
            if ob is ALIGNED:
                findings.append(self._at_calls(ob, path, ctx))
            elif ob is GO_STACK_WRITES:
                findings.append(self._go_stack_writes(path, ctx, entry))
            elif ob is NO_FAULT:
                findings.append(self._no_fault(path, ctx, NO_FAULT))
            elif (ending := self._ending(ob, path, ctx)) is not None:
                findings.append(ending)
            else:
                exit_ = path.state.registers.load(ob.location)
                entry_value = ctx.regs[ob.location]
                findings.append(self._ask(ob, path, exit_ != entry_value, {"entry": entry_value, "exit": exit_}, ctx,
                                          path.ins_addr, _AT_RETURN[ob.id]))
        return findings

    def _aligned(self, event, path: PathOutcome, ctx) -> Finding:
        """"exit": SP mod 16 at the BL (SP at the callee's first instruction), "entry": 0."""
        modulus, remainder = self.abi.arch.entry_alignment
        residue = event.rsp & (modulus - 1)
        return self._ask(ALIGNED, path, residue != remainder, {"entry": claripy.BVV(remainder, 64), "exit": residue},
                         ctx, event.site, f"SP is not {remainder} mod {modulus} at the call to {event.callee}")
