"""stack-writes and memory-writes: where the code's stores may land."""

from __future__ import annotations

from symabi.obligations.definition import ON_EVERY_PATH, Obligation, StoresInFrame, StoresOwned, define
from symabi.ports import HostAbi

# Where a wild write's witness aims: a word of the caller's own frame, inside the part that is modelled.
WILD_WRITE_TARGET = 0x100


def stack_writes(abi: HostAbi) -> Obligation:
    """stack-writes-in-frame (a home area above the return address is the trampoline's to use), or
    stack-writes-below-entry-<sp> (every byte at or above the entry stack pointer is the caller's)."""
    arch, sp = abi.arch, abi.arch.stack_pointer
    claim = StoresInFrame(abi.home_area, arch.return_slot, sp.upper())
    if abi.home_area:
        return define(
            "stack-writes-in-frame", "stack", "stack-writes",
            f"stack writes stay below the entry RSP or in the caller's {abi.home_area}-byte home area "
            "(and, on another stack the world declares, in its free space)", ON_EVERY_PATH, claim)
    if arch.link_register:
        return define(
            f"stack-writes-below-entry-{sp}", "stack", "stack-writes",
            f"stack writes stay below the entry {sp.upper()}: every byte at or above it is the caller's (and, on "
            "another stack the world declares, in its free space)", ON_EVERY_PATH, claim)
    return define(
        f"stack-writes-below-entry-{sp}", "stack", "stack-writes",
        f"stack writes stay below the entry {sp.upper()}: the caller reserves no home area, so every byte at or "
        "above the return address is the caller's (and, on another stack the world declares, in its free space); "
        f"the {abi.red_zone}-byte red zone below it is the trampoline's own scratch, never safe across a call",
        ON_EVERY_PATH, claim)


def caller_frame(return_slot: int, home_area: int, stack_args: int) -> int:
    """Where the caller's own frame begins, as an offset from the entry stack pointer: above the return
    address, the home area the caller reserves and its stack arguments. The one derivation both sides read:
    the symbolic model's caller window and the oracle's stack map continue from here, a wild write's witness
    aims above it, and a concrete store above it is in the caller's frame."""
    return return_slot + home_area + stack_args


def go_frame(stack_args: int) -> int:
    """The bytes of argument and result words a Go caller lays out above the return address for
    ``stack_args`` bytes of them: whole words, as ``symabi.models.entry_go.padded`` lays them out in the
    symbolic model (``tests/test_replay.py`` checks that the two agree)."""
    return -(-stack_args // 8) * 8


WRITES_OWNED = define(
    "writes-owned-memory", "memory", "memory-writes",
    "no store goes through an address the host's values choose (an entry register, the caller's memory, "
    "bytes nobody wrote): it could land anywhere, the caller's frame included", ON_EVERY_PATH,
    StoresOwned(WILD_WRITE_TARGET))
