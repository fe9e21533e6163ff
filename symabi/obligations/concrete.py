"""The concrete evaluator: an obligation's claim judged on one unicorn run (``ConcreteRun``, amd64 and
arm64 alike: ``symabi.replay.arm64`` hands its runs over in the same record).

``evaluate(ob, run)`` reads ``ob.when`` and ``ob.claim`` (``symabi.obligations.definition``), the same
record the symbolic evaluator reads; a concrete run has one value per location, so each obligation
simply holds or fails. Obligations judged at the return depend on how the run ended:

    returned          checked
    escaped           return-to-caller fails (entry: the return address, exit: the target); others n/a
    aborted, faulted  n/a (a fault is no-fault's business)
    error, loop       unknown (the run did not finish)

At the return to an ABIInternal caller, n/a on a run Go entered with ABI0. The others (at calls, at
host calls, over the whole run) are checked over what the run did before it ended. None means this oracle does not judge the
obligation: control state (not modelled), or calls into ABIInternal on a run whose oracle does
not know which calls those are (``ConcreteRun.knows_abi_internal``).
"""

from __future__ import annotations

from dataclasses import dataclass

from symabi.obligations import definition as d
from symabi.obligations.definition import Obligation
from symabi.obligations.stack_writes import go_frame
from symabi.verdicts import format_value

HOLDS, VIOLATED, UNKNOWN, NA = "holds", "violated", "unknown", "n/a"
RETURNED, ABORTED, FAULTED, ESCAPED = "returned", "aborted", "faulted", "escaped"  # symabi.replay.machine's
UNMAPPED = "unmapped"  # the region of a faulting store no region holds
_ENDED = (RETURNED, ABORTED, ESCAPED, FAULTED)  # runs that finished: what they did is all they do


@dataclass(frozen=True)
class ConcreteFinding:
    obligation: str  # obligation id, e.g. "preserve-xmm6"
    location: str  # "rbx", "xmm6", "rsp", "df", "return_address", "stack", "fault"
    status: str  # holds | violated | unknown | n/a
    entry: int | None = None  # the location's value at entry (df: 0 clear, 1 set)
    exit: int | None = None  # its value where the obligation failed (stack: the offset from entry RSP)
    detail: str = ""
    site: int | None = None  # the RET, the CALL, the store, the faulting instruction

    @property
    def entry_text(self) -> str | None:
        return format_value(self.entry, self.location)

    @property
    def exit_text(self) -> str | None:
        return format_value(self.exit, self.location)


def evaluate(ob: Obligation, run) -> ConcreteFinding | None:
    claim = ob.claim
    if isinstance(claim, d.ControlStateKept):
        return None
    if ob.when == d.AT_EVERY_ABIINTERNAL_CALL and not run.knows_abi_internal:
        return None
    if ob.when in (d.AT_RETURN, d.AT_RETURN_TO_ABIINTERNAL):
        return ending(ob, run) or _abi0_caller(ob, run) or _AT_RETURN[type(claim)](ob, claim, run)
    if ob.when in (d.AT_EVERY_CALL, d.AT_EVERY_ABIINTERNAL_CALL, d.AT_EVERY_CALL_AND_RETURN, d.AT_EVERY_HOST_CALL):
        return _at_calls(ob, run)
    return _ON_PATH[type(claim)](ob, claim, run)


def unfinished(run, ob: str, loc: str) -> ConcreteFinding | None:
    """unknown on a run that did not finish (nothing it did broke the obligation, but it did not end)."""
    return None if run.kind in _ENDED else ConcreteFinding(ob, loc, UNKNOWN, detail=run.reason, site=run.site)


def _holds(ob: Obligation, run) -> ConcreteFinding:
    return unfinished(run, ob.id, ob.location) or ConcreteFinding(ob.id, ob.location, HOLDS)


def _violated(ob: Obligation, entry, exit_, detail: str, site) -> ConcreteFinding:
    return ConcreteFinding(ob.id, ob.location, VIOLATED, entry, exit_, detail, site)


# ---- at return ------------------------------------------------------------------------------------


def ending(ob: Obligation, run) -> ConcreteFinding | None:
    """What the way the run ended decides (see the module doc); None when it returned."""
    if run.kind == RETURNED:
        if isinstance(ob.claim, d.ReturnsToCaller):
            return ConcreteFinding(ob.id, ob.location, HOLDS, site=run.site)
        return None
    if run.kind in (ABORTED, FAULTED):
        return ConcreteFinding(ob.id, ob.location, NA, detail=run.reason, site=run.site)
    if run.kind == ESCAPED:
        if isinstance(ob.claim, d.ReturnsToCaller):
            return _violated(ob, run.caller_return, run.target, f"control does not return to the caller: {run.reason}",
                             run.site)
        return ConcreteFinding(ob.id, ob.location, NA, detail="the run never returns", site=run.site)
    return unfinished(run, ob.id, ob.location)


ABIINTERNAL_CALLER = "go-abiinternal-call"  # symabi.models.entry_go: the entry that owes X15 and R14 back


def _abi0_caller(ob: Obligation, run) -> ConcreteFinding | None:
    """n/a for an obligation owed only to an ABIInternal Go caller, on a run Go entered otherwise."""
    if ob.when == d.AT_RETURN_TO_ABIINTERNAL and run.convention != ABIINTERNAL_CALLER:
        return ConcreteFinding(ob.id, ob.location, NA, detail="the Go caller used ABI0", site=run.site)
    return None


def _compare(ob: Obligation, run, entry: int, exit_: int, bad: bool, detail: str) -> ConcreteFinding:
    return _violated(ob, entry, exit_, detail, run.site) if bad else \
        ConcreteFinding(ob.id, ob.location, HOLDS, site=run.site)


def _same(ob, claim: d.SameAsEntry, run) -> ConcreteFinding:
    mask = (1 << claim.bits) - 1
    entry, exit_ = run.entry_regs[claim.source] & mask, run.exit_regs[claim.source] & mask
    return _compare(ob, run, entry, exit_, entry != exit_, claim.broken or f"{claim.register.upper()} is not preserved")


def _sp_restored(ob, claim: d.StackPointerRestored, run) -> ConcreteFinding:
    entry, exit_ = run.entry_regs[claim.register], run.exit_regs[claim.register]
    name = claim.register.upper()
    return _compare(ob, run, entry, exit_, exit_ != (entry + claim.popped) % 2**64,
                    f"{name} at return is not entry {name} + {claim.popped}")


def _flag_at_return(ob, claim: d.FlagClear, run) -> ConcreteFinding:
    assert claim.flag == "df"
    return _compare(ob, run, 0, int(run.df_at_exit), run.df_at_exit, "DF is set at return")


def _zero_at_return(ob, claim: d.RegisterZero, run) -> ConcreteFinding:
    value = run.exit_regs[claim.register]
    return _compare(ob, run, 0, value, value != 0, f"{claim.register.upper()} is not zero at the return to "
                    "ABIInternal code")


def _x87_at_return(ob, _claim: d.X87Empty, run) -> ConcreteFinding | None:
    """exit: how many x87 registers hold a value (None: this oracle does not read the x87 tags)."""
    in_use = run.exit_x87_in_use
    if in_use is None:
        return None
    return _compare(ob, run, 0, in_use, in_use != 0, "the x87 stack is not empty at return")


_AT_RETURN = {d.SameAsEntry: _same, d.StackPointerRestored: _sp_restored, d.FlagClear: _flag_at_return,
              d.RegisterZero: _zero_at_return, d.X87Empty: _x87_at_return}


# ---- at calls (and at return) ---------------------------------------------------------------------


def _at_calls(ob: Obligation, run) -> ConcreteFinding:
    claim = ob.claim
    for call in run.calls:
        if ob.when == d.AT_EVERY_ABIINTERNAL_CALL and not call.abi_internal:
            continue
        if ob.when == d.AT_EVERY_HOST_CALL and not d.judged_at(claim, call.callee):
            continue
        finding = _AT_CALL[type(claim)](ob, claim, call, run)
        if finding is not None:
            return finding
    if isinstance(claim, d.Untouched) and run.kind == RETURNED:
        entry, exit_ = run.entry_regs[claim.register], run.exit_regs[claim.register]
        if entry != exit_:
            return _violated(ob, entry, exit_, f"{claim.register.upper()} is not the platform's at return", run.site)
    return _holds(ob, run)


def _flag_at_call(ob, claim: d.FlagClear, call, _run) -> ConcreteFinding | None:
    assert claim.flag == "df"
    return _violated(ob, 0, 1, f"DF is set at the call to {call.callee}", call.site) if call.df_set else None


def _zero_at_call(ob, claim: d.RegisterZero, call, _run) -> ConcreteFinding | None:
    value = call.registers[claim.register]
    return _violated(ob, 0, value, f"{claim.register.upper()} is not zero at the call to {call.callee}",
                     call.site) if value else None


def _g_at_call(ob, claim: d.RegisterIsG, call, _run) -> ConcreteFinding | None:
    if call.g is None:  # no g slot in this world: not judged here
        return ConcreteFinding(ob.id, ob.location, NA, site=call.site)
    value = call.registers[claim.register]
    return None if value == call.g else _violated(
        ob, call.g, value, f"{claim.register.upper()} is not the current g at the call to {call.callee}", call.site)


def _untouched_at_call(ob, claim: d.Untouched, call, run) -> ConcreteFinding | None:
    entry, value = run.entry_regs[claim.register], call.registers[claim.register]
    return None if value == entry else _violated(
        ob, entry, value, f"{claim.register.upper()} is not the platform's at the call to {call.callee}", call.site)


def _aligned_at_call(ob, claim: d.StackAligned, call, run) -> ConcreteFinding | None:
    """The stack pointer before the call pushed anything (``call.rsp`` is the callee's at its entry)."""
    residue = (call.rsp + run.arch.return_slot) % claim.modulus
    return None if not residue else _violated(
        ob, 0, residue, f"the stack pointer is not 0 mod {claim.modulus} at the call to {call.callee}", call.site)


def _home_area_at_call(ob, claim: d.HomeAreaReserved, call, run) -> ConcreteFinding | None:
    """exit: the callee's stack pointer as an offset from the base of the stack it is on."""
    where = _stack_of(run, call.rsp)
    if where is None:
        return None
    name, base, limit = where
    offset = _signed(call.rsp - base)
    if offset + run.arch.return_slot + claim.size <= limit:
        return None
    return _violated(ob, None, offset, f"the home area of the call to {call.callee} reaches above the free space "
                     f"of {name}", call.site)


def _stack_of(run, sp: int) -> tuple[str, int, int] | None:
    """(name, base, limit) of the stack ``sp`` is on: the thread's (base: the entry stack pointer, limit 0),
    or the world stack with the highest base at or below it."""
    entry_sp = run.entry_regs[run.arch.stack_pointer]
    if entry_sp - 0x10_0000 <= sp <= entry_sp + 0x1_0000:
        return "stack", entry_sp, 0
    below = [(base, name) for name, base in run.world.items() if name in run.other_stacks and base <= sp]
    if not below:
        return None
    base, name = max(below)
    return name, base, run.other_stacks[name]


def _signed(value: int) -> int:
    value %= 2**64
    return value - 2**64 if value >= 2**63 else value


def _x87_at_call(ob, _claim: d.X87Empty, call, _run) -> ConcreteFinding | None:
    in_use = call.x87_in_use
    return None if not in_use else _violated(ob, 0, in_use, f"the x87 stack is not empty at the call to {call.callee}",
                                             call.site)


_AT_CALL = {d.FlagClear: _flag_at_call, d.RegisterZero: _zero_at_call, d.RegisterIsG: _g_at_call,
            d.Untouched: _untouched_at_call, d.StackAligned: _aligned_at_call, d.HomeAreaReserved: _home_area_at_call,
            d.X87Empty: _x87_at_call}


# ---- over the whole run ---------------------------------------------------------------------------


def _stores_in_frame(ob, claim: d.StoresInFrame, run) -> ConcreteFinding:
    """The code's own stores, and a callee's own frame (which lands where the code put the stack pointer);
    a callee's writes through pointers break whatever they overwrite, and are judged by that."""
    for w in run.writes:
        if w.kind in ("through", "declared") or w.by != "code" and w.kind == "attempt":  # through a pointer
            continue
        if (other := _on_other_stack(ob, w, run)) is not None:
            return other
        if w.region == "stack" and not claim.allows(w.offset, w.size):
            return _violated(ob, None, w.offset, f"writes {w.size} bytes at entry {claim.stack_pointer} "
                             f"{w.offset:+#x} ({claim.what(w.offset)})", w.site)
    return _holds(ob, run)


def _stores_in_go_frame(ob, claim: d.StoresInGoFrame, run) -> ConcreteFinding:
    """The code's own stores (a host callee's frame is the host's business: home-area-at-call's)."""
    frame = go_frame(run.stack_args)
    for w in run.writes:
        if w.by != "code":
            continue
        if (other := _on_other_stack(ob, w, run)) is not None:
            return other
        if w.region == "stack" and not claim.allows(w.offset, w.size, frame):
            return _violated(ob, None, w.offset, f"writes {w.size} bytes at entry {claim.stack_pointer} "
                             f"{w.offset:+#x} ({claim.what(w.offset)})", w.site)
    return _holds(ob, run)


def _on_other_stack(ob, w, run) -> ConcreteFinding | None:
    floor = run.other_stacks.get(w.region)
    if floor is None or w.offset + w.size <= floor:
        return None
    return _violated(ob, None, w.offset, f"writes {w.size} bytes at {w.region}{w.offset:+#x}, in the live frames "
                     f"above its free space (which ends at {w.region}{floor:+#x})", w.site)


def _stores_owned(ob, _claim: d.StoresOwned, run) -> ConcreteFinding:
    """The code's own stores (a callee's are judged by what they overwrite): none may land in the caller's
    frame above its arguments, in code, or where nothing is mapped; nor may a store the case says a callee
    makes through a pointer the code gave it (``declared``; an ``attempt`` when it faulted)."""
    for w in run.writes:
        if w.by != "code" and w.kind not in ("declared", "attempt"):
            continue
        caller = w.region == "stack" and w.offset + w.size > run.caller_frame
        if caller or w.kind == "attempt":  # an attempt: read-only or unmapped memory, so it faulted
            where = (f"entry RSP {w.offset:+#x}, in the caller's frame" if w.region == "stack" else
                     "memory nothing maps" if w.region == UNMAPPED else f"read-only {w.region}")
            return _violated(ob, None, w.address, f"writes {w.size} bytes at {where}", w.site)
    return _holds(ob, run)


def _no_fault(ob, _claim: d.NoFault, run) -> ConcreteFinding:
    """A fault is a violation unless it is a deliberate end (the machine calls those "aborted")."""
    if run.kind == FAULTED:
        return ConcreteFinding(ob.id, ob.location, VIOLATED, detail=run.reason, site=run.site)
    return _holds(ob, run)


_ON_PATH = {d.StoresInFrame: _stores_in_frame, d.StoresInGoFrame: _stores_in_go_frame, d.StoresOwned: _stores_owned,
            d.NoFault: _no_fault}
