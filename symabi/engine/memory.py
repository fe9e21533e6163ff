"""Every memory access is resolved against declared regions, or the path stops as UNKNOWN.

angr's default for a symbolic address is to pick a concrete value and carry on, which can prove a
property for one address and report it for all. We do not let any access reach angr's concretization:
an inspect breakpoint sees each load and store first and

* resolves an address that is a *constant offset* from a region's symbolic base (the entry RSP) to a
  fixed shadow address inside that region, proving the offset constant with the solver;
* accepts a concrete address inside a declared fixed region;
* judges an address only the host's values decide (``provenance``): a write there is a ``WildWrite``
  (the writes-owned-memory obligation refutes it), a read gets a fresh value (``HostRead``, printed as
  an assumption) and, through memory nobody wrote, may fault;
* records a write above the modelled part of the caller's frame as the stack write it is;
* stops the path with ``UncoveredAccess`` (→ UNKNOWN, with the instruction and the address
  expression) for anything else: a pointer the model does not cover, an access that straddles a
  region's edge, a write into read-only code.

The shadow addresses only place the bytes; register and memory *values* keep the symbolic base, so a
saved stack pointer stays ``entry.rsp - 0x118`` and is checked as such.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import claripy
from angr.errors import SimMemoryMissingError
from angr.state_plugins.inspect import BP_BEFORE

from symabi.engine import addresses, provenance
from symabi.engine.faults import may_fault

STACK_SHADOW = 0x7FF0_0000_0000
NULL_PAGES = 0x10000  # no OS maps the first 64 KiB: an access there is a page fault
USER_SPACE_END = 0x8000_0000_0000  # canonical user-space addresses end here
HOST_SHADOW = 0x5000_0000_0000  # where reads through host-chosen addresses find their fresh values
HOST_SLOT = 0x40  # bytes per such address
PAGE = 0x1000


def guarded_pages(start, size: int):
    """(low, high) of the whole pages a span occupies, one guard page more on either side: memory is
    mapped by pages, so nothing else (host code, another structure) shares them. Works on ints and BVs."""
    return (start & ~(PAGE - 1)) - PAGE, ((start + size + PAGE - 1) & ~(PAGE - 1)) + PAGE


# state.globals key: {(region, word offset): why} of the words a callee may have changed without the model
# knowing how (symabi.models.host_unsaid): a read of one, before the code stores it again, is not modelled
UNSAID = "unsaid"


class CertainFault(Exception):
    """An instruction that faults on every input that reaches it (a load from the null page)."""

    def __init__(self, ins_addr: int | None, why: str):
        self.ins_addr = ins_addr
        super().__init__(why)


class UncoveredAccess(Exception):
    """A memory access the model does not cover; the path's verdict is UNKNOWN."""

    def __init__(self, kind: str, address: claripy.ast.BV, size: int, ins_addr: int | None, why: str,
                 fault: claripy.ast.Bool | None = None):
        self.kind, self.address, self.size, self.ins_addr, self.why = kind, address, size, ins_addr, why
        self.fault = fault  # when the address may also lie in the null page: the condition for that fault
        super().__init__(f"{kind} of {size} bytes at {addresses.shown(address)}: {why}")


class UnmodelledCallee(Exception):
    """A call whose callee the model cannot state, found before the model changed anything: the path ends
    UNKNOWN right after the call is recorded, so what the code owed at the call is still judged."""


@dataclass(frozen=True)
class WildWrite:
    """A store through an address only the host's values decide (see ``provenance``)."""

    address: claripy.ast.BV
    size: int
    ins_addr: int | None


class HostChosenWrite(Exception):
    """Raised by the guard for a ``WildWrite``: the path ends there, and writes-owned-memory judges it."""

    def __init__(self, wild: WildWrite):
        self.wild = wild
        super().__init__(f"a write of {wild.size} bytes through {addresses.shown(wild.address)}, "
                         "an address the host's values choose")


@dataclass(frozen=True)
class HostRead:
    """A read through a host-chosen address: it sees ``value``, a fresh value (one per address)."""

    address: str  # as reports show it
    size: int
    ins_addr: int | None
    value: str  # the fresh value's name
    slot: int  # where the value lives in the state's memory
    expression: claripy.ast.BV = field(compare=False, repr=False)  # the address itself (the oracle lays it out)

    def describe(self) -> str:
        where = f" (at {self.ins_addr:#x})" if self.ins_addr is not None else ""
        return (f"the {self.size} bytes at {self.address}, an address the host chooses, are readable{where}; "
                f"they hold any value ({self.value})")


@dataclass(frozen=True)
class SymbolicRegion:
    """Memory addressed relative to a symbolic base (the stack, relative to the entry RSP)."""

    name: str
    base: claripy.ast.BV
    low: int  # offsets [low, high) from base are inside
    high: int
    shadow: int
    writable: bool = True
    doc: str = ""
    free_below: int = 0  # a stack region: offsets below this are free space, a frame built there is scratch


@dataclass(frozen=True)
class FixedRegion:
    """Memory at concrete addresses: the code image, data symbols, declared runtime structures."""

    name: str
    start: int
    size: int
    writable: bool
    doc: str = ""
    free_below: int = 0  # a stack region: offsets below this are free space, a frame built there is scratch

    def contains(self, address: int, size: int) -> bool:
        return self.start <= address and address + size <= self.start + self.size


@dataclass(frozen=True)
class Access:
    """One resolved store, kept on the path for the contract and for reports."""

    region: str
    offset: int  # from the region's base (the entry RSP for the stack)
    size: int
    ins_addr: int | None
    # a store's stack pointer when it was made (symabi.models.host_unsaid: what a call's stack arguments are)
    sp: claripy.ast.BV | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Havoc:
    """A span of a region whose bytes someone outside the code (a callee) may have changed.

    Every word of the span holds a fresh value afterwards, named by ``names(word offset)`` (for
    example ``runtime.cgocallback#1.below-0x18``): words already in memory are overwritten when the
    havoc happens; words nobody has touched yet get their fresh name when they are first read.
    """

    region: str
    low: int  # offsets [low, high) from the region's base
    high: int
    names: Callable[[int], str]


class MemoryGuard:
    def __init__(self, symbolic: tuple[SymbolicRegion, ...], fixed: tuple[FixedRegion, ...]):
        self.symbolic = symbolic
        self.fixed = fixed
        # Called with (state, instruction, address, size) for every access: CPU rules about addresses
        # (alignment) that VEX leaves out; see engine/cpu.py.
        self.address_checks: list = []
        # Bytes below the stack pointer that the host ABI keeps safe from asynchronous writes (signal
        # handlers, the OS's exception dispatch, a debugger): 0 on Windows x64, 128 on System V. Below
        # that, memory is volatile: a read there sees a fresh value. None: not modelled.
        self.red_zone: int | None = None
        # Stack offsets from the entry stack pointer at and above which the caller's memory starts: 8 on
        # amd64 (above the return address), 0 on arm64 (a BL leaves the return address in X30).
        self.caller_floor = 8

    def address_of(self, access: Access) -> int:
        """Where an access's bytes live in the state's memory (the shadow address for the stack)."""
        for region in (*self.symbolic, *self.fixed):
            if region.name == access.region:
                return (region.shadow if isinstance(region, SymbolicRegion) else region.start) + access.offset
        raise KeyError(access.region)

    def observable(self, access: Access) -> bool:
        """Whether a write lands outside the trampoline's own frame (so the caller or Go can see it)."""
        if access.region == "stack":
            return access.offset >= self.caller_floor  # the caller's home area and frame
        region = next((r for r in (*self.symbolic, *self.fixed) if r.name == access.region), None)
        return region is None or access.offset >= region.free_below

    def observable_writes(self, state) -> tuple:
        """(Access, current value) for the latest write to each observable location."""
        latest = {}
        for access in state.globals["writes"]:
            if self.observable(access):
                latest[(access.region, access.offset, access.size)] = access
        return tuple((a, self.peek(state, a)) for a in latest.values())

    def peek(self, state, access: Access):
        """The current value of an access's bytes, read without counting as a read by the code."""
        return state.memory.load(self.address_of(access), access.size, endness="Iend_LE", inspect=False)

    def install(self, state) -> None:
        state.inspect.b("mem_read", when=BP_BEFORE, action=self._on_read)
        state.inspect.b("mem_write", when=BP_BEFORE, action=self._on_write)
        state.globals["writes"] = ()
        state.globals["reads"] = ()
        state.globals["touched"] = frozenset()  # (region, word offset) of every word that is in memory
        state.globals["havocs"] = ()
        state.globals["host_reads"] = ()

    def locate(self, state, address) -> tuple[str, int] | None:
        """(region, offset) of an address if it is a constant offset from a region's base or a concrete
        address inside a fixed region; None otherwise. Nothing is recorded: this is the model asking."""
        if isinstance(address, int):
            address = claripy.BVV(address, 64)
        if address.symbolic:
            for region in self._visible(state):
                if address.variables & region.base.variables:
                    offset = _constant_offset(state, address, region.base)
                    return None if offset is None else (region.name, offset)
            value = only_value(state, address)
            if value is None:
                return None
            address = claripy.BVV(value, 64)
        concrete = address.concrete_value
        region = next((r for r in self.fixed if r.contains(concrete, 1)), None)
        return None if region is None else (region.name, concrete - region.start)

    def bounds(self, name: str) -> tuple[int, int]:
        """The offsets [low, high) a region spans."""
        for region in self.symbolic:
            if region.name == name:
                return region.low, region.high
        region = next(r for r in self.fixed if r.name == name)
        return 0, region.size

    def havoc(self, state, havoc: Havoc) -> None:
        """Give every byte of the span a fresh value (see ``Havoc``)."""
        base = self._base_address(havoc.region)
        for region, word in state.globals["touched"]:
            if region != havoc.region or not (havoc.low < word + 8 and word < havoc.high):
                continue
            if havoc.low <= word and word + 8 <= havoc.high:
                value = claripy.BVS(havoc.names(word), 64, explicit_name=True)
                state.memory.store(base + word, value, endness="Iend_LE", inspect=False)
                continue
            for byte in range(max(word, havoc.low), min(word + 8, havoc.high)):
                value = claripy.BVS(f"{havoc.names(word)}.b{byte - word}", 8, explicit_name=True)
                state.memory.store(base + byte, value, inspect=False)
        state.globals["havocs"] = state.globals["havocs"] + (havoc,)

    def _base_address(self, name: str) -> int:
        for region in self.symbolic:
            if region.name == name:
                return region.shadow
        return next(r for r in self.fixed if r.name == name).start

    def _where(self, address: int) -> tuple[str, int] | None:
        for region in self.symbolic:
            if region.shadow + region.low <= address < region.shadow + region.high:
                return region.name, address - region.shadow
        for region in self.fixed:
            if region.contains(address, 1):
                return region.name, address - region.start
        return None

    def touch(self, state, address: int, size: int) -> None:
        """Record that a word is in memory (so a later havoc overwrites it); every store made outside the
        code's own execution (the world, what the caller laid down) must be recorded too."""
        where = self._where(address)
        if where is None:
            return
        region, offset = where
        words = {(region, w) for w in range(offset // 8 * 8, offset + size, 8)}
        if not words <= state.globals["touched"]:
            state.globals["touched"] = state.globals["touched"] | words

    def _on_read(self, state) -> None:
        addr = state.inspect.mem_read_address
        size = _size(state.inspect.mem_read_length)
        if _dead(state):
            state.inspect.mem_read_address = claripy.BVV(STACK_SHADOW, 64)
            return
        resolved = self._resolve(state, "read", addr, size, write=False)
        self._unsaid(state, resolved.concrete_value, size, write=False)
        state.inspect.mem_read_address = resolved
        self._volatile(state, resolved.concrete_value, size)
        self._fill(state, resolved.concrete_value, size)
        self.touch(state, resolved.concrete_value, size)

    def _unsaid(self, state, address: int, size: int, *, write: bool) -> None:
        """A read of an unsaid word (``UNSAID``) is UNKNOWN; a store of one makes it the code's again."""
        unsaid = state.globals.get(UNSAID)
        where = self._where(address) if unsaid else None
        if where is None:
            return
        words = {(where[0], w) for w in range(where[1] // 8 * 8, where[1] + size, 8)}
        hit = words & unsaid.keys()
        if hit and write:  # only a word stored whole is the code's again
            whole = {(r, w) for r, w in hit if where[1] <= w and w + 8 <= where[1] + size}
            state.globals[UNSAID] = {k: v for k, v in unsaid.items() if k not in whole}
        elif hit:
            region, offset = min(hit)
            raise UncoveredAccess("read", claripy.BVV(address, 64), size, state.scratch.ins_addr,
                                  f"{region}{offset:+#x} after the call: {unsaid[(region, offset)]}")

    def _volatile(self, state, address: int, size: int) -> None:
        """A read below the stack pointer (less the red zone) sees whatever an asynchronous event left
        there: fresh bytes ``below-rsp#<k>.stack-0x<d>``, the k-th such read of the path."""
        where = self._where(address)
        if self.red_zone is None or where is None:
            return
        sp = self.locate(state, state.regs.sp)
        region, offset = where
        if sp is None or sp[0] != region or offset >= sp[1] - self.red_zone:
            return
        state.globals["volatile_reads"] = state.globals.get("volatile_reads", 0) + 1
        k = state.globals["volatile_reads"]
        limit = min(size, sp[1] - self.red_zone - offset)
        for byte in range(limit):
            name = f"below-rsp#{k}.{region}{offset + byte:+#x}" if region == "stack" else \
                f"below-rsp#{k}.{region}+{offset + byte:#x}"
            state.memory.store(address + byte, claripy.BVS(name, 8, explicit_name=True), inspect=False)

    def _source(self, state, region: str, offset: int) -> Havoc | None:
        """The latest havoc that covers a byte, or None: the byte holds what was there before entry."""
        return next((h for h in reversed(state.globals["havocs"])
                     if h.region == region and h.low <= offset < h.high), None)

    def _unknown(self, state, address: int, bits: int) -> claripy.ast.BV:
        """A fresh value for memory nobody wrote: what a callee left there (its havoc's name), else what
        was there before entry (``init.stack+0x10``, ``init.m+0x58``), the same in every version."""
        where = self._where(address)
        if where is None:
            return claripy.BVS(f"init.mem@{address:#x}", bits, explicit_name=True)
        region, offset = where
        havoc, word = self._source(state, region, offset), offset // 8 * 8
        if havoc is not None:
            name = havoc.names(word) + ("" if bits == 64 else f".b{offset - word}")
        else:
            name = f"init.{region}{offset:+#x}" if region == "stack" else f"init.{region}+{offset:#x}"
            name += "" if bits == 64 else ".b"
        return claripy.BVS(name, bits, explicit_name=True)

    def _fill(self, state, address: int, size: int) -> None:
        """Give bytes nobody wrote a name from where they are, so the old and the new version read the
        same unknown caller, runtime or callee-left memory."""
        for word in range(address & ~7, address + size, 8):
            try:
                state.memory.load(word, 8, inspect=False, fill_missing=False)
                continue
            except SimMemoryMissingError as exc:
                whole = exc.args[:2] == (word, 8)
            where = self._where(word)
            if whole and (where is None or len({id(self._source(state, where[0], where[1] + i))
                                                for i in range(8)}) == 1):
                state.memory.store(word, self._unknown(state, word, 64), endness="Iend_LE", inspect=False)
                continue
            for byte in range(word, word + 8):
                try:
                    state.memory.load(byte, 1, inspect=False, fill_missing=False)
                except SimMemoryMissingError:
                    state.memory.store(byte, self._unknown(state, byte, 8), inspect=False)

    def _on_write(self, state) -> None:
        addr = state.inspect.mem_write_address
        size = state.inspect.mem_write_length
        size = _size(size) if size is not None else state.inspect.mem_write_expr.size() // 8
        if _dead(state):
            state.inspect.mem_write_address = claripy.BVV(STACK_SHADOW, 64)
            return
        resolved = self._resolve(state, "write", addr, size, write=True)
        self._unsaid(state, resolved.concrete_value, size, write=True)
        state.inspect.mem_write_address = resolved
        self.touch(state, resolved.concrete_value, size)
        value = state.inspect.mem_write_expr  # a save of an entry register: reports point at it
        if value is not None and value.op == "BVS" and value.args[0].startswith("entry."):
            state.globals["saves"] = {**state.globals.get("saves", {}), value.args[0]: state.scratch.ins_addr}

    def _resolve(self, state, kind: str, addr, size: int, *, write: bool):
        ins = state.scratch.ins_addr
        if isinstance(addr, int):
            addr = claripy.BVV(addr, 64)
        for check in self.address_checks:
            check(state, ins, addr, size)
        if addr.symbolic:
            for region in self._visible(state):
                if addr.variables & region.base.variables:
                    return self._resolve_relative(state, kind, addr, size, region, ins, write=write)
            # Not relative to a symbolic base: acceptable only if the path constraints pin it to one
            # value (an entry register the convention binds to a world address, say).
            value = only_value(state, addr)
            if value is None:
                return self._unplaced(state, kind, addr, size, ins, addresses.uncovered(kind, addr), write=write)
            addr = claripy.BVV(value, 64)
        concrete = addr.concrete_value
        region = next((r for r in self.fixed if r.contains(concrete, size)), None)
        if region is None and concrete < NULL_PAGES:
            raise CertainFault(ins, f"a {kind} of {size} bytes at {concrete:#x}, in the null page: a page fault")
        if region is None:
            raise UncoveredAccess(kind, addr, size, ins, "no declared region holds this address")
        if write and not region.writable:
            raise UncoveredAccess(kind, addr, size, ins, f"region {region.name} is read-only")
        self._record(state, Access(region.name, concrete - region.start, size, ins), write=write)
        return addr

    def _resolve_relative(self, state, kind, addr, size, region: SymbolicRegion, ins, *, write: bool):
        offset = _constant_offset(state, addr, region.base)
        if offset is None:
            return self._unplaced(state, kind, addr, size, ins,
                                  f"not a constant offset from the {region.name} base {region.base}", write=write)
        if write and region.name == "stack" and offset >= 8 and offset + size > region.high:
            # Above the modelled part of the caller's frame: still the caller's, and a write there breaks
            # the contract whatever it holds (the stack-writes obligation sees it).
            self._record(state, Access(region.name, offset, size, ins, state.regs.sp), write=True)
            return claripy.BVV(region.shadow + offset, 64)
        if not (region.low <= offset and offset + size <= region.high):
            below = f" ({region.doc})" if region.name == "stack" and offset < region.low and region.doc else ""
            raise UncoveredAccess(kind, addr, size, ins, f"offset {offset:+#x} is outside region {region.name}{below}")
        if write and not region.writable:
            raise UncoveredAccess(kind, addr, size, ins, f"region {region.name} is read-only")
        # Reads are recorded for world regions: they tell which world facts a path depended on.
        if write or region.name != "stack":
            self._record(state, Access(region.name, offset, size, ins, state.regs.sp if write else None), write=write)
        return claripy.BVV(region.shadow + offset, 64)

    def _unplaced(self, state, kind: str, addr, size: int, ins, why: str, *, write: bool):
        """An address no region places: the host's (a wild write, or a fresh read), else UNKNOWN."""
        origin = provenance.origin(addr)
        if origin is None:
            raise UncoveredAccess(kind, addr, size, ins, why, fault=_null_page_fault(state, addr))
        if write:
            raise HostChosenWrite(WildWrite(addr, size, ins))
        if origin == provenance.GARBAGE:
            may_fault(state, ins, claripy.ULT(addr, NULL_PAGES),
                      f"a read through {addresses.shown(addr)}, taken from memory nobody wrote, which can be "
                      "null: a page fault")
        return claripy.BVV(self._host_read(state, addr, size, ins).slot, 64)

    @staticmethod
    def _host_read(state, addr, size: int, ins) -> HostRead:
        """The fresh value a host-chosen address holds: one per (address expression, size) on a path, so
        two reads of one address agree."""
        key = hash(addr)  # claripy's structural hash: two different expressions never share a value
        for read in state.globals["host_reads"]:
            if hash(read.expression) == key and read.size == size:
                return read
        text = _expression(addr)
        if size > HOST_SLOT:
            raise UncoveredAccess("read", addr, size, ins, f"a {size}-byte read through a host-chosen address")
        slot = HOST_SHADOW + HOST_SLOT * len(state.globals["host_reads"])
        # named by the expression itself (its hash keeps the name exact), so both versions share the value
        read = HostRead(text, size, ins, f"host-mem[{text}]@{key & (2**64 - 1):x}.{size}", slot, addr)
        state.memory.store(slot, claripy.BVS(read.value, size * 8, explicit_name=True), endness="Iend_LE",
                           inspect=False)
        state.globals["host_reads"] = state.globals["host_reads"] + (read,)
        return read

    def _visible(self, state) -> tuple[SymbolicRegion, ...]:
        """The symbolic regions a path may address: a world stack the path runs on is its own stack,
        reached through the entry RSP only (see models/world.py)."""
        hidden = state.globals.get("hidden_regions", ())
        return tuple(r for r in self.symbolic if r.name not in hidden)

    @staticmethod
    def _record(state, access: Access, *, write: bool) -> None:
        # globals is copied shallowly per state: keep it immutable so forks never share a list.
        # Reads are kept for fixed regions only: they tell which world facts a path depended on.
        key = "writes" if write else "reads"
        state.globals[key] = state.globals[key] + (access,)


def _dead(state) -> bool:
    """Whether the state went past an exit VEX always takes (a REP string instruction whose count reached
    0 leaves the rest of its block to a state constrained by False): angr drops such a state, so its
    accesses are not resolved (asking the solver about it would raise)."""
    guard = getattr(state.scratch, "guard", None)  # what the block's earlier exits leave for the rest of it
    return guard is not None and guard.is_false()


def _expression(addr) -> str:
    """An address expression written out in full (claripy's form without its ``<BV64 ...>`` wrapper)."""
    text = addr.shallow_repr(max_depth=64)
    return text[len("<BV64 "):-1] if text.startswith("<BV64 ") else text


def _null_page_fault(state, addr) -> claripy.ast.Bool | None:
    """A pointer a callee left in a register or in memory may be anything, null included: when the
    address can fall in the null page, that is a page fault the no-fault obligation refutes. (A pointer
    the host passed is the host's promise, and stays uncovered.)"""
    if not any("#" in name for name in addr.variables):
        return None
    null = claripy.ULT(addr, NULL_PAGES)
    return null if state.solver.satisfiable(extra_constraints=[null]) else None


def _size(length) -> int:
    if isinstance(length, int):
        return length
    if length is None or length.symbolic:
        raise UncoveredAccess("access", claripy.BVV(0, 64), 0, None, "symbolic access size")
    return length.concrete_value


def _linear(expr) -> tuple[dict, int] | None:
    """expr as (coefficients of its terms, constant) mod 2**64, if it is only sums and differences.

    A term is a symbol (by name), or ``(k, inner)``: the low k bits of a sum of symbols ``inner`` =
    (coefficients by name, constant), which ANDQ $~15, SP leaves behind (``x[63:4] .. 0`` is x - x[3:0]).
    claripy does not simplify ``(rsp - 8) - rsp``; this exact syntactic step saves a solver call per
    stack access, and anything it cannot read falls back to asking the solver.
    """
    if not expr.symbolic:
        return {}, expr.concrete_value
    if expr.op == "BVS":
        return {expr.args[0]: 1}, 0
    if (cleared := _cleared_low_bits(expr)) is not None:  # inner with its low k bits cleared
        k, inner = cleared
        read = _linear(inner)
        if read is None or not all(isinstance(name, str) for name in read[0]):
            return None
        terms, const = read
        low = (k, (tuple(sorted(terms.items())), const))
        return {**terms, low: 2**64 - 1}, const
    if expr.op in ("__add__", "__sub__") and expr.size() == 64:
        parts = [_linear(a) for a in expr.args]
        if any(p is None for p in parts):
            return None
        coefs: dict = {}
        const = 0
        for index, (terms, c) in enumerate(parts):
            sign = -1 if expr.op == "__sub__" and index > 0 else 1
            const += sign * c
            for name, k in terms.items():
                coefs[name] = coefs.get(name, 0) + sign * k
        return {n: k % 2**64 for n, k in coefs.items() if k % 2**64}, const % 2**64
    return None


def _cleared_low_bits(expr):
    """(k, x) when ``expr`` is a 64-bit ``x`` with its low k bits cleared (``x[63:k] .. 0``), else None."""
    if expr.op != "Concat" or len(expr.args) != 2 or expr.size() != 64:
        return None
    high, low = expr.args
    if low.symbolic or low.concrete_value != 0 or high.op != "Extract":
        return None
    top, bottom, inner = high.args
    if top != 63 or bottom != low.size() or inner.size() != 64:
        return None
    return bottom, inner


FIXED_LOW_BITS = "fixed_low_bits"  # the state.globals key: (symbol name, k) -> the one value of symbol[k-1:0]


def _fixed_low_bits(state, name: str, k: int, expr) -> int | None:
    """The one value the low k bits of the symbol ``name`` (a leaf of ``expr``) take on the path, or None
    when they can take two or more.

    Once the path's constraints leave the bits one value, they do on every path below it too (a path
    only adds constraints), so the answer is kept on the path (``FIXED_LOW_BITS``) and asked once. A
    kept answer is used only while the path is satisfiable (asking that is free unless constraints were
    added: claripy caches it), so an unsatisfiable path still raises where it did."""
    known = state.globals.get(FIXED_LOW_BITS, {})
    if (name, k) in known:
        return known[(name, k)] if state.solver.satisfiable() else None
    symbol = next(leaf for leaf in expr.leaf_asts() if leaf.op == "BVS" and leaf.args[0] == name)
    value = only_value(state, symbol[k - 1:0])
    if value is not None:
        state.globals[FIXED_LOW_BITS] = {**known, (name, k): value}  # a new dict: forks never share one
    return value


def _low_bits(state, term, expr) -> int | None:
    """The value of a ``(k, inner)`` term of ``_linear`` when the path fixes the low k bits of each symbol
    of ``inner`` (they decide it: (c + sum a*x) mod 2**k), else None."""
    k, (terms, const) = term
    total = const
    for name, coef in terms:
        value = _fixed_low_bits(state, name, k, expr)
        if value is None:
            return None
        total += coef * value
    return total % 2**k


def _constant_offset(state, addr, base) -> int | None:
    delta = addr - base
    if not delta.symbolic:
        return _signed(delta.concrete_value)
    linear = _linear(delta)
    if linear is not None and not linear[0]:
        return _signed(linear[1])
    if linear is not None and all(isinstance(term, tuple) for term in linear[0]):
        # only low bits of sums of symbols are left: constant when the path fixes each symbol's low bits
        # (else, or on an unsatisfiable path, the solver is asked about the whole offset, as for any other)
        values = [(_low_bits(state, term, delta), k) for term, k in linear[0].items()]
        if all(value is not None for value, _ in values):
            return _signed((linear[1] + sum(value * k for value, k in values)) % 2**64)
    value = only_value(state, delta)
    return None if value is None else _signed(value)


def only_value(state, expr) -> int | None:
    """The one value ``expr`` can take on the path, or None when it can take two or more.

    Asked as one model and one satisfiability question rather than ``eval_upto(expr, 2)``: claripy
    simplifies every constraint of the path (a Z3 tactic) before any evaluation of more than one value,
    and drops the path's incremental solver after it, which cost most of a long path's stepping. The
    answer is the same; a solver that gives none (a timeout) raises, as before, and is never read as
    "only one value".

    A bare symbol no constraint of the path mentions takes every value: that needs no solver (only that
    the path is satisfiable, which claripy has cached unless constraints were added since)."""
    if expr.op == "BVS" and expr.args[0] not in state.solver._solver.variables and state.solver.satisfiable():
        return None
    (value,) = state.solver.eval_upto(expr, 1)
    return None if state.solver.satisfiable(extra_constraints=[expr != value]) else value


def _signed(value: int) -> int:
    return value - (1 << 64) if value & (1 << 63) else value


def write_initial(state, region: SymbolicRegion, offset: int, value: claripy.ast.BV) -> None:
    """Lay down what the caller put there before entry (not a store by the trampoline: not recorded as
    a write, but in memory, so a callee's havoc over it is seen)."""
    state.memory.store(region.shadow + offset, value, endness="Iend_LE", inspect=False)
    words = {(region.name, w) for w in range(offset // 8 * 8, offset + value.size() // 8, 8)}
    state.globals["touched"] = state.globals.get("touched", frozenset()) | words
