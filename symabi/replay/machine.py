"""Run a laid-out trampoline concretely on unicorn: an oracle that shares none of the model's choices.

The memory map, built afresh for each run:

    code      the image at CODE_BASE (read-only, except its data symbols that are not SRODATA)
    stack     entry RSP - STACK_RESERVE up to the top of the model's caller window, page-rounded, the host's return address at [entry RSP]
    world     the case's regions at bases the witness names or the run draws (``symabi.replay.world``),
              plus any fixed regions the caller passes

Nothing else is mapped: an access outside every region is a page fault, as on the real machine once
the padding of a page is not ours. Stub addresses are not mapped either: control reaching one is a call
into Go, emulated adversarially (``symabi.replay.callee``).

What the hardware does and unicorn would not, the machine adds: RFLAGS at entry as user mode has it
(IF and bit 1 set, DF and TF clear, AC/ID and the arithmetic flags from the inputs); CPUID answers from
the inputs, not from unicorn's fixed CPU; #GP on a misaligned 16-byte SSE operand; #DB after POPFQ sets
TF; memory below the current RSP is volatile (Windows may overwrite it at any time), so a read there
sees a fresh value.

A run ends in one of:

    returned  control reached the host's return address
    aborted   a deliberate end: INT $3, a callee declared noreturn, a fault at a declared crash site
    faulted   any other fault: #DE, #DB, #GP, #PF (unmapped or null page, a write to read-only memory), #UD
    escaped   control reached an address that is neither code, a callee stub, nor the return address
    error     an undeclared callee, a system call, something the run does not model
    loop      the instruction budget ran out
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import unicorn
import unicorn.x86_const as X

from symabi.casefile import CalleeSpec, EntryConvention
from symabi.loader import STUB_SLOT, Image
from symabi.obligations.stack_writes import caller_frame
from symabi.ports.arch import AMD64, Architecture
from symabi.replay import callee as _callee
from symabi.replay.constants import (
    ARITH_FLAGS_MASK,
    CALLER_FRAME,
    DF_BIT,
    GPRS,
    HOME_AREA,
    STACK_RESERVE,
    XMMS,
)
from symabi.replay.faults import INTERRUPTS, POPF, alignment_check
from symabi.replay.inputs import ConcreteInputs, default_bytes
from symabi.replay.world import PAGE, LayoutError, PlacedWorld, WorldPlan, lay_out_world

RETURNED, ABORTED, FAULTED, ESCAPED, ERROR, LOOP = "returned", "aborted", "faulted", "escaped", "error", "loop"
DEFAULT_BUDGET = 100_000
IF_BIT, FIXED_BIT, TF_BIT, AC_BIT, ID_BIT = 1 << 9, 1 << 1, 1 << 8, 1 << 18, 1 << 21
_REG = {r: getattr(X, f"UC_X86_REG_{r.upper()}") for r in GPRS + XMMS}
_NO_STOP = 0xFFFF_FFFF_FFFF_FFFF  # emu_start's "until": an address control never reaches
_FETCH_FAULTS = (unicorn.UC_ERR_FETCH_UNMAPPED, unicorn.UC_ERR_FETCH_PROT)


class ReplayError(Exception):
    """The inputs cannot be laid out (overlapping regions, a missing table symbol): nothing ran."""


@dataclass(frozen=True)
class Region:
    """A memory region at a known address: a world structure (TEB, m, g, ...), a data symbol, the stack.

    ``data`` is its initial contents (shorter data is padded with the run's random bytes; None: all
    random); ``init`` overlays words at absolute addresses (the world's pointer fields).
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
    frame: int = 0  # bytes of its own frame the callee filled below its RSP
    abi_internal: bool = False  # the callee is ABIInternal Go (an oracle that knows: ConcreteRun.knows_abi_internal)
    g: int | None = None  # the current g at the call, as the thread's TLS slot holds it (ABIInternal calls)
    x87_in_use: int | None = None  # how many x87 registers hold a value at the call (None: an oracle without x87)


UNMAPPED = "unmapped"  # the region of a faulting store no region holds


@dataclass(frozen=True)
class ConcreteWrite:
    """One store: by the code (``by="code"``) or by a callee (``by=<callee>``).

    ``kind``: "store" (an instruction), "frame" (a callee's own frame and its argument/result words),
    "through" (a callee writing through a pointer argument), "declared" (one of the words the case says it
    writes through one), "attempt" (an instruction's store that
    faulted: read-only or unmapped memory, region ``UNMAPPED`` when no region holds it).
    """

    address: int
    size: int
    region: str  # "stack", "code", a data symbol or a world region
    offset: int  # from the region's base: the entry RSP for "stack", the region start otherwise
    site: int | None  # the storing instruction (for a callee: its CALL)
    by: str = "code"
    kind: str = "store"


@dataclass(frozen=True)
class ConcreteRun:
    kind: str  # returned | aborted | faulted | escaped | error | loop
    reason: str
    entry: int  # address of the first instruction
    inputs: ConcreteInputs
    caller_return: int  # the host's return address in this run
    entry_regs: dict[str, int]  # the host's view at its CALL: rsp is the host's entry RSP
    entry_rflags: int
    exit_regs: dict[str, int]  # at the end of the run (GPRs, xmm0-15 as 128-bit ints)
    exit_rflags: int  # full RFLAGS at the end, DF included
    target: int | None  # where control went last: the return address, an escape target, a callee
    site: int | None  # the last instruction of the code that executed (the RET, the JMP, the faulting one, ...)
    calls: tuple[ConcreteCall, ...]
    writes: tuple[ConcreteWrite, ...]
    steps: int  # instructions executed
    trace: tuple[int, ...] = field(repr=False, default=())  # every executed instruction address, in order
    other_stacks: dict[str, int] = field(default_factory=dict)  # region -> free_below, as the contract sees it
    caller_frame: int = 8 + HOME_AREA  # offset from the entry RSP where the caller's own frame begins
    world: Mapping[str, int] = field(default_factory=dict)  # region -> the base this run gave it
    stack_args: int = 0  # bytes of the caller's stack arguments (a Go caller's argument and result words)
    convention: str = ""  # the entry convention's name
    callee_model: str = ""  # "host-<abi>" when the callees are host code
    # whether the oracle knows which calls are ABIInternal and the current g at each (arm64's does; this
    # machine does not, so the obligations at ABIInternal calls are not replayed on its runs)
    knows_abi_internal: bool = False
    arch: Architecture = AMD64  # whose registers entry_regs and exit_regs name (symabi.replay.arm64's: ARM64)
    exit_x87_in_use: int | None = None  # how many x87 registers hold a value at the end (None: no x87)

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


def _spans(regions: Iterable[Region]) -> list[tuple[int, int]]:
    """The pages the regions need, merged where they touch."""
    out: list[list[int]] = []
    for lo, hi in sorted((_page_down(r.start), _page_up(r.start + r.size)) for r in regions):
        if out and lo <= out[-1][1]:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return [(lo, hi) for lo, hi in out]


class _Machine:
    def __init__(self, image: Image, entry: int, inputs: ConcreteInputs, callees: Mapping[str, CalleeSpec],
                 fixed: Sequence[Region], gs_base: int | None, convention: EntryConvention, budget: int,
                 plan: WorldPlan | None, crash_sites: frozenset[int], callee_model: str = "",
                 frame: int | None = None):
        self.image, self.entry, self.inputs, self.callees = image, entry, inputs, callees
        self.callee_model = callee_model  # "host-<abi>": callees are host code (symabi.replay.callee)
        self.convention, self.budget, self.crash_sites = convention, budget, crash_sites
        self.rsp0 = inputs.rsp
        # where the caller's own frame begins: the entry convention's (symabi.obligations.stack_writes), by
        # default a Windows x64 caller's
        self.caller_frame = caller_frame(8, HOME_AREA, convention.stack_args) if frame is None else frame
        self.window_top = self.rsp0 + self.caller_frame + CALLER_FRAME
        # The caller's side is mapped as far as the model's window goes (page-rounded): reality does not
        # promise more stack above the entry RSP, and the host's code may lie beyond it.
        above = _page_up(self.window_top) - self.rsp0
        self.stack = Region("stack", self.rsp0 - STACK_RESERVE, STACK_RESERVE + above, True)
        data = [
            Region(name, image.symbols[name], image.sizes[name], kind != "SRODATA")
            for name, kind in image.kinds.items() if kind != "STEXT" and image.sizes.get(name)
        ]
        code = Region("code", image.base, len(image.code), False)
        self.host = self._host_pages((self.stack, code, *data, *fixed))
        self.placed = self._place(plan or WorldPlan(), fixed)
        self.world = tuple(fixed) + self._world_regions(plan or WorldPlan())
        # Looked up in this order: data symbols sit inside the code mapping and win over it.
        self.regions: tuple[Region, ...] = (self.stack, *data, code, *self.world, *self.host)
        self.gs_base = gs_base if gs_base is not None else self.placed.gs_base
        self.fs_base = self.placed.fs_base  # the thread pointer on an ELF port (symabi.ports: TLS through FS)
        self.caller_return = self.placed.return_address
        self.entry_regs = {**{r: inputs.regs[r] for r in GPRS + XMMS}, **self.placed.registers}
        self.entry_rflags = (FIXED_BIT | IF_BIT | (inputs.rflags & ARITH_FLAGS_MASK)
                             | AC_BIT * inputs.entry_bit("ac") | ID_BIT * inputs.entry_bit("id"))
        self.steps = 0
        self.trace: list[int] = []
        self.last: int | None = None  # the last code instruction started
        self.sp_at_step = self.rsp0  # RSP when the current instruction started
        self.calls: list[ConcreteCall] = []
        self.writes: list[ConcreteWrite] = []
        self.stop: tuple[str, str] | None = None  # (kind, reason) set by a hook
        self.stop_site: int | None = None  # the instruction a fault is charged to, when not the last one
        self.left: int | None = None  # an address outside the code that a hook saw control reach
        self.cpuids = 0
        self.volatile_reads = 0
        self._volatile_step = -1
        self._write_step = -1
        self.decoder = alignment_check(image.code, image.base)
        self.uc = unicorn.Uc(unicorn.UC_ARCH_X86, unicorn.UC_MODE_64)
        self._map()
        self._set_registers()
        self._hook()

    # ---- set-up -------------------------------------------------------------------------------

    def _reserved(self, fixed: Sequence[Region]) -> list[tuple[int, int]]:
        """Pages the world must keep clear of: code, the stubs, the stack, fixed regions."""
        spans = [(_page_down(self.image.base), _page_up(self.image.end)),
                 (_page_down(self.stack.start), _page_up(self.stack.start + self.stack.size))]
        spans += [(_page_down(s), _page_up(s + STUB_SLOT)) for s in self.image.stubs]
        spans += [(_page_down(r.start), _page_up(r.start + r.size)) for r in (*fixed, *self.host)]
        return spans

    def _place(self, plan: WorldPlan, fixed: Sequence[Region]) -> PlacedWorld:
        try:
            return lay_out_world(plan, self.inputs, self._reserved(fixed))
        except LayoutError as exc:
            raise ReplayError(str(exc)) from None

    def _world_regions(self, plan: WorldPlan) -> tuple[Region, ...]:
        bases, words = self.placed.bases, self.placed.words
        spans = [(r.name, bases[r.name], r.size, r.writable, r.free_below) for r in plan.regions
                 if r.name != plan.running_on]
        spans += [(symbol, address, size, False, 0) for symbol, address, size in plan.data]
        out = []
        for name, start, size, writable, free_below in spans:
            init = {a: w for a, w in words.items() if start <= a and a + len(w) <= start + size}
            out.append(Region(name, start, size, writable, init=init, free_below=free_below))
        return tuple(out)

    def _host_pages(self, taken: Sequence[Region]) -> tuple[Region, ...]:
        """Read-only pages for the witness's memory at absolute addresses no region holds: what the host's
        pointers reach (see ``host_reads``), as the model assumed it readable."""
        pages = sorted({_page_down(a) for a, data in self.inputs.memory.items()
                        if not any(r.contains(a, len(data)) for r in taken)})
        # adjacent pages are one region, so a read that crosses a page boundary falls in one region
        runs: list[list[int]] = []
        for p in pages:
            if runs and runs[-1][1] == p:
                runs[-1][1] = p + PAGE
            else:
                runs.append([p, p + PAGE])
        return tuple(Region(f"host@{lo:#x}", lo, hi - lo, False) for lo, hi in runs)

    def _map(self) -> None:
        ordered = sorted(self.world + self.host + (self.stack,), key=lambda r: r.start)
        for a, b in pairwise(ordered):
            if b.start < a.start + a.size:
                raise ReplayError(f"region {b.name} ({b.start:#x}) overlaps region {a.name} ({a.start:#x})")
        code = Region("code", _page_down(self.image.base), _page_up(self.image.end) - _page_down(self.image.base))
        for lo, hi in _spans((code, self.stack, *self.world, *self.host)):
            self.uc.mem_map(lo, hi - lo, unicorn.UC_PROT_ALL)
            world_data = {r.name for r in self.world}
            if self.caller_return in range(lo, hi) or any(
                    s in range(lo, hi) and name not in world_data for s, name in self.image.stubs.items()):
                raise ReplayError(f"memory {lo:#x}-{hi:#x} covers the caller's return address or a callee stub")
        seed = self.inputs.seed
        self.uc.mem_write(self.image.base, self.image.code)
        self.uc.mem_write(self.stack.start, default_bytes(seed, "stack", self.stack.size))
        for r in self.world:
            contents = (r.data or b"")[: r.size]
            contents += default_bytes(seed, f"region:{r.name}", r.size)[len(contents):]
            self.uc.mem_write(r.start, contents)
            for address, word in r.init.items():
                self._lay(address, word, f"initial value of region {r.name}")
        self._lay_inputs()

    def _lay_inputs(self) -> None:
        for address, word in self.inputs.memory.items():
            self._lay(address, word, "initial memory")
        for (name, offset), word in self.inputs.named.items():
            region = next((r for r in self.regions if r.name == name and r is not self.stack), None)
            if region is None:
                raise ReplayError(f"initial memory names region {name!r}, which this replay does not have")
            self._lay(region.start + offset, word, f"initial memory of {name}")
        for offset, word in self.inputs.stack.items():
            self._lay(self.rsp0 + offset, word, "initial stack memory")
        self._lay(self.rsp0, self.caller_return.to_bytes(8, "little"), "the caller's return address")

    def _lay(self, address: int, data: bytes, what: str) -> None:
        if self.region(address, len(data)) is None:
            raise ReplayError(f"{what} at {address:#x} ({len(data)} bytes) is outside every region")
        self.uc.mem_write(address, data)

    def _start_rsp(self) -> int:
        conv = self.convention
        if not conv.name.endswith("callbackasm-table"):  # callbackasm-table, sysv-callbackasm-table
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
            self.uc.reg_write(_REG[reg], self.entry_regs[reg])
        self.sp_at_step = self._start_rsp()
        self.uc.reg_write(X.UC_X86_REG_RSP, self.sp_at_step)
        self.uc.reg_write(X.UC_X86_REG_RFLAGS, self.entry_rflags)
        # the x87 stack empty, as at every call (unicorn starts with all eight tags "valid", as in MMX mode)
        self.uc.reg_write(X.UC_X86_REG_FPTAG, _callee.X87_EMPTY)
        if self.gs_base is not None:
            self.uc.reg_write(X.UC_X86_REG_GS_BASE, self.gs_base)
        if self.fs_base is not None:
            self.uc.reg_write(X.UC_X86_REG_FS_BASE, self.fs_base)

    def _hook(self) -> None:
        uc = self.uc
        uc.hook_add(unicorn.UC_HOOK_CODE, self._on_code)
        uc.hook_add(unicorn.UC_HOOK_MEM_READ | unicorn.UC_HOOK_MEM_WRITE, self._on_access)
        uc.hook_add(unicorn.UC_HOOK_MEM_READ_UNMAPPED | unicorn.UC_HOOK_MEM_WRITE_UNMAPPED
                    | unicorn.UC_HOOK_MEM_READ_PROT | unicorn.UC_HOOK_MEM_WRITE_PROT, self._on_unmapped)
        uc.hook_add(unicorn.UC_HOOK_INTR, self._on_interrupt)
        uc.hook_add(unicorn.UC_HOOK_INSN, self._on_cpuid, aux1=X.UC_X86_INS_CPUID)
        for insn in (X.UC_X86_INS_SYSCALL, X.UC_X86_INS_SYSENTER):  # unicorn would skip them silently
            uc.hook_add(unicorn.UC_HOOK_INSN, self._on_system_call, aux1=insn)

    # ---- hooks --------------------------------------------------------------------------------

    def _end(self, kind: str, reason: str) -> None:
        if self.stop is None:
            self.stop = (kind, reason)
        self.uc.emu_stop()

    def fault(self, reason: str, site: int | None = None) -> None:
        """A CPU exception at ``site`` (default: the instruction running): faulted, unless deliberate."""
        if self.stop is not None:
            return
        site = self.last if site is None else site
        self.stop_site = site
        if site in self.crash_sites:
            self._end(ABORTED, f"the declared crash at {site:#x}: {reason}")
        else:
            self._end(FAULTED, reason)

    def _on_code(self, uc, address, size, _):
        if not self.image.in_code(address):
            self.left = address  # mapped but not code (page padding after the image): an escape
            uc.emu_stop()
            return
        if self.steps >= self.budget:
            self._end(LOOP, f"instruction budget ({self.budget}) exhausted: a loop the run does not leave")
            return
        previous = self.decoder.decode(self.last) if self.last is not None else None
        if previous is not None and previous.mnemonic in POPF and uc.reg_read(X.UC_X86_REG_RFLAGS) & TF_BIT:
            self.fault(f"#DB: {previous.mnemonic.upper()} at {self.last:#x} set the trap flag", self.last)
            return
        self.steps += 1
        self.last = address
        self.trace.append(address)
        self.sp_at_step = uc.reg_read(X.UC_X86_REG_RSP)
        ea = self.decoder.misaligned(uc, address, fs_base=self.fs_base or 0, gs_base=self.gs_base or 0)
        if ea is not None:
            name = self.decoder.decode(address).mnemonic.upper()
            self.fault(f"#GP: {name} at {address:#x} needs a 16-byte aligned operand, not {ea:#x}")

    def region(self, address: int, size: int) -> Region | None:
        return next((r for r in self.regions if r.contains(address, size)), None)


    def check(self, kind: str, address: int, size: int, *, write: bool, who: str = "") -> Region | None:
        """The region an access falls in; a page fault (and None) when there is none or it is read-only."""
        region = self.region(address, size)
        where = f" in the call to {who}" if who else ""
        if write and self.stop is None and (region is None or not region.writable):
            self._attempt(address, size, who or "code")
        if region is None:
            null = " (the null page)" if address < 0x1_0000 else ""
            self.fault(f"#PF: {kind} of {size} bytes at {address:#x}{null}{where}: nothing is mapped there")
        elif write and not region.writable:
            self.fault(f"#PF: {kind} of {size} bytes at {address:#x}{where}: region {region.name} is read-only")
            return None
        return region

    def _on_access(self, uc, access, address, size, value, _):
        if self.stop is not None:
            return
        write = access == unicorn.UC_MEM_WRITE
        region = self.check("write" if write else "read", address, size, write=write)
        if region is None:
            return
        if write:
            self.record(address, size, region, self.last, "code", "store")
        elif address < self.sp_at_step:
            self._volatile(address, size, region)

    def _volatile(self, address: int, size: int, region: Region) -> None:
        """A read below RSP: the OS may have overwritten that memory, so it gets a fresh value."""
        sp = self.sp_at_step
        if not region.contains(sp - 1, 1):
            return  # below RSP, but not on the stack RSP is in
        if self._volatile_step != self.steps:
            self._volatile_step, self.volatile_reads = self.steps, self.volatile_reads + 1
        k = self.volatile_reads
        start = address - (address - self.rsp0) % 8
        for word in range(start, min(address + size, sp), 8):
            depth = self.rsp0 - word
            named = f"below-rsp#{k}.stack-{depth:#x}" if region is self.stack else f"below-rsp#{k}.{region.name}@{word:#x}"
            value = self.inputs.drawn(named, 64)
            if region is self.stack:
                value = self.inputs.below_rsp(k, depth, value)
            lo, hi = max(word, region.start), min(word + 8, sp)
            self.uc.mem_write(lo, value.to_bytes(8, "little")[lo - word: hi - word])

    def _on_unmapped(self, uc, access, address, size, value, _):
        write = access in (unicorn.UC_MEM_WRITE_UNMAPPED, unicorn.UC_MEM_WRITE_PROT)
        self.check("write" if write else "read", address, size, write=write)
        return False

    def _attempt(self, address: int, size: int, by: str) -> None:
        """A store that faults is still a store the code (or a callee, through a pointer the code gave it)
        made: above the entry RSP it is a write into the caller's frame (beyond what the run maps), elsewhere
        a write to memory nobody gave the code."""
        region = self.region(address, size)
        if region is not None:
            name, offset = region.name, address - (self.rsp0 if region is self.stack else region.start)
        elif self.rsp0 <= address < self.rsp0 + (1 << 32):
            name, offset = self.stack.name, address - self.rsp0
        else:
            name, offset = UNMAPPED, address
        self.writes.append(ConcreteWrite(address, size, name, offset, self.last, by, "attempt"))

    def _on_interrupt(self, uc, number, _):
        if number == 3:
            self._end(ABORTED, "a trap (INT $3) ends the run")
        elif number in INTERRUPTS:
            self.fault(f"{INTERRUPTS[number]} at {self.last:#x}" if self.last is not None else INTERRUPTS[number])
        else:
            self._end(ERROR, f"interrupt {number:#x} at {self.last:#x}" if self.last is not None
                      else f"interrupt {number:#x}")

    def _on_cpuid(self, uc, _):
        """Answer CPUID from the inputs (the n-th CPUID: cpuid#<n>.eax, ...), never from unicorn's CPU."""
        self.cpuids += 1
        for reg in ("eax", "ebx", "ecx", "edx"):
            uc.reg_write(_REG["r" + reg[1:]], self.inputs.cpuid(self.cpuids, reg))
        return 1  # skip unicorn's own CPUID

    def _on_system_call(self, uc, _):
        self._end(ERROR, f"system call at {self.last:#x}: the run does not model the kernel")

    def record(self, address: int, size: int, region: Region, site: int | None, by: str, kind: str) -> None:
        base = self.rsp0 if region is self.stack else region.start
        prev = self.writes[-1] if self.writes else None
        # unicorn splits a 16-byte store (MOVUPS) into two 8-byte ones: one instruction, one write.
        if (by == "code" and prev is not None and prev.by == "code" and self._write_step == self.steps
                and prev.region == region.name and address == prev.address + prev.size):
            self.writes[-1] = ConcreteWrite(prev.address, prev.size + size, prev.region, prev.offset, prev.site, by)
            return
        self._write_step = self.steps if by == "code" else -1
        self.writes.append(ConcreteWrite(address, size, region.name, address - base, site, by, kind))

    # ---- the run ------------------------------------------------------------------------------

    def run(self) -> ConcreteRun:
        pc, kind, reason, target = self.entry, None, "", None
        # callees the case declares by the input that holds them ([callees."entry.rcx"]): the function the
        # host passed lives at that register's entry value
        by_input = {self.entry_regs[name[len("entry."):]]: name for name in self.callees
                    if name.startswith("entry.") and name[len("entry."):] in self.entry_regs}
        # ... or a word as it was at entry on the stack (a Go ABI0 argument: entry.stack+0x8) or in a world
        # region (entry.info+0x0)
        by_input.update({int.from_bytes(self.uc.mem_read(address, 8), "little"): name
                         for name in self.callees if (address := self._input_word(name)) is not None})
        # and by the world region at whose address the function lives ([callees."world.fn"])
        by_input.update({self.placed.bases[name[len("world."):]]: name for name in self.callees
                         if name.startswith("world.") and name[len("world."):] in self.placed.bases})
        while kind is None:
            if pc == self.caller_return:
                kind, target = RETURNED, pc
            elif pc in self.image.stubs or pc in by_input:
                next_pc = _callee.call(self, self.image.stubs.get(pc) or by_input[pc])
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
            kind=kind, reason=reason, entry=self.entry, inputs=self.inputs, caller_return=self.caller_return,
            entry_regs=dict(self.entry_regs), entry_rflags=self.entry_rflags,
            exit_regs={r: self.uc.reg_read(_REG[r]) for r in GPRS + XMMS},
            exit_rflags=self.uc.reg_read(X.UC_X86_REG_RFLAGS), target=target,
            site=self.stop_site if self.stop_site is not None else self.last,
            calls=tuple(self.calls), writes=tuple(self.writes), steps=self.steps, trace=tuple(self.trace),
            other_stacks={r.name: r.free_below for r in self.world if r.free_below}, world=dict(self.placed.bases),
            caller_frame=self.caller_frame,
            stack_args=self.convention.stack_args, convention=self.convention.name, callee_model=self.callee_model,
            exit_x87_in_use=_callee.x87_in_use(self.uc),
        )

    def _input_word(self, name: str) -> int | None:
        """The address of the word a callee name ``entry.<region>+0x<offset>`` designates, if it is one (the
        region: the stack, a world region, or a data symbol the world gives no value: _cgo_mmap)."""
        region, plus, offset = name.removeprefix("entry.").partition("+0x")
        if not name.startswith("entry.") or not plus:
            return None
        base = self.rsp0 if region == "stack" else self.placed.bases.get(region)
        if base is None:
            base = next((r.start for r in self.world if r.name == region), None)
        return None if base is None else base + int(offset, 16)

    def _execute(self, pc: int) -> tuple[int, str | None, str]:
        """Run the code from ``pc`` until control leaves it; (next pc, end kind or None, reason)."""
        self.left = None
        try:
            self.uc.emu_start(pc, _NO_STOP)
        except unicorn.UcError as exc:
            if self.stop is not None:
                return pc, *self.stop
            rip = self.uc.reg_read(X.UC_X86_REG_RIP)
            if exc.errno in _FETCH_FAULTS:
                return rip, None, ""  # control left the code: classify it
            if exc.errno == unicorn.UC_ERR_INSN_INVALID:
                self.fault(f"#UD: the instruction at {rip:#x} cannot be decoded", rip)
                return pc, *self.stop
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
    world: WorldPlan | None = None,
    crash_sites: Iterable[int] = (),
    callee_model: str = "",
    caller_frame: int | None = None,
) -> ConcreteRun:
    """Run ``image`` from ``entry`` on ``inputs`` until it returns, aborts, faults, escapes or loops.

    ``world`` is the case's world to lay out for this run (random bases unless the inputs name them);
    ``regions`` are extra regions at fixed addresses (a ``Region`` or a ``(start, size, initial bytes)``
    tuple, which is writable); ``gs_base`` overrides where GS points; ``convention`` is the case's entry
    convention (its ``stack_args`` widen the caller's window; ``callbackasm-table`` starts one CALL
    deeper); ``caller_frame`` is where the caller's own frame begins above the entry RSP (the convention's,
    ``EntryConventionModel.caller_frame``; default a Windows x64 caller's); ``crash_sites`` are
    instructions whose fault is the intended end of the run.
    Raises ``ReplayError`` when the memory map cannot be laid out; everything else is in the run.
    """
    fixed = [
        r if isinstance(r, Region) else Region(f"region@{r[0]:#x}", r[0], r[1], True, bytes(r[2]))
        for r in regions
    ]
    machine = _Machine(image, entry, inputs, callees, fixed, gs_base, convention or EntryConvention(), budget,
                       world, frozenset(crash_sites), callee_model, caller_frame)
    return machine.run()
