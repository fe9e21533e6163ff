"""The windows-x64 contract, checked on one concrete run: one small named check per obligation.

Same obligations, ids, locations and sites as ``symabi.contracts.windows_x64``; the difference is that a
concrete run has one value per location, so each obligation simply holds or fails. ``CHECKS`` maps an
obligation id to its check; an obligation without one (``constants.NOT_REPLAYED``, or one the symbolic
contract has and this module does not know) gets no concrete finding.

Return obligations (``_on_return``) depend on how the run ended:

    returned          checked
    escaped           return-to-caller fails (entry: the return address, exit: the target); others n/a
    aborted, faulted  n/a (a fault is no-fault's business)
    error, loop       unknown (the run did not finish)

df-clear-at-call, stack-writes-in-frame, writes-owned-memory and no-fault are checked on every run, over what it did
before it ended.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from symabi.replay.constants import HOME_AREA, NONVOLATILE_GPRS, NONVOLATILE_XMMS, OBLIGATIONS, obligations_for
from symabi.replay.machine import ABORTED, ESCAPED, FAULTED, RETURNED, UNMAPPED, ConcreteRun
from symabi.verdicts import format_value

HOLDS, VIOLATED, UNKNOWN, NA = "holds", "violated", "unknown", "n/a"
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
        return hex_value(self.entry, self.location)

    @property
    def exit_text(self) -> str | None:
        return hex_value(self.exit, self.location)


ConcreteViolation = ConcreteFinding  # a finding whose status is "violated"
hex_value = format_value  # a value as the prover's reports render it (``Violation.entry`` / ``.exit``)
Check = Callable[[ConcreteRun, str, str], ConcreteFinding]
CHECKS: dict[str, Check] = {}


def obligation(*ids: str):
    """Register a check for the obligations ``ids``."""
    def register(check: Check) -> Check:
        for ob in ids:
            CHECKS[ob] = check
        return check
    return register


def _unfinished(run: ConcreteRun, ob: str, loc: str) -> ConcreteFinding | None:
    return None if run.kind in _ENDED else ConcreteFinding(ob, loc, UNKNOWN, detail=run.reason, site=run.site)


def _on_return(check: Callable[[ConcreteRun, str, str], ConcreteFinding]) -> Check:
    """A check that applies only when the run returned (see the module doc)."""
    def gated(run: ConcreteRun, ob: str, loc: str) -> ConcreteFinding:
        if run.kind == RETURNED:
            return check(run, ob, loc)
        if run.kind in (ABORTED, FAULTED):
            return ConcreteFinding(ob, loc, NA, detail=run.reason, site=run.site)
        if run.kind == ESCAPED:
            return ConcreteFinding(ob, loc, NA, detail="the run never returns", site=run.site)
        return _unfinished(run, ob, loc)
    gated.__name__ = check.__name__
    return gated


def _compare(ob: str, loc: str, run: ConcreteRun, entry: int, exit_: int, bad: bool, detail: str) -> ConcreteFinding:
    if bad:
        return ConcreteFinding(ob, loc, VIOLATED, entry, exit_, detail, run.site)
    return ConcreteFinding(ob, loc, HOLDS, site=run.site)


@obligation(*(f"preserve-{r}" for r in NONVOLATILE_GPRS + NONVOLATILE_XMMS))
@_on_return
def preserved(run: ConcreteRun, ob: str, loc: str) -> ConcreteFinding:
    entry, exit_ = run.entry_regs[loc], run.exit_regs[loc]
    return _compare(ob, loc, run, entry, exit_, entry != exit_, f"{loc.upper()} is not preserved")


@obligation("restore-rsp")
@_on_return
def restored_rsp(run: ConcreteRun, ob: str, loc: str) -> ConcreteFinding:
    entry, exit_ = run.entry_rsp, run.exit_rsp
    return _compare(ob, loc, run, entry, exit_, exit_ != (entry + 8) % 2**64, "RSP at return is not entry RSP + 8")


@obligation("df-clear-at-return")
@_on_return
def df_clear_at_return(run: ConcreteRun, ob: str, loc: str) -> ConcreteFinding:
    return _compare(ob, loc, run, 0, int(run.df_at_exit), run.df_at_exit, "DF is set at return")


@obligation("return-to-caller")
def returns_to_caller(run: ConcreteRun, ob: str, loc: str) -> ConcreteFinding:
    if run.kind == RETURNED:
        return ConcreteFinding(ob, loc, HOLDS, site=run.site)
    if run.kind == ESCAPED:
        return ConcreteFinding(ob, loc, VIOLATED, run.caller_return, run.target,
                               f"control does not return to the caller: {run.reason}", run.site)
    if run.kind in (ABORTED, FAULTED):
        return ConcreteFinding(ob, loc, NA, detail=run.reason, site=run.site)
    return _unfinished(run, ob, loc)


@obligation("df-clear-at-call")
def df_clear_at_calls(run: ConcreteRun, ob: str, loc: str) -> ConcreteFinding:
    for call in run.calls:
        if call.df_set:
            return ConcreteFinding(ob, loc, VIOLATED, 0, 1, f"DF is set at the call to {call.callee}", call.site)
    return _unfinished(run, ob, loc) or ConcreteFinding(ob, loc, HOLDS)


@obligation("stack-writes-in-frame", "stack-writes-below-entry-rsp")
def stack_writes_in_frame(run: ConcreteRun, ob: str, loc: str) -> ConcreteFinding:
    """The code's own stores, and a callee's own frame (which lands where the code put RSP); a callee's
    writes through pointers break whatever they overwrite, and are judged by that. Windows x64 lets the
    trampoline use the caller's home area; System V (``stack-writes-below-entry-rsp``) has none."""
    home_area = HOME_AREA if ob == "stack-writes-in-frame" else 0
    for w in run.writes:
        if w.kind in ("through", "declared") or w.by != "code" and w.kind == "attempt":  # through a pointer
            continue
        floor = run.other_stacks.get(w.region)
        if floor is not None and w.offset + w.size > floor:
            return ConcreteFinding(ob, loc, VIOLATED, None, w.offset,
                                   f"writes {w.size} bytes at {w.region}{w.offset:+#x}, in the live frames above its "
                                   f"free space (which ends at {w.region}{floor:+#x})", w.site)
        if w.region != "stack":
            continue
        below = w.offset + w.size <= 0
        home = 8 <= w.offset and w.offset + w.size <= 8 + home_area
        if not (below or home):
            what = "the return address" if w.offset < 8 else "the caller's frame"
            return ConcreteFinding(ob, loc, VIOLATED, None, w.offset,
                                   f"writes {w.size} bytes at entry RSP {w.offset:+#x} ({what})", w.site)
    return _unfinished(run, ob, loc) or ConcreteFinding(ob, loc, HOLDS)


@obligation("writes-owned-memory")
def writes_owned_memory(run: ConcreteRun, ob: str, loc: str) -> ConcreteFinding:
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
            return ConcreteFinding(ob, loc, VIOLATED, None, w.address, f"writes {w.size} bytes at {where}", w.site)
    return _unfinished(run, ob, loc) or ConcreteFinding(ob, loc, HOLDS)


@obligation("no-fault")
def no_fault(run: ConcreteRun, ob: str, loc: str) -> ConcreteFinding:
    """A fault is a violation unless it is a deliberate end (the machine calls those "aborted")."""
    if run.kind == FAULTED:
        return ConcreteFinding(ob, loc, VIOLATED, detail=run.reason, site=run.site)
    return _unfinished(run, ob, loc) or ConcreteFinding(ob, loc, HOLDS)


def evaluate(run: ConcreteRun, contract: str = "windows-x64") -> list[ConcreteFinding]:
    """One finding per obligation this module checks, in the contract's order (windows-x64 or sysv-amd64,
    whose obligations come from its host ABI: constants.obligations_for)."""
    obligations = OBLIGATIONS if contract == "windows-x64" else obligations_for(contract)
    return [CHECKS[ob](run, ob, loc) for ob, loc in obligations if ob in CHECKS]


def check(run: ConcreteRun, contract: str = "windows-x64") -> list[ConcreteViolation]:
    """The obligations that fail on this run (an empty list: the run keeps the contract, as far as it went)."""
    return [f for f in evaluate(run, contract) if f.status == VIOLATED]
