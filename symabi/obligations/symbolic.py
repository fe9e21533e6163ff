"""The symbolic evaluator: an obligation's claim judged by Z3 over one path record of the engine.

``evaluate(ob, path, ctx)`` reads ``ob.when`` and ``ob.claim`` (``symabi.obligations.definition``) and
gives one ``Finding``. ``ctx`` is a ``symabi.contracts.base.CheckContext`` with the path's solver
(``with_solver``). When an obligation is judged at the return, the way the path ended decides first:

    returned          the claim is checked on the state there
    escaped           return-to-caller: can the target differ from the return address; the others n/a
    aborted, faulted  n/a (a fault is no-fault's business)
    unknown           unknown (the path did not finish)

An obligation judged at the return to an ABIInternal caller (go-to-host's X15 and R14) is n/a on a path Go
entered with ABI0. An obligation judged at calls (every call, calls into ABIInternal Go, calls into host
code: the claim names the host callees, or every callee is one) or over the whole path is checked over
what the path did before it ended, and unknown on an unfinished path that showed no violation.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import claripy

from symabi.contracts import solver
from symabi.contracts.base import CheckContext, Finding
from symabi.engine.explore import ABORTED, ESCAPED, FAULTED, RETURNED, UNKNOWN, PathOutcome
from symabi.engine.registers import x87_in_use
from symabi.models.entry_go import GO_ENTRY
from symabi.models.go_abiinternal import FACTS as ABI_INTERNAL_FACTS
from symabi.obligations import definition as d
from symabi.obligations.code_scan import executed_writers
from symabi.obligations.definition import Obligation


@dataclass(frozen=True)
class WithSolver:
    """The check context plus the path's solver, built once per path."""

    base: CheckContext
    solver: solver.PathSolver

    def __getattr__(self, name):
        return getattr(self.base, name)


def with_solver(path: PathOutcome, ctx: CheckContext) -> WithSolver:
    if ctx.solvers is not None:
        return WithSolver(ctx, ctx.solvers.for_path(path.state))
    return WithSolver(ctx, solver.PathSolver(path.state.solver.constraints, ctx.timeout_ms))


def evaluate(ob: Obligation, path: PathOutcome, ctx: WithSolver) -> Finding:
    claim = ob.claim
    if ob.when in (d.AT_RETURN, d.AT_RETURN_TO_ABIINTERNAL):
        return ending(ob, path, ctx) or _abi0_caller(ob, path) or _AT_RETURN[type(claim)](ob, claim, path, ctx)
    if ob.when in (d.AT_EVERY_CALL, d.AT_EVERY_ABIINTERNAL_CALL, d.AT_EVERY_HOST_CALL):
        return at_calls(ob, path, ctx)
    if isinstance(claim, d.Untouched):
        return _untouched(ob, claim, path, ctx)
    return _ON_PATH[type(claim)](ob, claim, path, ctx)


def ask(ob, path, violated, observe, ctx, site, detail="") -> Finding:
    """Can ``violated`` hold on the path? holds, unknown, or violated with a shrunk witness of ``observe``."""
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


def shared_witnesses(findings: list[Finding]) -> list[Finding]:
    """The path's findings, each violation's witness replaced by the widest one of the path that extends it
    (fixes each input it fixes, to the same value). ``solver.ask`` widens a witness over the violations it
    shows after the first; an extension of a witness is one too (what it adds occurs in none of the
    violation's expressions nor the path's constraints), so those violations end with one witness, and
    one replay (``symabi.prover._replay``)."""
    witnesses = [f.inputs for f in findings if f.status == "violated" and f.inputs]
    return [replace(f, inputs=max((w for w in witnesses if w.items() >= f.inputs.items()), key=len))
            if f.status == "violated" and f.inputs else f for f in findings]


def _finished(ob: Obligation, path: PathOutcome) -> Finding:
    """Nothing the path did broke the obligation: it holds, unless the path did not finish."""
    if path.kind == UNKNOWN:
        return Finding(ob, path.index, "unknown", detail=path.reason, site=path.ins_addr)
    return Finding(ob, path.index, "holds")


# ---- at return ------------------------------------------------------------------------------------


def ending(ob: Obligation, path: PathOutcome, ctx) -> Finding | None:
    """What the way a path ended decides for an obligation judged at the return (see the module doc);
    None when it returned, so the obligation is checked on the state there."""
    if path.kind == UNKNOWN:
        return Finding(ob, path.index, "unknown", detail=path.reason, site=path.ins_addr)
    if path.kind in (ABORTED, FAULTED):
        return Finding(ob, path.index, "n/a", detail=path.reason, site=path.ins_addr)
    if isinstance(ob.claim, d.ReturnsToCaller):
        return _returns(ob, path, ctx)
    if path.kind == ESCAPED:
        return Finding(ob, path.index, "n/a", detail="the path never returns", site=path.ins_addr)
    return None


def _abi0_caller(ob: Obligation, path: PathOutcome) -> Finding | None:
    """n/a for an obligation owed only to an ABIInternal Go caller, on a path Go entered otherwise."""
    if ob.when != d.AT_RETURN_TO_ABIINTERNAL:
        return None
    entry = path.state.globals.get(GO_ENTRY)
    if entry is None or entry.abi != "abiinternal":
        return Finding(ob, path.index, "n/a", detail="the Go caller used ABI0", site=path.ins_addr)
    return None


def same_as_entry(ob: Obligation, path: PathOutcome, ctx, register: str, detail: str = "") -> Finding:
    entry, exit_ = ctx.regs[register], path.state.registers.load(register)
    return ask(ob, path, exit_ != entry, {"entry": entry, "exit": exit_}, ctx, path.ins_addr,
               detail or f"{register.upper()} is not preserved")


def _same(ob, claim: d.SameAsEntry, path, ctx) -> Finding:
    return same_as_entry(ob, path, ctx, claim.register, claim.broken)


def _sp_restored(ob, claim: d.StackPointerRestored, path, ctx) -> Finding:
    entry, exit_ = ctx.regs[claim.register], path.state.registers.load(claim.register)
    name = claim.register.upper()
    what = f"{name} at return is not entry {name} + {claim.popped}" if claim.popped else \
        f"{name} at return is not the entry {name}"
    return ask(ob, path, exit_ != entry + claim.popped, {"entry": entry, "exit": exit_}, ctx, path.ins_addr, what)


def _returns(ob, path, ctx) -> Finding:
    if path.kind == RETURNED:
        return Finding(ob, path.index, "holds", site=path.ins_addr)
    target = path.target if path.target is not None else path.state.regs.ip
    return ask(ob, path, target != ctx.regs.return_address, {"entry": ctx.regs.return_address, "exit": target},
               ctx, path.ins_addr, f"control does not return to the caller: {path.reason}")


def _flag_at_return(ob, claim: d.FlagClear, path, ctx) -> Finding:
    flag = _flag(path.state, claim.flag)
    return ask(ob, path, flag != 0, {"entry": claripy.BVV(0, 8), "exit": flag}, ctx, path.ins_addr,
               f"{claim.flag.upper()} is set at return")


def _flag(state, name: str):
    """A flag as 0 (clear) or 1 (set); VEX keeps DF as +1 (clear) or -1 (set)."""
    assert name == "df"
    return claripy.If(state.regs.d == 1, claripy.BVV(0, 8), claripy.BVV(1, 8))


def _control_state(ob, claim: d.ControlStateKept, path, ctx) -> Finding:
    hits = executed_writers(path.blocks, ctx.image, claim.state)
    if not hits:
        return Finding(ob, path.index, "holds", site=path.ins_addr)
    located = ctx.image.instruction_at(hits[0])
    text = located.text if located else "an instruction"
    changes = "changes" if claim.state != "fpcr" else "writes"
    return Finding(ob, path.index, "unknown", site=hits[0],
                   detail=f"the path executes {text}, which {changes} {claim.name}; whether the value at return "
                          "is the entry value is not modelled")


def _zero_at_return(ob, claim: d.RegisterZero, path, ctx) -> Finding:
    value = path.state.registers.load(claim.register)
    return ask(ob, path, value != 0, {"entry": claripy.BVV(0, claim.bits), "exit": value}, ctx, path.ins_addr,
               f"{_name(claim.register)} is not zero at the return to ABIInternal code")


def _name(register: str) -> str:
    return "X15" if register == "xmm15" else register.upper()


def _x87_empty(ob, in_use, path, ctx, site, where: str) -> Finding:
    """"exit": how many of the eight x87 registers hold a value (8 after an MMX instruction), "entry": 0."""
    if in_use is None:
        return Finding(ob, path.index, "unknown", site=site, detail="the x87 tags are not modelled here")
    return ask(ob, path, in_use != 0, {"entry": claripy.BVV(0, 8), "exit": in_use}, ctx, site,
               f"the x87 stack is not empty {where} (x87 registers in use; 8: MMX state, no EMMS)")


def _x87_at_return(ob, _claim: d.X87Empty, path, ctx) -> Finding:
    return _x87_empty(ob, x87_in_use(path.state), path, ctx, path.ins_addr, "at return")


_AT_RETURN = {d.SameAsEntry: _same, d.StackPointerRestored: _sp_restored, d.FlagClear: _flag_at_return,
              d.ControlStateKept: _control_state, d.RegisterZero: _zero_at_return, d.X87Empty: _x87_at_return}


# ---- at every call --------------------------------------------------------------------------------


def at_calls(ob: Obligation, path: PathOutcome, ctx) -> Finding:
    """The claim's predicate at each call the path makes (into ABIInternal callees only, or host callees
    only, when so judged): the first call where it can fail decides."""
    facts = path.state.globals.get(ABI_INTERNAL_FACTS)  # recorded at entry when the callees are ABIInternal
    for event in path.calls:
        if ob.when == d.AT_EVERY_ABIINTERNAL_CALL and (facts is None or event.callee not in facts.callees):
            continue
        if ob.when == d.AT_EVERY_HOST_CALL and not d.judged_at(ob.claim, event.callee):
            continue
        finding = _AT_CALL[type(ob.claim)](ob, ob.claim, event, facts, path, ctx)
        if finding.status != "holds":
            return finding
    return _finished(ob, path)


def _flag_at_call(ob, claim: d.FlagClear, event, _facts, path, ctx) -> Finding:
    assert claim.flag == "df"
    flag = claripy.If(event.df_set, claripy.BVV(1, 8), claripy.BVV(0, 8))
    return ask(ob, path, event.df_set, {"entry": claripy.BVV(0, 8), "exit": flag}, ctx, event.site,
               f"DF is set at the call to {event.callee}")


def _zero_at_call(ob, claim: d.RegisterZero, event, _facts, path, ctx) -> Finding:
    value = event.registers[claim.register]
    return ask(ob, path, value != 0, {"entry": claripy.BVV(0, claim.bits), "exit": value}, ctx, event.site,
               f"{_name(claim.register)} is not zero at the call to {event.callee}")


def _g_at_call(ob, claim: d.RegisterIsG, event, facts, path, ctx) -> Finding:
    """The g register (R14, arm64's R28) = the current g, which is 0 only on a thread without one; "entry" in a
    witness is the current g, "exit" the register at the call. Zero is no wildcard: Go code entered with g = 0
    on a thread that has a g reads 16(g) in its stack check, or takes getg() = nil for a foreign thread (stop 23:
    R28 = 0 on a goroutine's thread faulted under qemu, "fatal: bad g in signal handler")."""
    g = facts.current_g
    reg, name = event.registers[claim.register], claim.register.upper()
    rewritten = [a for a, _ in event.memory if any(
        a.region == region and a.offset < offset + size and offset < a.offset + a.size
        for region, offset, size in g.words)]
    if g.value is None or rewritten:
        why = g.reason or (f"the code wrote {rewritten[0].region}{rewritten[0].offset:+#x} (the TLS slot or "
                           "the g word) before the call, so the current g is not the one at entry")
        return Finding(ob, path.index, "unknown", site=event.site,
                       detail=f"{name} at the call to {event.callee} is not known to be the current g, and {why}")
    return ask(ob, path, reg != g.value, {"entry": g.value, "exit": reg}, ctx, event.site,
               f"{name} is not the current g at the call to {event.callee}")


def _aligned_at_call(ob, claim: d.StackAligned, event, _facts, path, ctx) -> Finding:
    """"exit": the stack pointer mod ``modulus`` before the call pushed anything, "entry": 0 (what the host
    requires)."""
    arch = ctx.image.arch
    residue = (event.rsp + arch.return_slot) & (claim.modulus - 1)
    when = "before" if arch.return_slot else "at"
    return ask(ob, path, residue != 0, {"entry": claripy.BVV(0, 64), "exit": residue}, ctx, event.site,
               f"{arch.stack_pointer.upper()} is not 0 mod {claim.modulus} {when} the call to {event.callee}")


def _home_area_at_call(ob, claim: d.HomeAreaReserved, event, _facts, path, ctx) -> Finding:
    """The home area [SP + slot, SP + slot + size) at the callee's entry must end at or below the trampoline's
    return address (entry SP + 0), or below another stack's free-space limit; "exit" in a witness is the
    callee's SP as an offset from the base of the stack it is on."""
    arch = ctx.image.arch
    sp, home, slot, entry_sp = event.rsp, claim.size, arch.return_slot, ctx.regs[arch.stack_pointer]
    if entry_sp.variables <= sp.variables:
        base, limit, where, name = entry_sp, 0, "its return address", f"entry {arch.stack_pointer.upper()}"
    else:
        stacks = [name for name in ctx.other_stacks if f"world.{name}" in sp.variables]
        if not stacks:
            return Finding(ob, path.index, "unknown", site=event.site,
                           detail=f"the stack pointer at the call to {event.callee} is on no stack the model "
                                  "knows, so where its home area lies is not known")
        name = stacks[0]
        base = claripy.BVS(f"world.{name}", 64, explicit_name=True)
        limit = ctx.other_stacks[name]
        where = f"the free space of {name} (which ends at {name}+{limit:#x})"
    delta = sp - base
    answer = solver.ask(ctx.solver, claripy.SGT(delta + slot + home, limit), {"exit": delta})
    if answer.status == solver.HOLDS:
        return Finding(ob, path.index, "holds", site=event.site)
    if answer.status == solver.UNKNOWN:
        return Finding(ob, path.index, "unknown", detail=answer.reason, site=event.site)
    offset = _signed(answer.values["exit"])
    return Finding(ob, path.index, "violated", exit=offset, site=event.site, inputs=answer.inputs,
                   detail=f"the {home}-byte home area of the call to {event.callee} ({name}{offset + slot:+#x} .. "
                          f"{name}{offset + slot + home:+#x}) reaches above {where}")


def _signed(value: int) -> int:
    return value - (1 << 64) if value & (1 << 63) else value


def _x87_at_call(ob, _claim: d.X87Empty, event, _facts, path, ctx) -> Finding:
    return _x87_empty(ob, event.x87_in_use, path, ctx, event.site, f"at the call to {event.callee}")


_AT_CALL = {d.FlagClear: _flag_at_call, d.RegisterZero: _zero_at_call, d.RegisterIsG: _g_at_call,
            d.StackAligned: _aligned_at_call, d.HomeAreaReserved: _home_area_at_call, d.X87Empty: _x87_at_call}


# ---- at every call and at return; over the whole path ---------------------------------------------


def _untouched(ob, claim: d.Untouched, path, ctx) -> Finding:
    reg, entry = claim.register, ctx.regs[claim.register]
    for event in path.calls:
        value = event.registers[reg]
        finding = ask(ob, path, value != entry, {"entry": entry, "exit": value}, ctx, event.site,
                      f"{reg.upper()} is not the platform's at the call to {event.callee}")
        if finding.status != "holds":
            return finding
    if path.kind == RETURNED:
        value = path.state.registers.load(reg)
        finding = ask(ob, path, value != entry, {"entry": entry, "exit": value}, ctx, path.ins_addr,
                      f"{reg.upper()} is not the platform's at return")
        if finding.status != "holds":
            return finding
    writers = executed_writers(path.blocks, ctx.image, reg)
    if writers:
        located = ctx.image.instruction_at(writers[0])
        return Finding(ob, path.index, "unknown", site=writers[0],
                       detail=f"the path executes {located.text if located else 'an instruction'}, which writes "
                              f"{reg.upper()}; what an exception or signal taken meanwhile sees is not modelled")
    return _finished(ob, path)


def _stores_in_frame(ob, claim: d.StoresInFrame, path, ctx) -> Finding:
    for access in path.state.globals["writes"]:
        other = _on_other_stack(ob, access, path, ctx)
        if other is not None:
            return other
        if access.region != "stack":
            continue
        if not claim.allows(access.offset, access.size):
            return Finding(
                ob, path.index, "violated", exit=access.offset,
                detail=f"writes {access.size} bytes at entry {claim.stack_pointer} {access.offset:+#x} "
                       f"({claim.what(access.offset)})",
                site=access.ins_addr,
            )
    return _finished(ob, path)


def _stores_in_go_frame(ob, claim: d.StoresInGoFrame, path, ctx) -> Finding:
    entry = path.state.globals.get(GO_ENTRY)
    if entry is None:
        return Finding(ob, path.index, "unknown", site=path.ins_addr,
                       detail="the entry convention is not a Go one, so which words above the return address "
                              "belong to the trampoline is not known")
    sp = claim.stack_pointer
    for access in path.state.globals["writes"]:
        other = _on_other_stack(ob, access, path, ctx)
        if other is not None:
            return other
        if access.region == "stack" and not claim.allows(access.offset, access.size, entry.frame):
            return Finding(ob, path.index, "violated", exit=access.offset, site=access.ins_addr,
                           detail=f"writes {access.size} bytes at entry {sp} {access.offset:+#x} "
                                  f"({claim.what(access.offset)}; the argument and result words are entry "
                                  f"{sp}+{claim.args_at:#x} .. +{claim.args_at + entry.frame:#x})")
    return _finished(ob, path)


def _on_other_stack(ob, access, path, ctx) -> Finding | None:
    """A store into the live frames above another stack's free space (violated), else None."""
    floor = ctx.other_stacks.get(access.region)
    if floor is None or access.offset + access.size <= floor:
        return None
    return Finding(ob, path.index, "violated", exit=access.offset, site=access.ins_addr,
                   detail=f"writes {access.size} bytes at {access.region}{access.offset:+#x}, in the live frames "
                          f"above its free space (which ends at {access.region}{floor:+#x})")


def _stores_owned(ob, claim: d.StoresOwned, path, ctx) -> Finding:
    wild = path.wild_write
    if wild is None:
        return _finished(ob, path)
    detail = f"writes {wild.size} bytes through an address the host's values choose"
    aim = ctx.regs[ctx.image.arch.stack_pointer] + ctx.caller_frame + claim.aim
    finding = ask(ob, path, wild.address == aim, {"exit": wild.address}, ctx, wild.ins_addr,
                  detail + ", here into the caller's frame")
    if finding.status == "holds":  # it cannot reach the caller's frame: it lands wherever the host's values say
        finding = ask(ob, path, claripy.BoolV(True), {"exit": wild.address}, ctx, wild.ins_addr, detail)
    return finding


def _no_fault(ob, _claim, path, ctx) -> Finding:
    if path.kind == FAULTED:  # the path's constraints include the condition under which it faults
        return ask(ob, path, claripy.BoolV(True), {}, ctx, path.ins_addr, path.reason)
    return _finished(ob, path)


_ON_PATH = {d.StoresInFrame: _stores_in_frame, d.StoresInGoFrame: _stores_in_go_frame, d.StoresOwned: _stores_owned,
            d.NoFault: _no_fault}
