"""The runtime world a trampoline runs in, as the case declares it.

Regions (the TEB reached through GS, ``m``, ``g``, ``g0``, ``g0``'s stack, the exception pointers)
sit at symbolic addresses: region ``m`` starts at the symbol ``world.m``. Reality lets the runtime and
the OS put them anywhere, so the model constrains a base only as reality does: outside the null page,
in user space, a multiple of the region's declared alignment, and disjoint from every other region,
from the thread's stack and from the code. A branch on a world pointer's bits therefore sees every
placement. Fields are words inside regions with every initial value the runtime can give them ("the
TLS slot may be null"); the engine runs once per combination of field values, so each path of the real
code is checked under each situation, and each situation has a name in words.

A field value may also say that, in that situation, the trampoline was entered on the stack of one of
the world's stack regions (``running_on``: sigtramp entered while g0 runs): that region is then the
thread's own stack, at an unknown distance above the entry RSP, and accesses through its base are not
modelled (UNKNOWN) rather than placed in separate memory.

Every byte of a region that no field names is an unconstrained symbolic value; memory outside every
region is not modelled at all (an access there is UNKNOWN).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import claripy

from symabi.casefile import FieldSpec, World
from symabi.engine.memory import NULL_PAGES, USER_SPACE_END, Access, MemoryGuard, SymbolicRegion, guarded_pages
from symabi.errors import CaseError

WORLD_SHADOW = 0x6000_0000_0000  # where region bytes are placed in the engine's memory (values stay symbolic)
WORLD_SLOT = 0x100_0000  # 16 MiB apart: no region may be larger
_VALUE = re.compile(r"^\s*(?:(?P<region>[A-Za-z_]\w*)\s*(?:(?P<sign>[+-])\s*(?P<off>0x[0-9a-fA-F]+|\d+))?"
                    r"|(?P<number>-?(?:0x[0-9a-fA-F]+|\d+)))\s*$")


@dataclass(frozen=True)
class Choice:
    """One initial value of one field."""

    field: FieldSpec
    region: str  # where the field is
    offset: int
    text: str  # the value as the case writes it ("m+0x58", "0")
    label: str
    running_on: str = ""  # a stack region the trampoline was entered on in this situation


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

    def agrees_on(self, other: Configuration, fields: frozenset[tuple[str, int]]) -> bool:
        """Same value in every field whose (region, offset) is in ``fields``."""
        mine = {(c.region, c.offset): c.text for c in self.choices}
        theirs = {(c.region, c.offset): c.text for c in other.choices}
        return all(mine[f] == theirs[f] for f in fields)

    @property
    def running_on(self) -> str:
        return next((c.running_on for c in self.choices if c.running_on), "")


class WorldModel:
    def __init__(self, world: World, where: str, tls_segment: str = "gs"):
        """``tls_segment``: the segment register the port's TLS hangs from (symabi.ports), set to ``world.tls``."""
        self.world, self.where, self.tls_segment = world, where, tls_segment
        self.bases: dict[str, claripy.ast.BV] = {}
        self.shadows: dict[str, int] = {}
        for index, region in enumerate(world.regions):
            if region.size > WORLD_SLOT:
                raise CaseError(f"{where}: field `world.regions.{region.name}.size` is larger than {WORLD_SLOT:#x}")
            self.bases[region.name] = claripy.BVS(f"world.{region.name}", 64, explicit_name=True)
            self.shadows[region.name] = WORLD_SHADOW + index * WORLD_SLOT
        if world.gs is not None and world.gs not in self.bases:
            raise CaseError(f"{where}: field `world.gs` names {world.gs!r}, which is not a region")
        self._fields = [self._field_choices(i, f) for i, f in enumerate(world.fields)]
        self._segments = self._segment_bases()

    def _parse(self, text: str, field_name: str):
        m = _VALUE.match(text)
        if m is None:
            raise CaseError(f"{self.where}: field `{field_name}` has {text!r}; expected a number, region or region+offset")
        if m["number"] is not None:
            return None, int(m["number"], 0) & (2**64 - 1)
        if m["region"] not in self.bases:
            known = ", ".join(self.bases) or "none declared"
            raise CaseError(f"{self.where}: field `{field_name}` names region {m['region']!r} (regions: {known})")
        offset = int(m["off"], 0) if m["off"] else 0
        return m["region"], -offset if m["sign"] == "-" else offset

    def value(self, text: str, field_name: str) -> claripy.ast.BV:
        """Evaluate "0", "0x10", "m", "m+0x58" to a 64-bit value (a region's address is its symbolic base)."""
        region, offset = self._parse(text, field_name)
        return claripy.BVV(offset, 64) if region is None else self.bases[region] + offset

    def held(self, text: str, config: Configuration, field_name: str) -> tuple[claripy.ast.BV, Choice | None]:
        """``text`` as a value; "*g+0x10" is the word a field at g+0x10 holds in ``config`` (a register that
        holds the world's value at entry: arm64's R28, the current g), with that field's choice."""
        if not text.startswith("*"):
            return self.value(text, field_name), None
        at = self._parse(text[1:], field_name)
        choice = next((c for c in config.choices if (c.region, c.offset) == at), None)
        if choice is None:
            raise CaseError(f"{self.where}: field `{field_name}` ({text}) names a word no world field declares")
        return self.value(choice.text, field_name), choice

    def concrete(self, text: str, field_name: str, bases: dict[str, int]) -> int:
        """The same value with the regions at the given concrete bases (for a concrete run)."""
        region, offset = self._parse(text, field_name)
        return offset if region is None else (bases[region] + offset) % 2**64

    def _field_choices(self, index: int, spec: FieldSpec) -> list[Choice]:
        name = f"world.fields[{index}]"
        region, offset = self._parse(spec.at, f"{name}.at")
        size = next((r.size for r in self.world.regions if r.name == region), 0)
        if region is None or not (0 <= offset and offset + spec.size <= size):
            raise CaseError(f"{self.where}: field `{name}.at` ({spec.at}) is not inside its region")
        labels = spec.labels or ("",) * len(spec.values)
        running = getattr(spec, "running_on", ()) or ("",) * len(spec.values)
        for stack in running:
            if stack and not any(r.name == stack and r.free_below for r in self.world.regions):
                raise CaseError(f"{self.where}: field `{name}.running_on` names {stack!r}, which is not a stack "
                                "region (one with `free_below`)")
        for v in spec.values:
            self.value(v, f"{name}.values")
        return [Choice(spec, region, offset, v, label, on) for v, label, on in zip(spec.values, labels, running)]

    def regions(self, config: Configuration | None = None) -> tuple[SymbolicRegion, ...]:
        """The regions as the memory guard holds them. A stack region the configuration runs on is left
        out: its memory is the thread's stack, reached through the entry RSP (see the module doc)."""
        skip = config.running_on if config is not None else ""
        return tuple(
            SymbolicRegion(r.name, self.bases[r.name], 0, r.size, self.shadows[r.name], r.writable, r.doc,
                           free_below=r.free_below)
            for r in self.world.regions if r.name != skip
        )

    def placement(self, rsp, stack_low, stack_size: int, taken: list[tuple[int, int]],
                  config: Configuration) -> list[claripy.ast.Bool]:
        """What reality guarantees about where the regions are: see the module doc. ``rsp`` is the entry
        RSP, ``stack_low`` and ``stack_size`` span the modelled thread stack; ``taken`` are concrete
        (start, size) spans of code."""
        out = []
        # the thread's stack is mapped by whole pages: no runtime structure shares a page with it (the oracle
        # maps it so, and a guard page on either side keeps it clear of its neighbours)
        page_low, page_high = guarded_pages(stack_low, stack_size)
        spans = [(page_low, page_high - page_low, "")]
        for r in self.world.regions:
            base = self.bases[r.name]
            out += [claripy.UGE(base, NULL_PAGES), claripy.ULE(base, USER_SPACE_END - r.size),
                    base & (r.align - 1) == 0]
            if r.name == config.running_on:
                # entered on this stack: the entry RSP (and the return address above it) is inside it,
                # below its free-space limit
                out += [claripy.ULE(rsp + 8, base + r.free_below), claripy.UGE(rsp, base)]
                continue
            spans.append((base, r.size, r.name))
        spans += [(claripy.BVV(start, 64), size, "code") for start, size in taken]
        for (a, sa, na), (b, sb, nb) in itertools.combinations(spans, 2):
            if na == nb == "code":
                continue
            out.append(claripy.Or(claripy.ULE(a + sa, b), claripy.ULE(b + sb, a)))
        return out

    def configurations(self) -> list[Configuration]:
        return [Configuration(tuple(combo)) for combo in itertools.product(*self._fields)]

    def fields_read(self, config: Configuration, reads) -> frozenset[Choice]:
        """The configuration's choices whose words a path read (``reads``: the guard's Access records)."""
        return frozenset(
            c for c in config.choices
            if any(a.region == c.region and a.offset < c.offset + c.field.size and c.offset < a.offset + a.size
                   for a in reads)
        )

    def gs_base(self) -> claripy.ast.BV | None:
        return self.segment_bases().get("gs")

    def segment_bases(self) -> dict[str, claripy.ast.BV]:
        """Segment register -> base: ``gs`` (a region), and ``tls`` on the port's TLS segment register."""
        return dict(self._segments)

    def _segment_bases(self) -> dict[str, claripy.ast.BV]:
        bases = {"gs": self.bases[self.world.gs]} if self.world.gs else {}
        if self.world.tls is not None:
            if self.tls_segment in bases:
                raise CaseError(f"{self.where}: fields `world.gs` and `world.tls` both set GS")
            bases[self.tls_segment] = self.value(self.world.tls, "world.tls")
        return bases

    def apply(self, state, config: Configuration, guard: MemoryGuard) -> None:
        """Lay the configuration's field values into the state's memory (world facts, not stores)."""
        for choice in config.choices:
            if choice.region == config.running_on:
                continue  # that memory is the thread's stack here; its fields are not modelled apart
            value = self.value(choice.text, "world.fields")[choice.field.size * 8 - 1:0]
            address = guard.address_of(Access(choice.region, choice.offset, choice.field.size, None))
            state.memory.store(address, value, endness="Iend_LE", inspect=False)
            guard.touch(state, address, choice.field.size)
        for segment, base in self._segments.items():
            if segment in state.arch.registers:
                setattr(state.regs, segment, base)
            else:  # a system register VEX does not model (arm64's TPIDRRO_EL0: symabi.engine.cpu_arm64)
                state.globals[segment] = base

    def assumptions(self) -> tuple[str, ...]:
        out = [self.world.doc] if self.world.doc else []
        for r in self.world.regions:
            access = "read-write" if r.writable else "read-only"
            free = f", free stack below +{r.free_below:#x} (a frame built there is scratch)" if r.free_below else ""
            out.append(f"region {r.name}: {r.size:#x} bytes at world.{r.name} (any {r.align}-byte aligned user-space "
                       f"address), {access}{free}, disjoint from every other region and the stack"
                       + (f" — {r.doc}" if r.doc else ""))
        if self.world.gs:
            out.append(f"GS points at region {self.world.gs}")
        if self.world.tls:
            out.append(f"{self.tls_segment.upper()} (the thread pointer) points at {self.world.tls}")
        for f in self.world.fields:
            running = getattr(f, "running_on", ()) or ("",) * len(f.values)
            values = " or ".join(f"{v}" + (f" ({lbl})" if lbl else "") + (f", entered on {on}'s stack" if on else "")
                                 for v, lbl, on in zip(f.values, f.labels or ("",) * len(f.values), running))
            out.append(f"{f.at} holds {values}" + (f" — {f.doc}" if f.doc else ""))
        if self.world.regions:
            out.append("every other byte of a region is an unconstrained symbolic value; "
                       "memory outside all regions is not modelled (an access there is UNKNOWN)")
        return tuple(out)
