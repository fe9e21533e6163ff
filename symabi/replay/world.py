"""Where one concrete run puts the world: region bases, the host's return address, field values.

The symbolic model chooses nothing here. A case's world (``[world.regions.X]``, its fields, its data
symbols) becomes a ``WorldPlan``: regions by name and size, values as text ("m+0x58"). Each run lays
the plan out afresh (``lay_out_world``): a base the witness names (``world.<region>``) is used, every
other region gets a random base from the run's own seed, aligned as the case says (``align``, default
8) and disjoint from everything else mapped; the host's return address (``entry.return_address``) is a
random canonical user address, odd or even, that nothing maps. Field values are evaluated against
those bases, so a pointer field "m+0x58" follows m wherever it lands.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from symabi.replay.inputs import ConcreteInputs, rng_for

PAGE = 0x1000
LOWEST_USER = 0x1_0000  # below: the null page range Windows never maps
HIGHEST_USER = 0x7FFF_FFFE_0000  # the top of the user address space on Windows x64
_VALUE = re.compile(r"^\s*(?:(?P<region>[A-Za-z_]\w*)\s*(?:(?P<sign>[+-])\s*(?P<off>0x[0-9a-fA-F]+|\d+))?"
                    r"|(?P<number>-?(?:0x[0-9a-fA-F]+|\d+)))\s*$")


class LayoutError(Exception):
    """A world that cannot be laid out (an unknown region, overlapping bases a witness fixed)."""


@dataclass(frozen=True)
class RegionPlan:
    name: str
    size: int
    writable: bool = False
    align: int = 8
    free_below: int = 0  # another stack (g0's): offsets at or above this hold live frames


@dataclass(frozen=True)
class WordPlan:
    """A word the world gives a value: a field of a region (``at`` = "teb+0x28") or a data symbol
    at a fixed address (``at`` = its address as a number)."""

    at: str
    value: str
    size: int = 8


@dataclass(frozen=True)
class WorldPlan:
    """A case's world in one field configuration, before any address is chosen."""

    regions: tuple[RegionPlan, ...] = ()
    words: tuple[WordPlan, ...] = ()
    data: tuple[tuple[str, int, int], ...] = ()  # (symbol, address, size): read-only world data symbols
    gs: str | None = None  # the region GS points at
    registers: Mapping[str, str] = field(default_factory=dict)  # entry registers bound to world values
    running_on: str = ""  # a stack region the trampoline is entered on: it is the thread's stack itself
    tls: str | None = None  # where the port's TLS segment register points ("tcb+0x8"; world.tls)
    tls_segment: str = "gs"  # that register: "fs" on ELF ports, "gs" on Windows and Mach-O (symabi.ports)


@dataclass(frozen=True)
class PlacedWorld:
    """One run's world: region bases, where GS points, bound registers, initial words, the return address."""

    bases: Mapping[str, int]
    gs_base: int | None
    registers: Mapping[str, int]
    words: Mapping[int, bytes]  # absolute address -> initial bytes
    return_address: int
    fs_base: int | None = None  # the thread pointer of an ELF port


def evaluate(text: str, bases: Mapping[str, int]) -> int:
    """"0", "0x10", "m", "m+0x58" against this run's region bases."""
    m = _VALUE.match(text)
    if m is None:
        raise LayoutError(f"world value {text!r}: expected a number, region or region+offset")
    if m["number"] is not None:
        return int(m["number"], 0) & (2**64 - 1)
    if m["region"] not in bases:
        raise LayoutError(f"world value {text!r} names region {m['region']!r} (regions: {', '.join(bases) or 'none'})")
    offset = int(m["off"], 0) if m["off"] else 0
    return (bases[m["region"]] + (-offset if m["sign"] == "-" else offset)) & (2**64 - 1)


def _page_span(start: int, size: int) -> tuple[int, int]:
    return start & ~(PAGE - 1), (start + size + PAGE - 1) & ~(PAGE - 1)


def _free(span: tuple[int, int], taken: Sequence[tuple[int, int]]) -> bool:
    lo, hi = span
    return all(hi + PAGE <= a or b + PAGE <= lo for a, b in taken)  # a guard page between neighbours


def random_base(rng, size: int, align: int, taken: Sequence[tuple[int, int]]) -> int:
    """A random ``align``-aligned base for ``size`` bytes whose pages touch nothing in ``taken``."""
    align = max(1, align)
    for _ in range(1000):
        base = rng.randrange(LOWEST_USER // align + 1, (HIGHEST_USER - size) // align) * align
        if _free(_page_span(base, size), taken):
            return base
    raise LayoutError(f"no room for a region of {size:#x} bytes")  # pragma: no cover - the space is vast


def random_return_address(rng, taken: Sequence[tuple[int, int]]) -> int:
    """A canonical user address nothing maps, odd or even at random (the host's code is not ours)."""
    for _ in range(1000):
        address = rng.randrange(LOWEST_USER, HIGHEST_USER)
        if _free(_page_span(address, 1), taken):
            return address
    raise LayoutError("no room for the return address")  # pragma: no cover


def lay_out_world(plan: WorldPlan, inputs: ConcreteInputs, taken: Sequence[tuple[int, int]]) -> PlacedWorld:
    """Choose this run's addresses. ``taken``: page spans already mapped or reserved (code, stubs, stack)."""
    rng = rng_for(inputs.seed, "world-layout")
    taken = list(taken)
    bases: dict[str, int] = {}
    for region in plan.regions:
        base = inputs.world.get(region.name)
        if region.name == plan.running_on:
            # the thread's own stack: the entry RSP lies in it, below its free-space limit; not mapped apart
            if base is None:
                room = max(region.free_below - 8, region.align) // region.align
                base = inputs.rsp - rng.randrange(room) * region.align
                base -= base % region.align
            bases[region.name] = base
            continue
        if base is None:
            base = random_base(rng, region.size, region.align, taken)
        bases[region.name] = base
        taken.append(_page_span(base, region.size))
    words: dict[int, bytes] = {}
    for word in plan.words:
        value = evaluate(word.value, bases) & ((1 << 8 * word.size) - 1)
        words[evaluate(word.at, bases)] = value.to_bytes(word.size, "little")
    registers = {reg: evaluate(text, bases) for reg, text in plan.registers.items()}
    given = inputs.entry.get("return_address")
    ret = given if given is not None else random_return_address(rng_for(inputs.seed, "return-address"), taken)
    segments = {"gs": bases[plan.gs]} if plan.gs else {}
    if plan.tls is not None:
        segments[plan.tls_segment] = evaluate(plan.tls, bases)
    return PlacedWorld(bases, segments.get("gs"), registers, words, ret, segments.get("fs"))
