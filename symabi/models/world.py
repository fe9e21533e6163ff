"""The runtime world a trampoline runs in, as the case declares it.

Regions (the TEB reached through GS, ``m``, ``g``, ``g0``, ``g0``'s stack, the exception pointers)
get concrete, disjoint addresses. Fields are words inside regions with every initial value the runtime
can give them ("the TLS slot may be null"). The engine runs once per combination of field values, so
each path of the real code is checked under each situation, and each situation has a name in words.

Every byte of a region that no field names is an unconstrained symbolic value; memory outside every
region is not modelled at all (an access there is UNKNOWN).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import claripy

from symabi.casefile import FieldSpec, World
from symabi.engine.memory import FixedRegion
from symabi.errors import CaseError

WORLD_BASE = 0x2000_0000
WORLD_SLOT = 0x100_0000  # 16 MiB apart: no region may be larger
_VALUE = re.compile(r"^\s*(?:(?P<region>[A-Za-z_]\w*)\s*(?:(?P<sign>[+-])\s*(?P<off>0x[0-9a-fA-F]+|\d+))?"
                    r"|(?P<number>-?(?:0x[0-9a-fA-F]+|\d+)))\s*$")


@dataclass(frozen=True)
class Choice:
    """One initial value of one field."""

    field: FieldSpec
    address: int
    value: int
    label: str


@dataclass(frozen=True)
class Configuration:
    """One combination of field values: a world the engine runs in."""

    choices: tuple[Choice, ...]

    @property
    def label(self) -> str:
        return ", ".join(c.label for c in self.choices if c.label)

    def label_for(self, read: frozenset[Choice]) -> str:
        """Name only the facts a path actually depended on."""
        return ", ".join(c.label for c in self.choices if c.label and c in read)

    def agrees_on(self, other: Configuration, fields: frozenset[int]) -> bool:
        """Same value in every field whose address is in ``fields``."""
        mine = {c.address: c.value for c in self.choices}
        theirs = {c.address: c.value for c in other.choices}
        return all(mine[a] == theirs[a] for a in fields)


class WorldModel:
    def __init__(self, world: World, where: str, tls_segment: str = "gs"):
        """``tls_segment``: the segment register the port's TLS hangs from (symabi.ports), set to ``world.tls``."""
        self.world, self.where, self.tls_segment = world, where, tls_segment
        self.addresses: dict[str, int] = {}
        for index, region in enumerate(world.regions):
            if region.size > WORLD_SLOT:
                raise CaseError(f"{where}: field `world.regions.{region.name}.size` is larger than {WORLD_SLOT:#x}")
            self.addresses[region.name] = WORLD_BASE + index * WORLD_SLOT
        if world.gs is not None and world.gs not in self.addresses:
            raise CaseError(f"{where}: field `world.gs` names {world.gs!r}, which is not a region")
        self._fields = [self._field_choices(i, f) for i, f in enumerate(world.fields)]
        self._segments = self._segment_bases()

    def value(self, text: str, field_name: str) -> int:
        """Evaluate "0", "0x10", "m", "m+0x58" to an address or number."""
        m = _VALUE.match(text)
        if m is None:
            raise CaseError(f"{self.where}: field `{field_name}` has {text!r}; expected a number, region or region+offset")
        if m["number"] is not None:
            return int(m["number"], 0) & (2**64 - 1)
        if m["region"] not in self.addresses:
            known = ", ".join(self.addresses) or "none declared"
            raise CaseError(f"{self.where}: field `{field_name}` names region {m['region']!r} (regions: {known})")
        offset = int(m["off"], 0) if m["off"] else 0
        return self.addresses[m["region"]] + (-offset if m["sign"] == "-" else offset)

    def _field_choices(self, index: int, spec: FieldSpec) -> list[Choice]:
        name = f"world.fields[{index}]"
        address = self.value(spec.at, f"{name}.at")
        if not any(r.contains(address, spec.size) for r in self.regions()):
            raise CaseError(f"{self.where}: field `{name}.at` ({spec.at}) is not inside its region")
        labels = spec.labels or ("",) * len(spec.values)
        return [Choice(spec, address, self.value(v, f"{name}.values"), label) for v, label in zip(spec.values, labels)]

    def regions(self) -> tuple[FixedRegion, ...]:
        return tuple(
            FixedRegion(r.name, self.addresses[r.name], r.size, r.writable, r.doc, r.free_below)
            for r in self.world.regions
        )

    def configurations(self) -> list[Configuration]:
        return [Configuration(tuple(combo)) for combo in itertools.product(*self._fields)]

    def fields_read(self, config: Configuration, reads) -> frozenset[Choice]:
        """The configuration's choices whose words a path read (``reads``: the guard's Access records)."""
        starts = {r.name: r.start for r in self.regions()}
        spans = [(starts[a.region] + a.offset, a.size) for a in reads if a.region in starts]
        return frozenset(
            c for c in config.choices
            if any(addr < c.address + c.field.size and c.address < addr + size for addr, size in spans)
        )

    def gs_base(self) -> int | None:
        return self.segment_bases().get("gs")

    def segment_bases(self) -> dict[str, int]:
        """Segment register -> base: ``gs`` (a region), and ``tls`` on the port's TLS segment register."""
        return dict(self._segments)

    def _segment_bases(self) -> dict[str, int]:
        bases = {"gs": self.addresses[self.world.gs]} if self.world.gs else {}
        if self.world.tls is not None:
            if self.tls_segment in bases:
                raise CaseError(f"{self.where}: fields `world.gs` and `world.tls` both set GS")
            bases[self.tls_segment] = self.value(self.world.tls, "world.tls")
        return bases

    def apply(self, state, config: Configuration) -> None:
        """Lay the configuration's field values into the state's memory (world facts, not stores)."""
        for choice in config.choices:
            state.memory.store(choice.address, claripy.BVV(choice.value, choice.field.size * 8),
                               endness="Iend_LE", inspect=False)
        for segment, base in self._segments.items():
            setattr(state.regs, segment, base)

    def assumptions(self) -> tuple[str, ...]:
        out = [self.world.doc] if self.world.doc else []
        for r in self.world.regions:
            access = "read-write" if r.writable else "read-only"
            free = f", free stack below +{r.free_below:#x} (a frame built there is scratch)" if r.free_below else ""
            out.append(f"region {r.name}: {r.size:#x} bytes, {access}{free}, disjoint from every other region"
                       + (f" — {r.doc}" if r.doc else ""))
        if self.world.gs:
            out.append(f"GS points at region {self.world.gs}")
        if self.world.tls:
            out.append(f"{self.tls_segment.upper()} (the thread pointer) points at {self.world.tls}")
        for f in self.world.fields:
            values = " or ".join(f"{v}" + (f" ({lbl})" if lbl else "") for v, lbl in
                                 zip(f.values, f.labels or ("",) * len(f.values)))
            out.append(f"{f.at} holds {values}" + (f" — {f.doc}" if f.doc else ""))
        if self.world.regions:
            out.append("every other byte of a region is an unconstrained symbolic value; "
                       "memory outside all regions is not modelled (an access there is UNKNOWN)")
        return tuple(out)
