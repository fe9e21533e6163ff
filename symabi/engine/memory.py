"""Every memory access is resolved against declared regions, or the path stops as UNKNOWN.

angr's default for a symbolic address is to pick a concrete value and carry on, which can prove a
property for one address and report it for all. We do not let any access reach angr's concretization:
an inspect breakpoint sees each load and store first and

* resolves an address that is a *constant offset* from a region's symbolic base (the entry RSP) to a
  fixed shadow address inside that region, proving the offset constant with the solver;
* accepts a concrete address inside a declared fixed region;
* stops the path with ``UncoveredAccess`` (→ UNKNOWN, with the instruction and the address
  expression) for anything else: a pointer the model does not cover, an access that straddles a
  region's edge, a write into read-only code.

The shadow addresses only place the bytes; register and memory *values* keep the symbolic base, so a
saved stack pointer stays ``entry.rsp - 0x118`` and is checked as such.
"""

from __future__ import annotations

from dataclasses import dataclass

import claripy
from angr.errors import SimMemoryMissingError
from angr.state_plugins.inspect import BP_BEFORE

from symabi.engine import addresses

STACK_SHADOW = 0x7FF0_0000_0000


class UncoveredAccess(Exception):
    """A memory access the model does not cover; the path's verdict is UNKNOWN."""

    def __init__(self, kind: str, address: claripy.ast.BV, size: int, ins_addr: int | None, why: str):
        self.kind, self.address, self.size, self.ins_addr, self.why = kind, address, size, ins_addr, why
        super().__init__(f"{kind} of {size} bytes at {addresses.shown(address)}: {why}")


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


class MemoryGuard:
    def __init__(self, symbolic: tuple[SymbolicRegion, ...], fixed: tuple[FixedRegion, ...]):
        self.symbolic = symbolic
        self.fixed = fixed

    def address_of(self, access: Access) -> int:
        """Where an access's bytes live in the state's memory (the shadow address for the stack)."""
        for region in (*self.symbolic, *self.fixed):
            if region.name == access.region:
                return (region.shadow if isinstance(region, SymbolicRegion) else region.start) + access.offset
        raise KeyError(access.region)

    def observable(self, access: Access) -> bool:
        """Whether a write lands outside the trampoline's own frame (so the caller or Go can see it)."""
        if access.region == "stack":
            return access.offset >= 8  # the caller's home area and frame, above the return address
        region = next((r for r in self.fixed if r.name == access.region), None)
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

    def _on_read(self, state) -> None:
        addr = state.inspect.mem_read_address
        size = _size(state.inspect.mem_read_length)
        resolved = self._resolve(state, "read", addr, size, write=False)
        state.inspect.mem_read_address = resolved
        self._fill(state, resolved.concrete_value, size)

    def _name(self, address: int) -> str:
        for region in self.symbolic:
            if region.shadow + region.low <= address < region.shadow + region.high:
                return f"{region.name}{address - region.shadow:+#x}"
        for region in self.fixed:
            if region.contains(address, 1):
                return f"{region.name}+{address - region.start:#x}"
        return f"mem@{address:#x}"

    def _fill(self, state, address: int, size: int) -> None:
        """Give bytes nobody wrote a name from where they are (``stack+0x10``, ``m+0x58``), the same in
        every version, so the old and the new version read the same unknown caller or runtime memory."""
        for word in range(address & ~7, address + size, 8):
            try:
                state.memory.load(word, 8, inspect=False, fill_missing=False)
                continue
            except SimMemoryMissingError as exc:
                whole = exc.args[:2] == (word, 8)
            if whole:
                value = claripy.BVS(f"init.{self._name(word)}", 64, explicit_name=True)
                state.memory.store(word, value, endness="Iend_LE", inspect=False)
                continue
            for byte in range(word, word + 8):
                try:
                    state.memory.load(byte, 1, inspect=False, fill_missing=False)
                except SimMemoryMissingError:
                    value = claripy.BVS(f"init.{self._name(byte)}.b", 8, explicit_name=True)
                    state.memory.store(byte, value, inspect=False)

    def _on_write(self, state) -> None:
        addr = state.inspect.mem_write_address
        size = state.inspect.mem_write_length
        size = _size(size) if size is not None else state.inspect.mem_write_expr.size() // 8
        state.inspect.mem_write_address = self._resolve(state, "write", addr, size, write=True)
        value = state.inspect.mem_write_expr  # a save of an entry register: reports point at it
        if value is not None and value.op == "BVS" and value.args[0].startswith("entry."):
            state.globals["saves"] = {**state.globals.get("saves", {}), value.args[0]: state.scratch.ins_addr}

    def _resolve(self, state, kind: str, addr, size: int, *, write: bool):
        ins = state.scratch.ins_addr
        if isinstance(addr, int):
            addr = claripy.BVV(addr, 64)
        if addr.symbolic:
            for region in self.symbolic:
                if addr.variables & region.base.variables:
                    return self._resolve_relative(state, kind, addr, size, region, ins, write=write)
            # Not relative to a symbolic base: acceptable only if the path constraints pin it to one
            # value (an entry register the convention binds to a world address, say).
            values = state.solver.eval_upto(addr, 2)
            if len(values) != 1:
                raise UncoveredAccess(kind, addr, size, ins, addresses.uncovered(kind, addr))
            addr = claripy.BVV(values[0], 64)
        concrete = addr.concrete_value
        region = next((r for r in self.fixed if r.contains(concrete, size)), None)
        if region is None:
            raise UncoveredAccess(kind, addr, size, ins, "no declared region holds this address")
        if write and not region.writable:
            raise UncoveredAccess(kind, addr, size, ins, f"region {region.name} is read-only")
        self._record(state, Access(region.name, concrete - region.start, size, ins), write=write)
        return addr

    def _resolve_relative(self, state, kind, addr, size, region: SymbolicRegion, ins, *, write: bool):
        offset = _constant_offset(state, addr, region.base)
        if offset is None:
            raise UncoveredAccess(kind, addr, size, ins, f"not a constant offset from the {region.name} base {region.base}")
        if not (region.low <= offset and offset + size <= region.high):
            raise UncoveredAccess(kind, addr, size, ins, f"offset {offset:+#x} is outside region {region.name}")
        if write:
            self._record(state, Access(region.name, offset, size, ins), write=True)
        return claripy.BVV(region.shadow + offset, 64)

    @staticmethod
    def _record(state, access: Access, *, write: bool) -> None:
        # globals is copied shallowly per state: keep it immutable so forks never share a list.
        # Reads are kept for fixed regions only: they tell which world facts a path depended on.
        key = "writes" if write else "reads"
        state.globals[key] = state.globals[key] + (access,)


def _size(length) -> int:
    if isinstance(length, int):
        return length
    if length is None or length.symbolic:
        raise UncoveredAccess("access", claripy.BVV(0, 64), 0, None, "symbolic access size")
    return length.concrete_value


def _linear(expr) -> tuple[dict[str, int], int] | None:
    """expr as (coefficients of its symbols, constant) mod 2**64, if it is only sums and differences.

    claripy does not simplify ``(rsp - 8) - rsp``; this exact syntactic step saves a solver call per
    stack access, and anything it cannot read falls back to asking the solver.
    """
    if not expr.symbolic:
        return {}, expr.concrete_value
    if expr.op == "BVS":
        return {expr.args[0]: 1}, 0
    if expr.op in ("__add__", "__sub__") and expr.size() == 64:
        parts = [_linear(a) for a in expr.args]
        if any(p is None for p in parts):
            return None
        coefs: dict[str, int] = {}
        const = 0
        for index, (terms, c) in enumerate(parts):
            sign = -1 if expr.op == "__sub__" and index > 0 else 1
            const += sign * c
            for name, k in terms.items():
                coefs[name] = coefs.get(name, 0) + sign * k
        return {n: k % 2**64 for n, k in coefs.items() if k % 2**64}, const % 2**64
    return None


def _constant_offset(state, addr, base) -> int | None:
    delta = addr - base
    if not delta.symbolic:
        return _signed(delta.concrete_value)
    linear = _linear(delta)
    if linear is not None and not linear[0]:
        return _signed(linear[1])
    values = state.solver.eval_upto(delta, 2)
    return _signed(values[0]) if len(values) == 1 else None


def _signed(value: int) -> int:
    return value - (1 << 64) if value & (1 << 63) else value


def write_initial(state, region: SymbolicRegion, offset: int, value: claripy.ast.BV) -> None:
    """Lay down what the caller put there before entry (not a store by the trampoline: not recorded)."""
    state.memory.store(region.shadow + offset, value, endness="Iend_LE", inspect=False)
