"""The windows-x64 contract, checked on one concrete run.

Same obligations, ids, locations and sites as ``symabi.contracts.windows_x64``; the difference is that a
concrete run has one value per location, so each obligation simply holds or fails:

    returned  every obligation is checked
    escaped   return-to-caller fails (entry: the caller's return address, exit: the target);
              the other return obligations are n/a
    aborted   return obligations are n/a
    error/loop return obligations are unknown (the run did not finish)

df-clear-at-call and stack-writes-in-frame are checked on every run, over the calls and stores it made
before it ended.
"""

from __future__ import annotations

from dataclasses import dataclass

from symabi.verdicts import format_value
from symabi.replay.constants import HOME_AREA, NOT_REPLAYED, OBLIGATIONS, obligations_for
from symabi.replay.machine import ABORTED, ESCAPED, RETURNED, ConcreteRun

HOLDS, VIOLATED, UNKNOWN, NA = "holds", "violated", "unknown", "n/a"


@dataclass(frozen=True)
class ConcreteFinding:
    obligation: str  # obligation id, e.g. "preserve-xmm6"
    location: str  # "rbx", "xmm6", "rsp", "df", "return_address", "stack"
    status: str  # holds | violated | unknown | n/a
    entry: int | None = None  # the location's value at entry (df: 0 clear, 1 set)
    exit: int | None = None  # its value where the obligation failed (stack: the offset from entry RSP)
    detail: str = ""
    site: int | None = None  # the RET, the CALL, the store

    @property
    def entry_text(self) -> str | None:
        return hex_value(self.entry, self.location)

    @property
    def exit_text(self) -> str | None:
        return hex_value(self.exit, self.location)


ConcreteViolation = ConcreteFinding  # a finding whose status is "violated"


hex_value = format_value  # a value as the prover's reports render it (``Violation.entry`` / ``.exit``)


def evaluate(run: ConcreteRun, *, home_area: int = HOME_AREA, contract: str = "windows-x64") -> list[ConcreteFinding]:
    """One finding per obligation the replay models (all but NOT_REPLAYED), in the contract's order.
    ``contract``: windows-x64 or sysv-amd64 (its obligations from its host ABI, constants.obligations_for)."""
    findings = []
    obligations = OBLIGATIONS if contract == "windows-x64" else obligations_for(contract)
    if contract != "windows-x64":
        home_area = 0  # System V: no home area
    for ob, loc in obligations:
        if ob in NOT_REPLAYED:
            continue  # no concrete finding: see constants.NOT_REPLAYED
        if ob == "df-clear-at-call":
            findings.append(_df_at_calls(run))
        elif loc == "stack":
            findings.append(_stack_writes(run, home_area, ob))
        elif run.kind == ABORTED:
            findings.append(ConcreteFinding(ob, loc, NA, detail=run.reason, site=run.site))
        elif ob == "return-to-caller":
            findings.append(_return(run))
        elif run.kind == ESCAPED:
            findings.append(ConcreteFinding(ob, loc, NA, detail="the run never returns", site=run.site))
        elif run.kind != RETURNED:
            findings.append(ConcreteFinding(ob, loc, UNKNOWN, detail=run.reason, site=run.site))
        else:
            findings.append(_at_return(ob, loc, run))
    return findings


def check(run: ConcreteRun, *, home_area: int = HOME_AREA, contract: str = "windows-x64") -> list[ConcreteViolation]:
    """The obligations that fail on this run (an empty list: the run keeps the contract, as far as it went)."""
    return [f for f in evaluate(run, home_area=home_area, contract=contract) if f.status == VIOLATED]


def _return(run: ConcreteRun) -> ConcreteFinding:
    ob, loc = "return-to-caller", "return_address"
    if run.kind == RETURNED:
        return ConcreteFinding(ob, loc, HOLDS, site=run.site)
    if run.kind == ESCAPED:
        return ConcreteFinding(ob, loc, VIOLATED, run.caller_return, run.target,
                               f"control does not return to the caller: {run.reason}", run.site)
    return ConcreteFinding(ob, loc, UNKNOWN, detail=run.reason, site=run.site)


def _at_return(ob: str, loc: str, run: ConcreteRun) -> ConcreteFinding:
    if ob == "restore-rsp":
        entry, exit_, detail = run.entry_rsp, run.exit_rsp, "RSP at return is not entry RSP + 8"
        bad = exit_ != (entry + 8) % 2**64
    elif ob == "df-clear-at-return":
        entry, exit_, detail = 0, int(run.df_at_exit), "DF is set at return"
        bad = run.df_at_exit
    else:
        entry, exit_, detail = run.entry_regs[loc], run.exit_regs[loc], f"{loc.upper()} is not preserved"
        bad = entry != exit_
    if bad:
        return ConcreteFinding(ob, loc, VIOLATED, entry, exit_, detail, run.site)
    return ConcreteFinding(ob, loc, HOLDS, site=run.site)


def _df_at_calls(run: ConcreteRun) -> ConcreteFinding:
    ob, loc = "df-clear-at-call", "df"
    for call in run.calls:
        if call.df_set:
            return ConcreteFinding(ob, loc, VIOLATED, 0, 1, f"DF is set at the call to {call.callee}", call.site)
    if run.kind not in (RETURNED, ABORTED, ESCAPED):
        return ConcreteFinding(ob, loc, UNKNOWN, detail=run.reason, site=run.site)
    return ConcreteFinding(ob, loc, HOLDS)


def _stack_writes(run: ConcreteRun, home_area: int, ob: str = "stack-writes-in-frame") -> ConcreteFinding:
    loc = "stack"
    for w in run.writes:
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
    if run.kind not in (RETURNED, ABORTED, ESCAPED):
        return ConcreteFinding(ob, loc, UNKNOWN, detail=run.reason, site=run.site)
    return ConcreteFinding(ob, loc, HOLDS)

