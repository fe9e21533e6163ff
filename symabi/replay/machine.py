"""Run a laid-out trampoline concretely on unicorn, with callees emulated as the go-abi0 model says.

The memory map mirrors the symbolic engine's regions, and nothing else is mapped:

    code      the image at CODE_BASE (read-only, except its data symbols that are not SRODATA)
    stack     entry RSP - STACK_RESERVE up to entry RSP + 8 + HOME_AREA + stack_args + CALLER_FRAME, with the
              caller's return address (CALLER_RETURN) at [entry RSP]
    regions   world regions (the TEB, m, g, ...) at the addresses the case model gives them

Every load and store is checked against these regions (unicorn maps whole pages; the check is to the
byte), so an access the symbolic engine would call uncovered stops the run as an error instead of
silently reading padding. Stub addresses are not mapped: control reaching one is a call into Go, which
is emulated here and never executed.

A run ends in one of:

    returned  control reached the caller's return address
    aborted   a callee declared noreturn was called, or a trap (INT $3) executed
    escaped   control reached an address that is neither code, a callee stub, nor the caller
    error     a memory access outside every region, an undecodable instruction, an undeclared callee
    loop      the instruction budget ran out
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import unicorn
import unicorn.x86_const as X

from symabi.casefile import CalleeSpec, EntryConvention
from symabi.loader import Image
from symabi.replay.constants import (
    ARITH_FLAGS_MASK,
    CALLER_FRAME,
    DF_BIT,
    GPRS,
    HOME_AREA,
    RFLAGS_FIXED,
    STACK_RESERVE,
    XMMS,
)
from symabi.replay.inputs import ConcreteInputs, default_bytes

RETURNED, ABORTED, ESCAPED, ERROR, LOOP = "returned", "aborted", "escaped", "error", "loop"
DEFAULT_BUDGET = 100_000
PAGE = 0x1000
_REG = {r: getattr(X, f"UC_X86_REG_{r.upper()}") for r in GPRS + XMMS}
_NO_STOP = 0xFFFF_FFFF_FFFF_FFFF  # emu_start's "until": an address control never reaches
_FETCH_FAULTS = (unicorn.UC_ERR_FETCH_UNMAPPED, unicorn.UC_ERR_FETCH_PROT)


class ReplayError(Exception):
    """The inputs cannot be laid out (overlapping regions, a missing table symbol): nothing ran."""


@dataclass(frozen=True)
class Region:
    """A fixed memory region: a world structure (TEB, m, g, ...) or any other memory the case declares.

    ``data`` is its initial contents (shorter data is padded with the default pattern; None: all
    default); ``init`` overlays words at absolute addresses (the world's pointer fields).
    """

    name: str
    start: int
    size: int
    writable: bool = True
    data: bytes | None = None
    init: Mapping[int, bytes] = field(default_factory=dict)
    free_below: int = 0  # another stack (g0's): offsets at or above this hold live frames

    def contains(self, address: int, size: int) -> bool:
        return self.start <= address and address + size <= self.start + self.size


@dataclass(frozen=True)
class ConcreteCall:
    """One call into Go: where, with which DF, and the argument words it received."""

    callee: str
    ordinal: int  # 1 for the first call to this callee in the run, ...
    site: int | None  # the CALL (or JMP) instruction
    df_set: bool  # DF when control entered the callee
    rsp: int  # RSP on entry to the callee (pointing at its return address)
    args: tuple[int, ...]  # argument words at RSP+8, RSP+16, ...
    registers: dict[str, int] = field(default_factory=dict)  # every GPR and XMM register at the call


@dataclass(frozen=True)
class ConcreteWrite:
    """One store: by the code (``by="code"``) or by a callee as the model lets it (``by=<callee>``)."""

    address: int
    size: int
    region: str  # "stack", "code", a data symbol or a world region
    offset: int  # from the region's base: the entry RSP for "stack", the region start otherwise
    site: int | None  # the storing instruction (for a callee: its CALL)
    by: str = "code"


@dataclass(frozen=True)
class ConcreteRun:
    kind: str  # returned | aborted | escaped | error | loop
    reason: str
    entry: int  # address of the first instruction
    inputs: ConcreteInputs
    caller_return: int
    entry_regs: dict[str, int]  # the host's view at its CALL: rsp is the host's entry RSP
    entry_rflags: int
    exit_regs: dict[str, int]  # at the end of the run (GPRs, xmm0-15 as 128-bit ints)
    exit_rflags: int  # full RFLAGS at the end, DF included
    target: int | None  # where control went last: the caller's return address, an escape target, a callee
    site: int | None  # the last instruction of the code that executed (the RET, the JMP, the trap, ...)
    calls: tuple[ConcreteCall, ...]
    writes: tuple[ConcreteWrite, ...]
    steps: int  # instructions executed
    trace: tuple[int, ...] = field(repr=False, default=())  # every executed instruction address, in order
    other_stacks: dict[str, int] = field(default_factory=dict)  # region -> free_below, as the contract sees it

    @property
    def entry_rsp(self) -> int:
        return self.entry_regs["rsp"]

    @property
    def exit_rsp(self) -> int:
        return self.exit_regs["rsp"]

    @property
    def df_at_exit(self) -> bool:
        return bool(self.exit_rflags & DF_BIT)


def _page_down(a: int) -> int:
    return a & ~(PAGE - 1)


def _page_up(a: int) -> int:
    return (a + PAGE - 1) & ~(PAGE - 1)


class _Machine:
    def __init__(self, image: Image, entry: int, inputs: ConcreteInputs, callees: Mapping[str, CalleeSpec],
                 regions: Sequence[Region], gs_base: int | None, convention: EntryConvention, budget: int,
                 fs_base: int | None = None):
        self.image, self.entry, self.inputs, self.callees = image, entry, inputs, callees
        self.gs_base, self.convention, self.budget = gs_base, convention, budget
        self.fs_base = fs_base  # the thread pointer on an ELF port (symabi.ports: TLS through FS)
        self.rsp0 = inputs.rsp
        window = 8 + HOME_AREA + convention.stack_args + CALLER_FRAME
        self.stack = Region("stack", self.rsp0 - STACK_RESERVE, STACK_RESERVE + window, True)
        data = [
            Region(name, image.symbols[name], image.sizes[name], kind != "SRODATA")
            for name, kind in image.kinds.items() if kind != "STEXT" and image.sizes.get(name)
        ]
        code = Region("code", image.base, len(image.code), False)
        # Looked up in this order: data symbols sit inside the code mapping and win over it.
        self.regions: tuple[Region, ...] = (self.stack, *data, code, *regions)
        self.world = tuple(regions)
        self.steps = 0
        self.trace: list[int] = []
        self.last: int | None = None  # the last code instruction executed
        self.calls: list[ConcreteCall] = []
        self.writes: list[ConcreteWrite] = []
        self.stop: tuple[str, str] | None = None  # (kind, reason) set by a hook
        self.left: int | None = None  # an address outside the code that a hook saw control reach
        self._write_step = -1
        self.uc = unicorn.Uc(unicorn.UC_ARCH_X86, unicorn.UC_MODE_64)
        self._map()
        self._set_registers()
        self._hook()

    # ---- set-up -------------------------------------------------------------------------------

    def _map(self) -> None:
        spans = [(_page_down(self.image.base), _page_up(self.image.end), "code")]
        spans.append((_page_down(self.stack.start), _page_up(self.stack.start + self.stack.size), "stack"))
        spans += [(_page_down(r.start), _page_up(r.start + r.size), r.name) for r in self.world]
        spans.sort()
        for (a0, a1, n0), (b0, _, n1) in pairwise(spans):
            if b0 < a1:
                raise ReplayError(f"region {n1} ({b0:#x}) overlaps region {n0} ({a0:#x}-{a1:#x}) at page granularity")
        for lo, hi, _ in spans:
            self.uc.mem_map(lo, hi - lo, unicorn.UC_PROT_ALL)
        for lo, hi, name in spans:
            # a world data symbol (runtime.tls_g) lives at its own stub address: that stub is data, not a callee
            if self.image.caller_return in range(lo, hi) or any(
                    s in range(lo, hi) and callee != name for s, callee in self.image.stubs.items()):
                raise ReplayError(f"region {name} ({lo:#x}-{hi:#x}) covers the caller's return address or a callee stub")
        seed = self.inputs.seed
        self.uc.mem_write(self.image.base, self.image.code)
        self.uc.mem_write(self.stack.start, default_bytes(seed, "stack", self.stack.size))
        for r in self.world:
            contents = (r.data or b"")[: r.size]
            contents += default_bytes(seed, f"region:{r.name}", r.size)[len(contents):]
            self.uc.mem_write(r.start, contents)
            for address, word in r.init.items():
                self._lay(address, word, f"initial value of region {r.name}")
        for address, word in self.inputs.memory.items():
            self._lay(address, word, "initial memory")
        for (name, offset), word in self.inputs.named.items():
            region = next((r for r in self.regions if r.name == name and r is not self.stack), None)
            if region is None:
                raise ReplayError(f"initial memory names region {name!r}, which this replay does not have")
            self._lay(region.start + offset, word, f"initial memory of {name}")
        for offset, word in self.inputs.stack.items():
            self._lay(self.rsp0 + offset, word, "initial stack memory")
        self._lay(self.rsp0, self.image.caller_return.to_bytes(8, "little"), "the caller's return address")

    def _lay(self, address: int, data: bytes, what: str) -> None:
        if self._region(address, len(data)) is None:
            raise ReplayError(f"{what} at {address:#x} ({len(data)} bytes) is outside every region")
        self.uc.mem_write(address, data)

    def _start_rsp(self) -> int:
        conv = self.convention
        if conv.name != "callbackasm-table":
            return self.rsp0
        table = self.image.symbols.get(conv.table) if conv.table else None
        if table is None and conv.table:
            table = self.image.stub_for(conv.table)
        if table is None or not conv.stride or not conv.table_entries:
            raise ReplayError(f"entry convention {conv.name} needs a table the code references, a stride and a size")
        index = self.inputs.callback_index
        if index is None:
            index = 0
        pushed = (table + conv.stride * (index + 1)) & (2**64 - 1)
        self._lay(self.rsp0 - 8, pushed.to_bytes(8, "little"), "the table entry's return address")
        return self.rsp0 - 8

    def _set_registers(self) -> None:
        for reg in GPRS + XMMS:
            self.uc.reg_write(_REG[reg], self.inputs.regs[reg])
        self.uc.reg_write(X.UC_X86_REG_RSP, self._start_rsp())
        self.uc.reg_write(X.UC_X86_REG_RFLAGS, RFLAGS_FIXED | (self.inputs.rflags & ARITH_FLAGS_MASK))
        if self.gs_base is not None:
            self.uc.reg_write(X.UC_X86_REG_GS_BASE, self.gs_base)
        if self.fs_base is not None:
            self.uc.reg_write(X.UC_X86_REG_FS_BASE, self.fs_base)

    def _hook(self) -> None:
        uc = self.uc
        uc.hook_add(unicorn.UC_HOOK_CODE, self._on_code)
        uc.hook_add(unicorn.UC_HOOK_MEM_READ | unicorn.UC_HOOK_MEM_WRITE, self._on_access)
        uc.hook_add(unicorn.UC_HOOK_MEM_READ_UNMAPPED | unicorn.UC_HOOK_MEM_WRITE_UNMAPPED
                    | unicorn.UC_HOOK_MEM_READ_PROT | unicorn.UC_HOOK_MEM_WRITE_PROT, self._on_fault)
        uc.hook_add(unicorn.UC_HOOK_INTR, self._on_interrupt)
        for insn in (X.UC_X86_INS_SYSCALL, X.UC_X86_INS_SYSENTER):  # unicorn would skip them silently
            uc.hook_add(unicorn.UC_HOOK_INSN, self._on_system_call, aux1=insn)

    # ---- hooks --------------------------------------------------------------------------------

    def _end(self, kind: str, reason: str) -> None:
        if self.stop is None:
            self.stop = (kind, reason)
        self.uc.emu_stop()

    def _on_code(self, uc, address, size, _):
        if not self.image.in_code(address):
            self.left = address  # mapped but not code (page padding after the image): an escape
            uc.emu_stop()
            return
        if self.steps >= self.budget:
            self._end(LOOP, f"instruction budget ({self.budget}) exhausted: a loop the run does not leave")
            return
        self.steps += 1
        self.last = address
        self.trace.append(address)

    def _region(self, address: int, size: int) -> Region | None:
        return next((r for r in self.regions if r.contains(address, size)), None)

    def _check(self, kind: str, address: int, size: int, *, write: bool, who: str = "") -> Region | None:
        region = self._region(address, size)
        where = f" in the call to {who}" if who else ""
        if region is None:
            self._end(ERROR, f"{kind} of {size} bytes at {address:#x}{where}: no declared region holds this address")
        elif write and not region.writable:
            self._end(ERROR, f"{kind} of {size} bytes at {address:#x}{where}: region {region.name} is read-only")
            return None
        return region

    def _on_access(self, uc, access, address, size, value, _):
        write = access == unicorn.UC_MEM_WRITE
        region = self._check("write" if write else "read", address, size, write=write)
        if write and region is not None:
            self._record(address, size, region, self.last, "code")

    def _on_fault(self, uc, access, address, size, value, _):
        write = access in (unicorn.UC_MEM_WRITE_UNMAPPED, unicorn.UC_MEM_WRITE_PROT)
        self._check("write" if write else "read", address, size, write=write)
        return False

    def _on_interrupt(self, uc, number, _):
        if number == 3:
            self._end(ABORTED, "a trap (INT $3) ends the run")
        else:
            self._end(ERROR, f"interrupt {number:#x} at {self.last:#x}" if self.last is not None
                      else f"interrupt {number:#x}")

    def _on_system_call(self, uc, _):
        self._end(ERROR, f"system call at {self.last:#x}: the run does not model the kernel")

    def _record(self, address: int, size: int, region: Region, site: int | None, by: str) -> None:
        base = self.rsp0 if region is self.stack else region.start
        prev = self.writes[-1] if self.writes else None
        # unicorn splits a 16-byte store (MOVUPS) into two 8-byte ones: one instruction, one write.
        if (by == "code" and prev is not None and prev.by == "code" and self._write_step == self.steps
                and prev.region == region.name and address == prev.address + prev.size):
            self.writes[-1] = ConcreteWrite(prev.address, prev.size + size, prev.region, prev.offset, prev.site, by)
            return
        self._write_step = self.steps if by == "code" else -1
        self.writes.append(ConcreteWrite(address, size, region.name, address - base, site, by))

    # ---- the callee model ---------------------------------------------------------------------

    def _read_word(self, address: int, who: str) -> int | None:
        if self._check("read", address, 8, write=False, who=who) is None:
            return None
        return int.from_bytes(self.uc.mem_read(address, 8), "little")

    def _write(self, address: int, value: int, size: int, who: str, site: int | None) -> bool:
        region = self._check("write", address, size, write=True, who=who)
        if region is None:
            return False
        self.uc.mem_write(address, (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little"))
        self._record(address, size, region, site, who)
        return True

    def _call(self, name: str) -> int | None:
        """Emulate one call into Go; the address to continue at, or None when the run ends here."""
        uc, site = self.uc, self.last
        spec = self.callees.get(name)
        if spec is None:
            self._end(ERROR, f"call to {name}, which the case does not declare")
            return None
        ordinal = 1 + sum(1 for c in self.calls if c.callee == name)
        sp = uc.reg_read(X.UC_X86_REG_RSP)
        df = bool(uc.reg_read(X.UC_X86_REG_RFLAGS) & DF_BIT)
        args = []
        for off in range(0, spec.args, 8):
            word = self._read_word(sp + 8 + off, name)
            if word is None:
                return None
            args.append(word)
        registers = {r: uc.reg_read(_REG[r]) for r in GPRS + XMMS}
        self.calls.append(ConcreteCall(name, ordinal, site, df, sp, tuple(args), registers))
        if spec.noreturn:
            self._end(ABORTED, f"{name} does not return")
            return None
        targets = []  # the pointers as the callee received them, before its frame words change
        for w in spec.writes:
            pointer = self._read_word(sp + 8 + w.pointer_at, name)
            if pointer is None:
                return None
            targets.append((w, pointer))
        value = self.inputs.callee_value
        for reg in GPRS:
            if reg != "rsp":
                uc.reg_write(_REG[reg], value(name, ordinal, reg, 64))
        for reg in XMMS:
            uc.reg_write(_REG[reg], value(name, ordinal, reg, 128))
        flags = uc.reg_read(X.UC_X86_REG_RFLAGS) & ~(ARITH_FLAGS_MASK | DF_BIT)
        uc.reg_write(X.UC_X86_REG_RFLAGS, flags | (value(name, ordinal, "rflags", 64) & ARITH_FLAGS_MASK))
        frame = spec.args + spec.results
        for off in range(0, frame, 8):
            size = min(8, frame - off)
            if not self._write(sp + 8 + off, value(name, ordinal, f"frame+{off:#x}", size * 8), size, name, site):
                return None
        for w, pointer in targets:
            word = value(name, ordinal, f"*frame+{w.pointer_at:#x}+{w.offset:#x}", w.size * 8)
            if not self._write((pointer + w.offset) & (2**64 - 1), word, w.size, name, site):
                return None
        ret = self._read_word(sp, name)
        if ret is None:
            return None
        uc.reg_write(X.UC_X86_REG_RSP, sp + 8)
        uc.reg_write(X.UC_X86_REG_RIP, ret)
        return ret

    # ---- the run ------------------------------------------------------------------------------

    def run(self) -> ConcreteRun:
        entry_regs = {r: self.inputs.regs[r] for r in GPRS + XMMS}
        entry_rflags = RFLAGS_FIXED | (self.inputs.rflags & ARITH_FLAGS_MASK)
        pc, kind, reason, target = self.entry, None, "", None
        while kind is None:
            if pc == self.image.caller_return:
                kind, target = RETURNED, pc
            elif pc in self.image.stubs:
                next_pc = self._call(self.image.stubs[pc])
                if next_pc is None:
                    kind, reason = self.stop
                    target = pc
                else:
                    pc = next_pc
            elif not self.image.in_code(pc):
                kind, target, reason = ESCAPED, pc, f"control reached {pc:#x}, which is not code"
            else:
                pc, kind, reason = self._execute(pc)
        return ConcreteRun(
            kind=kind, reason=reason, entry=self.entry, inputs=self.inputs, caller_return=self.image.caller_return,
            entry_regs=entry_regs, entry_rflags=entry_rflags,
            exit_regs={r: self.uc.reg_read(_REG[r]) for r in GPRS + XMMS},
            exit_rflags=self.uc.reg_read(X.UC_X86_REG_RFLAGS), target=target, site=self.last,
            calls=tuple(self.calls), writes=tuple(self.writes), steps=self.steps, trace=tuple(self.trace),
            other_stacks={r.name: r.free_below for r in self.world if r.free_below},
        )

    def _execute(self, pc: int) -> tuple[int, str | None, str]:
        """Run the code from ``pc`` until control leaves it; (next pc, end kind or None, reason)."""
        self.left = None
        try:
            self.uc.emu_start(pc, _NO_STOP)
        except unicorn.UcError as exc:
            if self.stop is not None:
                return pc, *self.stop
            if exc.errno in _FETCH_FAULTS:
                return self.uc.reg_read(X.UC_X86_REG_RIP), None, ""  # control left the code: classify it
            rip = self.uc.reg_read(X.UC_X86_REG_RIP)
            if exc.errno == unicorn.UC_ERR_INSN_INVALID:
                return pc, ERROR, f"instruction at {rip:#x} cannot be decoded"
            return pc, ERROR, f"unicorn stopped at {rip:#x}: {exc}"
        if self.stop is not None:
            return pc, *self.stop
        if self.left is not None:
            return self.left, None, ""
        return pc, ERROR, f"emulation stopped at {self.uc.reg_read(X.UC_X86_REG_RIP):#x} for no reason the run knows"


def replay(
    image: Image,
    entry: int,
    inputs: ConcreteInputs,
    callees: Mapping[str, CalleeSpec],
    *,
    regions: Iterable[Region | tuple[int, int, bytes]] = (),
    gs_base: int | None = None,
    convention: EntryConvention | None = None,
    budget: int = DEFAULT_BUDGET,
    fs_base: int | None = None,
) -> ConcreteRun:
    """Run ``image`` from ``entry`` on ``inputs`` until it returns, aborts, escapes, faults or loops.

    ``regions`` are extra fixed regions (a ``Region`` or a ``(start, size, initial bytes)`` tuple, which
    is writable); ``gs_base`` is where GS points; ``convention`` is the case's entry convention (its
    ``stack_args`` widen the caller's window; ``callbackasm-table`` starts one CALL deeper).
    Raises ``ReplayError`` when the memory map cannot be laid out; everything else is in the run.
    """
    normalized = [
        r if isinstance(r, Region) else Region(f"region@{r[0]:#x}", r[0], r[1], True, bytes(r[2]))
        for r in regions
    ]
    machine = _Machine(image, entry, inputs, callees, normalized, gs_base, convention or EntryConvention(), budget,
                       fs_base)
    return machine.run()
