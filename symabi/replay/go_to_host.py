"""The go-to-host obligations of ``symabi.contracts.go_to_host`` that the shared checks of
``symabi.replay.contract`` do not cover, checked on one concrete run (ids, locations and sites as there).

    host-stack-aligned-at-call  RSP + 8 at each host callee's entry is 0 mod 16 (entry: 0, exit: the residue)
    home-area-at-call           the 32-byte home area above each host callee's return address lies below the
                                entry RSP, or below the free-space limit of the world stack it is on
                                (exit: the callee's RSP as an offset from that stack's base)
    x15-zero-at-return          X15 is zero when the run returns (ABIInternal callers only)
    r14-g-at-return             R14 at return is R14 at entry, the current g (ABIInternal callers only)
    stack-writes-in-go-frame    the code's stores at or above the entry RSP stay in the Go caller's argument
                                and result words (entry RSP + 8 .. + 8 + stack_args)

Which home area applies is the host ABI's (Windows x64: 32 bytes); this module checks it on the runs of a
go-to-host case, whose port has one (the symbolic contract has no such obligation otherwise).
"""

from __future__ import annotations

from symabi.replay.constants import HOME_AREA
from symabi.replay.contract import HOLDS, NA, VIOLATED, ConcreteFinding, _on_return, _unfinished, obligation
from symabi.replay.machine import ConcreteRun

ABIINTERNAL_CALL = "go-abiinternal-call"  # symabi.models.entry_go: the entry that owes X15 and R14 back

_ALIGN = 16


def padded(stack_args: int) -> int:
    """symabi.models.entry_go.padded, restated (this package imports no claripy): whole argument words."""
    return -(-stack_args // 8) * 8


def _signed(value: int) -> int:
    value %= 2**64
    return value - 2**64 if value >= 2**63 else value


@obligation("host-stack-aligned-at-call")
def host_stack_aligned(run: ConcreteRun, ob: str, loc: str) -> ConcreteFinding:
    for call in run.calls:
        before = (call.rsp + 8) % _ALIGN
        if before:
            return ConcreteFinding(ob, loc, VIOLATED, 0, before,
                                   f"RSP is not 0 mod {_ALIGN} before the call to {call.callee}", call.site)
    return _unfinished(run, ob, loc) or ConcreteFinding(ob, loc, HOLDS)


def _stack_of(run: ConcreteRun, rsp: int) -> tuple[str, int, int] | None:
    """(name, base, limit) of the stack ``rsp`` is on: the thread's (base: the entry RSP, limit 0), or the
    world stack with the highest base at or below it."""
    if run.entry_rsp - 0x10_0000 <= rsp <= run.entry_rsp + 0x1_0000:
        return "stack", run.entry_rsp, 0
    below = [(base, name) for name, base in run.world.items() if name in run.other_stacks and base <= rsp]
    if not below:
        return None
    base, name = max(below)
    return name, base, run.other_stacks[name]


@obligation("home-area-at-call")
def home_area(run: ConcreteRun, ob: str, loc: str) -> ConcreteFinding:
    if not _home_area(run):
        return _unfinished(run, ob, loc) or ConcreteFinding(ob, loc, HOLDS)
    for call in run.calls:
        where = _stack_of(run, call.rsp)
        if where is None:
            continue
        name, base, limit = where
        offset = _signed(call.rsp - base)
        if offset + 8 + _home_area(run) > limit:
            return ConcreteFinding(ob, loc, VIOLATED, None, offset,
                                   f"the home area of the call to {call.callee} reaches above the free space of "
                                   f"{name}", call.site)
    return _unfinished(run, ob, loc) or ConcreteFinding(ob, loc, HOLDS)


def _home_area(run: ConcreteRun) -> int:
    """The home area of the run's host ABI (its callee model ``host-<abi>``); Windows x64's by default."""
    from symabi.ports import HOST_ABIS  # pure data

    abi = HOST_ABIS.get(run.callee_model.removeprefix("host-"))
    return abi.home_area if abi is not None else HOME_AREA


def _abiinternal(check):
    """A check that applies only to a run entered by an ABIInternal Go caller (n/a otherwise)."""
    def gated(run: ConcreteRun, ob: str, loc: str) -> ConcreteFinding:
        if run.convention != ABIINTERNAL_CALL:
            return ConcreteFinding(ob, loc, NA, detail="the Go caller used ABI0", site=run.site)
        return check(run, ob, loc)
    gated.__name__ = check.__name__
    return gated


@obligation("x15-zero-at-return")
@_abiinternal
@_on_return
def x15_zero(run: ConcreteRun, ob: str, loc: str) -> ConcreteFinding:
    x15 = run.exit_regs["xmm15"]
    if x15:
        return ConcreteFinding(ob, loc, VIOLATED, 0, x15, "X15 is not zero at the return to ABIInternal code", run.site)
    return ConcreteFinding(ob, loc, HOLDS, site=run.site)


@obligation("stack-writes-in-go-frame")
def go_stack_writes(run: ConcreteRun, ob: str, loc: str) -> ConcreteFinding:
    for w in run.writes:
        if w.by != "code":
            continue
        floor = run.other_stacks.get(w.region)
        if floor is not None and w.offset + w.size > floor:
            return ConcreteFinding(ob, loc, VIOLATED, None, w.offset,
                                   f"writes {w.size} bytes at {w.region}{w.offset:+#x}, above its free space", w.site)
        if w.region != "stack":
            continue
        if not (w.offset + w.size <= 0 or 8 <= w.offset and w.offset + w.size <= 8 + padded(run.stack_args)):
            return ConcreteFinding(ob, loc, VIOLATED, None, w.offset,
                                   f"writes {w.size} bytes at entry RSP {w.offset:+#x}", w.site)
    return _unfinished(run, ob, loc) or ConcreteFinding(ob, loc, HOLDS)


@obligation("r14-g-at-return")
@_abiinternal
@_on_return
def r14_g(run: ConcreteRun, ob: str, loc: str) -> ConcreteFinding:
    entry, exit_ = run.entry_regs["r14"], run.exit_regs["r14"]
    if entry != exit_:
        return ConcreteFinding(ob, loc, VIOLATED, entry, exit_, "R14 is not the current g at the return to "
                               "ABIInternal code", run.site)
    return ConcreteFinding(ob, loc, HOLDS, site=run.site)
