"""windows-x64: what a trampoline entered from the Windows x64 ABI owes its caller.

The Microsoft x64 calling convention makes RBX, RBP, RDI, RSI, RSP, R12-R15 and XMM6-XMM15 (all
128 bits) non-volatile, and requires DF clear on return. Go ABI0 code may clobber all of them but RSP,
so a trampoline that calls into Go must save and restore each one itself. Go in turn expects DF clear
whenever it is entered.

The checks are written once, over a host ABI's data (``symabi.ports``): its callee-saved registers and
widths, its home area, its control state. ``HostAbiContract(WINDOWS_X64_ABI)`` is this contract;
``symabi.contracts.sysv_amd64`` is the same class over the System V AMD64 ABI.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import claripy

from symabi.contracts import control_state, solver
from symabi.contracts.base import CheckContext, Finding, Obligation
from symabi.engine.explore import ABORTED, ESCAPED, FAULTED, RETURNED, UNKNOWN, PathOutcome
from symabi.models.go_abiinternal import FACTS as ABI_INTERNAL_FACTS
from symabi.ports import WINDOWS_X64 as WINDOWS_X64_ABI
from symabi.ports import HostAbi

NONVOLATILE_GPRS = tuple(c.register for c in WINDOWS_X64_ABI.callee_saved if c.bits == 64)
NONVOLATILE_XMMS = tuple(c.register for c in WINDOWS_X64_ABI.callee_saved if c.bits == 128)


def preserved(abi: HostAbi) -> tuple[Obligation, ...]:
    return tuple(
        Obligation(f"preserve-{c.register}", c.register, "callee-saved",
                   f"{c.register.upper()} at return equals {c.register.upper()} at entry"
                   + (f" (all {c.bits} bits)" if c.register.startswith("xmm") else ""))
        for c in abi.callee_saved
    )


def stack_writes(abi: HostAbi) -> Obligation:
    if abi.home_area:
        return Obligation(
            "stack-writes-in-frame", "stack", "stack-writes",
            f"stack writes stay below the entry RSP or in the caller's {abi.home_area}-byte home area "
            "(and, on another stack the world declares, in its free space)",
            applies_on_abort=True,
        )
    return Obligation(
        "stack-writes-below-entry-rsp", "stack", "stack-writes",
        "stack writes stay below the entry RSP: the caller reserves no home area, so every byte at or above "
        "the return address is the caller's (and, on another stack the world declares, in its free space); "
        f"the {abi.red_zone}-byte red zone below it is the trampoline's own scratch, never safe across a call",
        applies_on_abort=True,
    )


PRESERVED = preserved(WINDOWS_X64_ABI)
RSP = Obligation("restore-rsp", "rsp", "stack-pointer", "RSP at return equals entry RSP + 8 (the return address popped)")
RETURN = Obligation("return-to-caller", "return_address", "return", "control returns to the caller's return address")
DF_AT_RETURN = Obligation("df-clear-at-return", "df", "direction-flag", "DF is clear when control returns to the caller")
DF_AT_CALL = Obligation("df-clear-at-call", "df", "direction-flag", "DF is clear on every call into Go",
                        applies_on_abort=True)
STACK_WRITES = stack_writes(WINDOWS_X64_ABI)
# Go's register ABI (ABIInternal) fixes two registers on entry; checked at every call to such a callee.
X15_AT_CALL = Obligation("x15-zero-at-abiinternal-call", "xmm15", "abiinternal-call",
                         "X15 is zero on every call into Go with ABIInternal", applies_on_abort=True)
R14_AT_CALL = Obligation("r14-g-at-abiinternal-call", "r14", "abiinternal-call",
                         "R14 holds the current g, or zero, on every call into Go with ABIInternal",
                         applies_on_abort=True)
ABI_INTERNAL = (X15_AT_CALL, R14_AT_CALL)
WRITES_OWNED = Obligation(
    "writes-owned-memory", "memory", "memory-writes",
    "no store goes through an address the host's values choose (an entry register, the caller's memory, "
    "bytes nobody wrote): it could land anywhere, the caller's frame included", applies_on_abort=True)
# Where a wild write's witness aims: a word of the caller's own frame, inside the part that is modelled.
WILD_WRITE_TARGET = 0x100
NO_FAULT = Obligation("no-fault", "fault", "fault",
                      "no instruction faults (#DE, #DB, #GP, a page fault); only INT $3 and a callee that never "
                      "returns end a path on purpose", applies_on_abort=True)


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
            set_(self, "obligations", (*preserved(self.abi), RSP, RETURN, DF_AT_RETURN, DF_AT_CALL,
                                       self.stack_writes, WRITES_OWNED, *control_state.obligations(self.abi),
                                       *ABI_INTERNAL, NO_FAULT))

    def check(self, path: PathOutcome, ctx: CheckContext) -> list[Finding]:
        ctx = _WithSolver(ctx, solver.PathSolver(path.state.solver.constraints, ctx.timeout_ms))
        findings = []
        for ob in self.obligations:
            if ob is DF_AT_CALL:
                findings.append(self._df_at_calls(path, ctx))
            elif ob is self.stack_writes:
                findings.append(self._stack_writes(path, ctx))
            elif ob.family == control_state.FAMILY:
                findings.append(control_state.check(ob, path, ctx))
            elif ob in ABI_INTERNAL:
                findings.append(self._abi_internal(ob, path, ctx))
            elif ob is NO_FAULT:
                findings.append(self._no_fault(path, ctx))
            elif ob is WRITES_OWNED:
                findings.append(self._writes_owned(path, ctx))
            elif (ending := self._ending(ob, path, ctx)) is not None:
                findings.append(ending)
            else:
                findings.append(self._at_return(ob, path, ctx))
        return findings

    def _ending(self, ob: Obligation, path: PathOutcome, ctx: CheckContext) -> Finding | None:
        """What the way a path ended decides for an obligation judged at the return: unknown on an unfinished
        path, n/a on one that aborts, faults or escapes (but return-to-caller, judged here); None when it
        returned, so the obligation is checked on the state there."""
        if path.kind == UNKNOWN:
            return Finding(ob, path.index, "unknown", detail=path.reason, site=path.ins_addr)
        if path.kind in (ABORTED, FAULTED):
            return Finding(ob, path.index, "n/a", detail=path.reason, site=path.ins_addr)
        if ob is RETURN:
            return self._return(path, ctx)
        if path.kind == ESCAPED:
            return Finding(ob, path.index, "n/a", detail="the path never returns", site=path.ins_addr)
        return None

    @staticmethod
    def _ask(ob, path, violated, observe, ctx, site, detail="") -> Finding:
        answer = solver.ask(ctx.solver, violated, observe)
        if answer.status == solver.HOLDS:
            return Finding(ob, path.index, "holds", site=site)
        if answer.status == solver.UNKNOWN:
            return Finding(ob, path.index, "unknown", detail=answer.reason, site=site)
        exit_expr = observe.get("exit")
        origin = tuple(sorted(exit_expr.variables)) if exit_expr is not None else ()
        return Finding(
            ob, path.index, "violated", entry=answer.values.get("entry"), exit=answer.values.get("exit"),
            detail=detail, site=site, inputs=answer.inputs, origin=origin,
            origin_exact=exit_expr is not None and exit_expr.op == "BVS",
        )

    def _at_return(self, ob: Obligation, path: PathOutcome, ctx: CheckContext) -> Finding:
        state = path.state
        assert path.kind == RETURNED
        if ob is RSP:
            entry, exit_ = ctx.regs["rsp"], state.regs.rsp
            return self._ask(ob, path, exit_ != entry + 8, {"entry": entry, "exit": exit_}, ctx, path.ins_addr,
                             "RSP at return is not entry RSP + 8")
        if ob is DF_AT_RETURN:
            df = claripy.If(state.regs.d == 1, claripy.BVV(0, 8), claripy.BVV(1, 8))
            return self._ask(ob, path, df != 0, {"entry": claripy.BVV(0, 8), "exit": df}, ctx, path.ins_addr,
                             "DF is set at return")
        entry, exit_ = ctx.regs[ob.location], state.registers.load(ob.location)
        return self._ask(ob, path, exit_ != entry, {"entry": entry, "exit": exit_}, ctx, path.ins_addr,
                         f"{ob.location.upper()} is not preserved")

    def _return(self, path: PathOutcome, ctx: CheckContext) -> Finding:
        if path.kind == RETURNED:
            return Finding(RETURN, path.index, "holds", site=path.ins_addr)
        target = path.target if path.target is not None else path.state.regs.ip
        return self._ask(
            RETURN, path, target != ctx.regs.return_address,
            {"entry": ctx.regs.return_address, "exit": target}, ctx, path.ins_addr,
            f"control does not return to the caller: {path.reason}",
        )

    def _no_fault(self, path: PathOutcome, ctx: CheckContext, ob: Obligation = NO_FAULT) -> Finding:
        if path.kind == FAULTED:  # the path's constraints include the condition under which it faults
            return self._ask(ob, path, claripy.BoolV(True), {}, ctx, path.ins_addr, path.reason)
        if path.kind == UNKNOWN:
            return Finding(ob, path.index, "unknown", detail=path.reason, site=path.ins_addr)
        return Finding(ob, path.index, "holds")

    def _writes_owned(self, path: PathOutcome, ctx: CheckContext) -> Finding:
        wild = path.wild_write
        if wild is None:
            if path.kind == UNKNOWN:
                return Finding(WRITES_OWNED, path.index, "unknown", detail=path.reason, site=path.ins_addr)
            return Finding(WRITES_OWNED, path.index, "holds")
        detail = f"writes {wild.size} bytes through an address the host's values choose"
        aim = ctx.regs["rsp"] + ctx.caller_frame + WILD_WRITE_TARGET
        finding = self._ask(WRITES_OWNED, path, wild.address == aim, {"exit": wild.address}, ctx, wild.ins_addr,
                            detail + ", here into the caller's frame")
        if finding.status == "holds":  # it cannot reach the caller's frame: it lands wherever the host's values say
            finding = self._ask(WRITES_OWNED, path, claripy.BoolV(True), {"exit": wild.address}, ctx,
                                wild.ins_addr, detail)
        return finding

    def _df_at_calls(self, path: PathOutcome, ctx: CheckContext) -> Finding:
        for event in path.calls:
            df = claripy.If(event.df_set, claripy.BVV(1, 8), claripy.BVV(0, 8))
            finding = self._ask(DF_AT_CALL, path, event.df_set, {"entry": claripy.BVV(0, 8), "exit": df}, ctx,
                                event.site, f"DF is set at the call to {event.callee}")
            if finding.status != "holds":
                return finding
        if path.kind == UNKNOWN:
            return Finding(DF_AT_CALL, path.index, "unknown", detail=path.reason, site=path.ins_addr)
        return Finding(DF_AT_CALL, path.index, "holds")

    def _abi_internal(self, ob: Obligation, path: PathOutcome, ctx: CheckContext) -> Finding:
        facts = path.state.globals.get(ABI_INTERNAL_FACTS)  # recorded at entry when the callees are ABIInternal
        for event in path.calls:
            if facts is None or event.callee not in facts.callees:
                continue
            if ob is X15_AT_CALL:
                x15 = event.registers["xmm15"]
                finding = self._ask(ob, path, x15 != 0, {"entry": claripy.BVV(0, 128), "exit": x15}, ctx,
                                    event.site, f"X15 is not zero at the call to {event.callee}")
            else:
                finding = self._g_at(ob, event, facts.current_g, path, ctx)
            if finding.status != "holds":
                return finding
        if path.kind == UNKNOWN:
            return Finding(ob, path.index, "unknown", detail=path.reason, site=path.ins_addr)
        return Finding(ob, path.index, "holds")

    def _g_at(self, ob: Obligation, event, g, path: PathOutcome, ctx: CheckContext) -> Finding:
        """The g register (``ob.location``: R14, arm64's R28) = 0 or the current g; "entry" in a witness is
        the current g, "exit" the register at the call."""
        r14, name = event.registers[ob.location], ob.location.upper()
        rewritten = [a for a, _ in event.memory if any(
            a.region == region and a.offset < offset + size and offset < a.offset + a.size
            for region, offset, size in g.words)]
        if g.value is None or rewritten:
            why = g.reason or (f"the code wrote {rewritten[0].region}{rewritten[0].offset:+#x} (the TLS slot or "
                               "the g word) before the call, so the current g is not the one at entry")
            finding = self._ask(ob, path, r14 != 0, {"entry": claripy.BVV(0, 64), "exit": r14}, ctx, event.site)
            if finding.status == "holds":
                return finding
            return Finding(ob, path.index, "unknown", site=event.site,
                           detail=f"{name} may be non-zero at the call to {event.callee}, and {why}")
        return self._ask(ob, path, claripy.And(r14 != 0, r14 != g.value), {"entry": g.value, "exit": r14},
                         ctx, event.site, f"{name} is neither 0 nor the current g at the call to {event.callee}")

    def _stack_writes(self, path: PathOutcome, ctx: CheckContext) -> Finding:
        ob, home_area = self.stack_writes, self.abi.home_area
        for access in path.state.globals["writes"]:
            if access.region in ctx.other_stacks and access.offset + access.size > ctx.other_stacks[access.region]:
                floor = ctx.other_stacks[access.region]
                return Finding(
                    ob, path.index, "violated", exit=access.offset,
                    detail=f"writes {access.size} bytes at {access.region}{access.offset:+#x}, in the live frames "
                           f"above its free space (which ends at {access.region}{floor:+#x})",
                    site=access.ins_addr,
                )
            if access.region != "stack":
                continue
            below = access.offset + access.size <= 0
            home = home_area > 0 and 8 <= access.offset and access.offset + access.size <= 8 + home_area
            if not (below or home):
                what = "the return address" if access.offset < self.abi.arch.return_slot else "the caller's frame"
                sp = self.abi.arch.stack_pointer.upper()
                return Finding(
                    ob, path.index, "violated", exit=access.offset,
                    detail=f"writes {access.size} bytes at entry {sp} {access.offset:+#x} ({what})",
                    site=access.ins_addr,
                )
        if path.kind == UNKNOWN:
            return Finding(ob, path.index, "unknown", detail=path.reason, site=path.ins_addr)
        return Finding(ob, path.index, "holds")


@dataclass(frozen=True)
class _WithSolver:
    """The check context plus the path's solver, built once per path."""

    base: CheckContext
    solver: solver.PathSolver

    def __getattr__(self, name):
        return getattr(self.base, name)


WindowsX64Contract = HostAbiContract  # the name it had before the contract was parametrized
WINDOWS_X64 = HostAbiContract(WINDOWS_X64_ABI, doc=__doc__.strip().splitlines()[0])
