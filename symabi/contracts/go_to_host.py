"""go-to-host: what Go code that calls into host code (C, the OS) owes the host at each call, and its Go
caller when it returns.

At every call into host code (a callee of a ``host-*`` model, ``symabi.models.host_callee``), the host
ABI's rules (``symabi.ports.abi.HostAbi``, here the case's port's):

    host-stack-aligned-at-call   the stack pointer is aligned as the host requires before the CALL
                                 (amd64: RSP = 0 mod 16, so 8 mod 16 at the callee's first instruction)
    home-area-at-call            (Windows) the home area above the return address lies in the
                                 trampoline's own frame: below its return address, or below the free-space
                                 limit of another stack the world declares (g0's)
    df-clear-at-call             DF is clear

When the trampoline returns to Go, Go's rules (src/cmd/compile/abi-internal.md, amd64):

    restore-rsp, return-to-caller    RSP = entry RSP + 8, control back at the Go caller's return address
    preserve-rbp                     the frame pointer as the caller left it ("Same" in both Go ABIs)
    df-clear-at-return               Go expects DF clear
    x15-zero-at-return, r14-g-at-return (ABIInternal entries only) X15 = 0 and R14 = g ("Same"); ABI0
                                     leaves both undefined (n/a)
    stack-writes-in-go-frame         no store at or above the entry RSP outside the argument and result words
    no-fault                         no instruction faults

Nothing the trampoline relies on after a host call may be kept in a host-volatile register or below its
stack pointer: the host callee model clobbers both, so such a reliance shows up as one of the obligations
above failing (RSP or BP not restored, a fault through a clobbered pointer, a wrong return), on the line
that uses the lost value. R15 is "Same" in Go only in dynamically linked code, which is not checked.

On an arm64 port ``for_port`` gives ``symabi.contracts.go_to_host_arm64``'s contract (SP, R29, R28).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import claripy

from symabi.contracts import solver
from symabi.contracts.base import CheckContext, Finding, Obligation
from symabi.contracts.windows_x64 import DF_AT_CALL, DF_AT_RETURN, NO_FAULT, RETURN, RSP, HostAbiContract, \
    _WithSolver
from symabi.engine.explore import UNKNOWN, PathOutcome
from symabi.errors import CaseError
from symabi.models.entry_go import GO_ENTRY
from symabi.ports import WINDOWS_X64
from symabi.ports.table import Port

ALIGNED = Obligation("host-stack-aligned-at-call", "rsp", "host-call",
                     "RSP is 0 mod 16 before every CALL into host code (the host ABI's stack alignment)",
                     applies_on_abort=True)
HOME_AREA = Obligation("home-area-at-call", "stack", "host-call",
                       "the home area the host callee may write above its return address lies in the trampoline's "
                       "own frame (below its return address, or in another stack's free space)",
                       applies_on_abort=True)
DF_AT_HOST_CALL = replace(DF_AT_CALL, doc="DF is clear on every call into host code")
PRESERVE_RBP = Obligation("preserve-rbp", "rbp", "go-callee-saved",
                          "RBP at return equals RBP at entry (Go's frame pointer)")
X15_AT_RETURN = Obligation("x15-zero-at-return", "xmm15", "abiinternal-return",
                           "X15 is zero when control returns to an ABIInternal caller")
R14_AT_RETURN = Obligation("r14-g-at-return", "r14", "abiinternal-return",
                           "R14 at return equals R14 at entry, the current g (ABIInternal callers only)")
GO_STACK_WRITES = Obligation("stack-writes-in-go-frame", "stack", "stack-writes",
                             "stack writes stay below the entry RSP or in the argument and result words above the "
                             "return address (and, on another stack the world declares, in its free space)",
                             applies_on_abort=True)
_AT_CALL = (ALIGNED, HOME_AREA, DF_AT_HOST_CALL)
_ABI_INTERNAL = (X15_AT_RETURN, R14_AT_RETURN)


def _signed(value: int) -> int:
    return value - (1 << 64) if value & (1 << 63) else value


@dataclass(frozen=True)
class GoToHostContract(HostAbiContract):
    """The go-to-host obligations over one host ABI; ``for_port`` rebinds it to a case's port."""

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "name", "go-to-host")
        set_(self, "doc", f"Go code calling into host code under the {self.abi.name} ABI, and returning to Go")
        set_(self, "stack_writes", GO_STACK_WRITES)
        at_call = tuple(ob for ob in _AT_CALL if ob is not HOME_AREA or self.abi.home_area)
        set_(self, "obligations", (*at_call, RSP, RETURN, PRESERVE_RBP, DF_AT_RETURN, *_ABI_INTERNAL,
                                   GO_STACK_WRITES, NO_FAULT))

    reserved_below = 0  # bytes right below the entry stack pointer that are the caller's (arm64: its saved FP)

    def for_port(self, port: Port) -> GoToHostContract:
        if port.goarch == "arm64":  # its own obligations (SP, R29, R28): symabi.contracts.go_to_host_arm64
            from symabi.contracts.go_to_host_arm64 import GoToHostArm64Contract

            return GoToHostArm64Contract(port.abi)
        if port.goarch != "amd64":  # its obligations and the host callee model are amd64's (RSP, RBP, X15, R14)
            raise CaseError(f"contract go-to-host is checked on amd64 and arm64 ports only, not {port.name}")
        return self if port.abi is None or port.abi == self.abi else GoToHostContract(port.abi)

    def check(self, path: PathOutcome, ctx: CheckContext) -> list[Finding]:
        ctx = _WithSolver(ctx, solver.PathSolver(path.state.solver.constraints, ctx.timeout_ms))
        entry = path.state.globals.get(GO_ENTRY)
        findings = []
        for ob in self.obligations:
            if ob is ALIGNED or ob is HOME_AREA:
                findings.append(self._at_calls(ob, path, ctx))
            elif ob is DF_AT_HOST_CALL:
                findings.append(replace(self._df_at_calls(path, ctx), obligation=ob))
            elif ob is GO_STACK_WRITES:
                findings.append(self._go_stack_writes(path, ctx, entry))
            elif ob is NO_FAULT:
                findings.append(self._no_fault(path, ctx))
            elif (ending := self._ending(ob, path, ctx)) is not None:
                findings.append(ending)
            elif ob in _ABI_INTERNAL and (entry is None or entry.abi != "abiinternal"):
                findings.append(Finding(ob, path.index, "n/a", detail="the Go caller used ABI0", site=path.ins_addr))
            elif ob is X15_AT_RETURN:
                x15 = path.state.regs.xmm15
                findings.append(self._ask(ob, path, x15 != 0, {"entry": claripy.BVV(0, 128), "exit": x15}, ctx,
                                          path.ins_addr, "X15 is not zero at the return to ABIInternal code"))
            else:
                findings.append(self._at_return(ob, path, ctx))
        return findings

    # ---- at each host call ------------------------------------------------------------------------

    def _at_calls(self, ob: Obligation, path: PathOutcome, ctx) -> Finding:
        for event in path.calls:
            finding = self._aligned(event, path, ctx) if ob.id == ALIGNED.id else self._home_area(event, path, ctx)
            if finding.status != "holds":
                return finding
        if path.kind == UNKNOWN:
            return Finding(ob, path.index, "unknown", detail=path.reason, site=path.ins_addr)
        return Finding(ob, path.index, "holds")

    def _aligned(self, event, path: PathOutcome, ctx) -> Finding:
        """"exit": RSP mod 16 before the CALL (the callee's RSP + 8), "entry": what the host requires."""
        modulus, remainder = self.abi.arch.entry_alignment
        before = (event.rsp + 8) & (modulus - 1)
        wanted = (remainder + 8) & (modulus - 1)
        return self._ask(ALIGNED, path, before != wanted, {"entry": claripy.BVV(wanted, 64), "exit": before}, ctx,
                         event.site, f"RSP is not {wanted} mod {modulus} before the call to {event.callee}")

    def _home_area(self, event, path: PathOutcome, ctx) -> Finding:
        """The home area [RSP+8, RSP+8+home) at the callee's entry must end at or below the trampoline's
        return address (entry RSP + 0), or below another stack's free-space limit; "exit" in a witness is the
        callee's RSP as an offset from the base of the stack it is on."""
        rsp, home = event.rsp, self.abi.home_area
        if ctx.regs["rsp"].variables <= rsp.variables:
            base, limit, where, name = ctx.regs["rsp"], 0, "its return address", "entry RSP"
        else:
            stacks = [name for name in ctx.other_stacks if f"world.{name}" in rsp.variables]
            if not stacks:
                return Finding(HOME_AREA, path.index, "unknown", site=event.site,
                               detail=f"the stack pointer at the call to {event.callee} is on no stack the model "
                                      "knows, so where its home area lies is not known")
            name = stacks[0]
            base = claripy.BVS(f"world.{name}", 64, explicit_name=True)
            limit, where = ctx.other_stacks[name], f"the free space of {name} (which ends at {name}+{ctx.other_stacks[name]:#x})"
        delta = rsp - base
        answer = solver.ask(ctx.solver, claripy.SGT(delta + 8 + home, limit), {"exit": delta})
        if answer.status == solver.HOLDS:
            return Finding(HOME_AREA, path.index, "holds", site=event.site)
        if answer.status == solver.UNKNOWN:
            return Finding(HOME_AREA, path.index, "unknown", detail=answer.reason, site=event.site)
        offset = _signed(answer.values["exit"])
        return Finding(HOME_AREA, path.index, "violated", exit=offset, site=event.site, inputs=answer.inputs,
                       detail=f"the {home}-byte home area of the call to {event.callee} ({name}{offset + 8:+#x} .. "
                              f"{name}{offset + 8 + home:+#x}) reaches above {where}")

    # ---- stack writes -------------------------------------------------------------------------------

    def _go_stack_writes(self, path: PathOutcome, ctx, entry) -> Finding:
        ob, sp = self.stack_writes, self.abi.arch.stack_pointer.upper()
        if entry is None:
            return Finding(ob, path.index, "unknown", site=path.ins_addr,
                           detail="the entry convention is not a Go one, so which words above the return address "
                                  "belong to the trampoline is not known")
        for access in path.state.globals["writes"]:
            if access.region in ctx.other_stacks and access.offset + access.size > ctx.other_stacks[access.region]:
                floor = ctx.other_stacks[access.region]
                return Finding(ob, path.index, "violated", exit=access.offset, site=access.ins_addr,
                               detail=f"writes {access.size} bytes at {access.region}{access.offset:+#x}, in the live "
                                      f"frames above its free space (which ends at {access.region}{floor:+#x})")
            if access.region != "stack":
                continue
            below = access.offset + access.size <= -self.reserved_below
            frame = 8 <= access.offset and access.offset + access.size <= 8 + entry.frame
            if not (below or frame):
                what = "the caller's saved frame pointer" if access.offset < 0 and self.reserved_below else \
                    "the return address" if access.offset < self.abi.arch.return_slot else \
                    "the caller's saved-LR slot" if access.offset < 8 else "the caller's frame"
                return Finding(ob, path.index, "violated", exit=access.offset, site=access.ins_addr,
                               detail=f"writes {access.size} bytes at entry {sp} {access.offset:+#x} ({what}; the "
                                      f"argument and result words are entry {sp}+0x8 .. +{8 + entry.frame:#x})")
        if path.kind == UNKNOWN:
            return Finding(ob, path.index, "unknown", detail=path.reason, site=path.ins_addr)
        return Finding(ob, path.index, "holds")


GO_TO_HOST = GoToHostContract(WINDOWS_X64)  # rebound to each case's port by for_port
