"""The concrete oracle for arm64 code: unicorn in AArch64 mode runs a witness and judges it.

It shares no choice with the symbolic model but the input names (``symabi.replay.inputs``' scheme):

    entry.<reg>                  x0-x30, sp, v0-v31 (128 bits), nzcv, tpidrro_el0; x30 is the host's return
                                 address (a BL leaves it 4-byte aligned); drawn from the seed when unnamed
    <callee>#<n>.<reg|nzcv>      a register after the n-th call to <callee>
    <callee>#<n>.frame+0x<o>     its argument/result word at its entry SP + 8 + o
    <callee>#<n>.below-0x<d>     the word it leaves at its entry SP - d
    <callee>#<n>.*frame+0x<p>+0x<o>   the word it writes at *(frame+p) + o
    init.stack±0x<o>(.b)         the caller's initial stack bytes
    below-rsp#<k>.stack-0x<d>    the k-th read below the current SP (less the red zone) sees this word

The CPU is unicorn's (TPIDRRO_EL0 is a real system register there); the SP alignment check, which
unicorn does not make, is made here from capstone's decoding of each executed instruction. A Go callee
is adversarial as in ``symabi.replay.callee``: every X register but SP and X18 and every V register
gets a fresh value (R28 stays g, or is loaded from the TLS slot by a ``sets_g`` callee such as
runtime·load_g), a random-size frame below its SP - 8 gets random bytes (the word at SP - 8 holds
its caller's saved frame pointer, Go's arm64 frame layout), its frame words and what its
pointer arguments reach are overwritten; it returns to the X30 of the call. A host callee (one the
case's callee model says is host code: symabi check's crosscall2 or C function, every callee of
go-to-host's ``host-*`` model) is the port's host model (symabi.models.host_callee): the registers it
may change get fresh values, but the low halves of V8-V15 it keeps, and so does all of a random-size
frame below its SP, the word at SP - 8 included (C knows nothing of Go's layout).

The world (runtime regions, their fields, data symbols, registers bound to world values, where the
thread pointer points) is laid out by each run at random bases (``symabi.replay.world``'s helpers;
``world.<region>`` and ``init.<region>+0x<o>`` in a witness fix a base or a byte). A world entered on
another stack (``running_on``) is not laid out: such a setup reproduces nothing. At each call into an
ABIInternal callee the oracle reads the port's TLS g slot from memory and checks R28 against it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import capstone
from unicorn import UC_ARCH_ARM64, UC_ERR_FETCH_UNMAPPED, UC_HOOK_CODE, UC_HOOK_MEM_READ, UC_HOOK_MEM_WRITE, UC_MODE_ARM, Uc, \
    UcError
from unicorn import arm64_const as A

from symabi.loader import STUB_BASE, STUB_SLOT, Image
from symabi.models.entry import CALLER_FRAME, HIGHEST_STACK, LOWEST_STACK, STACK_RESERVE
from symabi.ports.arch import ARM64
from symabi.replay.confirm import CONFIRM_SEEDS, NOT_REPRODUCED, judge, replay_witnesses
from symabi.replay.inputs import DEFAULT_SEED, below_rsp_word, callee_name, default_bytes, default_value, rng_for
from symabi.replay.machine import ConcreteCall, ConcreteRun, ConcreteWrite, ReplayError
from symabi.replay.world import LayoutError, evaluate as world_value, random_base

PAGE = 0x1000
BUDGET = 200_000
MIN_FRAME, MAX_FRAME = 0x1000, 0x4000
_NOP = (0xD503201F).to_bytes(4, "little")
GPRS = tuple(f"x{i}" for i in range(31))
VECTORS = tuple(f"v{i}" for i in range(32))
_REG = {**{r: getattr(A, f"UC_ARM64_REG_{r.upper()}") for r in GPRS}, "sp": A.UC_ARM64_REG_SP,
        **{f"v{i}": getattr(A, f"UC_ARM64_REG_Q{i}") for i in range(32)}, "nzcv": A.UC_ARM64_REG_NZCV,
        "tpidrro_el0": A.UC_ARM64_REG_TPIDRRO_EL0, "tpidr_el0": A.UC_ARM64_REG_TPIDR_EL0}
_WIDTH = {**{r: 64 for r in (*GPRS, "sp", "tpidrro_el0", "tpidr_el0")}, **{v: 128 for v in VECTORS}, "nzcv": 32}
_ENTRY = re.compile(r"^entry\.(?P<reg>\w+)$")
_CALLEE = re.compile(r"^(?P<callee>.+)#(?P<n>\d+)\.(?P<what>.+)$")
_INIT = re.compile(r"^init\.(?P<region>[^+-]+)(?P<sign>[+-])0x(?P<off>[0-9a-f]+)(?P<byte>\.b)?$")
_WORLD = re.compile(r"^world\.(?P<region>[A-Za-z_][\w./]*)$")  # a base, not a callee output ("world.fn#1.x0")
_BELOW = re.compile(r"^below-rsp#(?P<k>\d+)\.stack-0x(?P<d>[0-9a-f]+)$")


@dataclass
class Inputs:
    """A witness's values by name; everything else drawn from ``seed``."""

    values: dict[str, int]
    stack: dict[int, bytes] = field(default_factory=dict)
    seed: str = DEFAULT_SEED
    named: dict[tuple[str, int], bytes] = field(default_factory=dict)  # (region, offset) -> initial bytes
    bases: dict[str, int] = field(default_factory=dict)  # world region -> base address
    ignored: tuple[str, ...] = ()  # witness inputs this oracle does not replay (none: it reads every name)

    @classmethod
    def from_witness(cls, inputs: dict, seed: str) -> Inputs:
        out = cls({}, seed=seed)
        for name, raw in inputs.items():
            value = int(raw, 0) if isinstance(raw, str) else int(raw)
            if m := _INIT.match(name):
                size = 1 if m["byte"] else 8
                offset = int(m["off"], 16) * (-1 if m["sign"] == "-" else 1)
                data = (value & ((1 << 8 * size) - 1)).to_bytes(size, "little")
                if m["region"] == "stack":
                    out.stack[offset] = data
                else:
                    out.named[(m["region"], offset)] = data
            elif m := _WORLD.match(name):
                out.bases[m["region"]] = value
            else:
                out.values[_canonical(name)] = value
        return out

    def get(self, name: str, bits: int) -> int:
        value = self.values.get(name)
        return (value if value is not None else default_value(self.seed, name, bits)) & ((1 << bits) - 1)

    def below(self, k: int, depth: int) -> int:
        """The word at entry SP - ``depth`` the k-th read below SP sees: the engine names each byte
        (``below-rsp#<k>.stack-0x<d>``, the byte at entry SP - d); the bytes a witness leaves open are drawn."""
        return below_rsp_word(self.get(f"below-rsp#{k}.stack-{depth:#x}", 64), k, depth, self.values)


def _canonical(name: str) -> str:
    """One spelling per callee input (``frame+0x010`` -> ``frame+0x10``), as the engine names them."""
    if (m := _CALLEE.match(name)) is None:
        return name
    what = re.sub(r"0x0*([0-9a-f]+)", lambda h: f"{int(h[1], 16):#x}", m["what"])
    return callee_name(m["callee"], int(m["n"]), what)


@dataclass
class Run:
    kind: str = ""  # "returned" | "faulted" | "escaped" | "aborted" | "error"
    reason: str = ""
    site: int | None = None  # the last instruction (the RET, the fault, the jump away)
    entry: dict[str, int] = field(default_factory=dict)
    exit: dict[str, int] = field(default_factory=dict)
    calls: list[tuple[str, int, dict[str, int]]] = field(default_factory=list)  # (callee, site, registers)
    stack_write: tuple[int, int, int] | None = None  # (offset from entry SP, size, instruction) of the first one


@dataclass(frozen=True)
class World:
    """One configuration of a case's world, before any address is chosen (values as text)."""

    regions: tuple = ()  # RegionPlan
    words: tuple = ()  # WordPlan: (region+offset or an address, value text, size)
    data: tuple = ()  # (symbol, address, size) of data symbols outside the file, at their stub address
    registers: tuple[tuple[str, str], ...] = ()  # entry registers bound to world values
    tls: str | None = None  # where the port's thread pointer points
    tls_segment: str = "tpidr_el0"
    g_slot: tuple[str, int | None, str | None] | None = None  # (segment, offset, indirect symbol) of the g slot
    abi_internal: bool = False  # the callees are ABIInternal: R28 is checked at each call


class Machine:
    def __init__(self, image: Image, entry: int, callees, red_zone: int, inputs: Inputs, budget: int = BUDGET,
                 world: World = World(), frame: int = 0, callee_model: str = ""):
        self.image, self.callees, self.red_zone, self.inputs, self.budget = image, callees, red_zone, inputs, budget
        # where the caller's own frame begins above the entry SP: the entry convention's
        # (symabi.obligations.stack_writes.caller_frame); the modelled window continues CALLER_FRAME above it
        self.caller_frame = frame
        self.callee_model = callee_model  # the case's (symabi.models): which callees are host code
        self.world = world
        self.entry_pc = entry
        self.uc = Uc(UC_ARCH_ARM64, UC_MODE_ARM)
        self.stubs = dict(image.stubs)
        self.run = Run()
        self.last: int | None = None
        self.volatile = 0
        self.md = capstone.Cs(capstone.CS_ARCH_ARM64, capstone.CS_MODE_ARM)
        self.md.detail = True
        self._sp_based: dict[int, bool] = {}
        self._lay_out()

    def _lay_out(self) -> None:
        uc, image = self.uc, self.image
        for low, high in self._code_pages():
            uc.mem_map(low, high - low)
        uc.mem_write(image.base, image.code)
        if self.stubs:
            for address in self.stubs:
                uc.mem_write(address, _NOP * 4)
        lowest, highest = (LOWEST_STACK + STACK_RESERVE) // 16, HIGHEST_STACK // 16
        self.sp0 = self.inputs.values.get("entry.sp")
        if self.sp0 is None:
            self.sp0 = (lowest + default_value(self.inputs.seed, "entry.sp", 64) % (highest - lowest)) * 16
        self.window_top = self.sp0 + self.caller_frame + CALLER_FRAME
        self.stack_low = (self.sp0 - STACK_RESERVE) & ~(PAGE - 1)
        top = (self.window_top + PAGE - 1) & ~(PAGE - 1)
        uc.mem_map(self.stack_low, top - self.stack_low)
        uc.mem_write(self.stack_low, default_bytes(self.inputs.seed, "init.stack", top - self.stack_low))
        for offset, data in self.inputs.stack.items():
            uc.mem_write(self.sp0 + offset, data)
        bound = self._lay_out_world()
        for reg in (*GPRS, *VECTORS, "nzcv", "tpidrro_el0", "tpidr_el0"):
            value = bound.get(reg, self.inputs.get(f"entry.{reg}", _WIDTH[reg]))
            if reg == "nzcv":
                value &= 0xF000_0000
            uc.reg_write(_REG[reg], value)
            self.run.entry[reg] = value
        self.ret = self._return_address()
        uc.reg_write(A.UC_ARM64_REG_X30, self.ret)
        self.run.entry["x30"] = self.ret
        uc.reg_write(A.UC_ARM64_REG_SP, self.sp0)
        self.run.entry["sp"] = self.sp0
        self.by_input = self._input_callees()
        for address, name in self.by_input.items():
            if name.startswith("world."):  # its region is mapped: stop before its (random) bytes run
                uc.hook_add(UC_HOOK_CODE, lambda uc, *_: uc.emu_stop(), begin=address, end=address)
        uc.hook_add(UC_HOOK_CODE, self._code, begin=image.base, end=image.end - 1)
        if self.stubs:  # control reaching a callee's stub stops the CPU: the callee is emulated here
            uc.hook_add(UC_HOOK_CODE, lambda uc, *_: uc.emu_stop(), begin=STUB_BASE,
                        end=STUB_BASE + STUB_SLOT * len(self.stubs) - 1)
        uc.hook_add(UC_HOOK_MEM_WRITE, self._write)
        uc.hook_add(UC_HOOK_MEM_READ, self._read)

    def _input_callees(self) -> dict[int, str]:
        """Callees the case declares by the input that holds them: ``entry.x0`` (the function the host passed
        lives at that register's entry value), ``entry.stack+0x8`` or ``entry.info+0x0`` (at a word of the
        caller's frame or of a world region, as it was at entry), ``world.fn`` (at the address of a world
        region: a code pointer the world holds, as in a Go func value). Control reaching one (a fetch there
        faults, as nothing is mapped; in a world region a hook stops the CPU) is handed to the callee. Two
        inputs may hold one address (a witness that sets fn and arg alike): the function there is the one
        whose outputs the witness names, else the first's."""
        named = {key.partition("#")[0] for key in self.inputs.values if "#" in key}
        out: dict[int, str] = {}
        for name in self.callees:
            address = self._callee_address(name)
            if address is not None and (address not in out or (name in named and out[address] not in named)):
                out[address] = name
        return out

    def _callee_address(self, name: str) -> int | None:
        """Where the callee an input names lives in this run (see ``_input_callees``), None for a named one."""
        if name.startswith("world."):
            return self.bases.get(name.removeprefix("world."))
        what = name.removeprefix("entry.")
        if what == name:
            return None
        if what in self.run.entry:
            return self.run.entry[what]
        region, plus, offset = what.partition("+0x")
        base = self.sp0 if region == "stack" else self.bases.get(region, self._data_address(region))
        if not plus or base is None:
            return None
        return int.from_bytes(self.uc.mem_read(base + int(offset, 16), 8), "little")

    def _data_address(self, symbol: str) -> int | None:
        """Where a data symbol the world declares and the file does not define lives: its stub address."""
        return next((address for name, address, _ in self.world.data if name == symbol), None)

    def _lay_out_world(self) -> dict[str, int]:
        """Map the world's regions at this run's bases; the registers it binds (the thread pointer too)."""
        world, uc = self.world, self.uc
        taken = [(start, start + size) for start, size in self._mapped()]
        shared = self._code_pages()  # a region may share these pages, but none of their code's bytes
        occupied = [(self.image.base, self.image.end), *((a, a + STUB_SLOT) for a in self.stubs)]
        rng = rng_for(self.inputs.seed, "world-layout")
        self.bases, world_pages = {}, set()
        for region in world.regions:
            base = self.inputs.bases.get(region.name)
            if base is None:
                base = random_base(rng, region.size, region.align, taken)
            if any(base < end and start < base + region.size for start, end in occupied):
                raise ReplayError(f"region {region.name} at {base:#x} overlaps the code or a callee stub")
            low, high = base & ~(PAGE - 1), (base + region.size + PAGE - 1) & ~(PAGE - 1)
            for page in range(low, high, PAGE):
                # two regions may share a page, and a region the rest of a code page (the model keeps the regions
                # off the code byte by byte, and the x86 oracle maps them so too); nothing else may
                if page in world_pages or any(lo <= page < hi for lo, hi in shared):
                    continue
                try:
                    uc.mem_map(page, PAGE)
                except UcError:
                    raise ReplayError(f"region {region.name} at {base:#x} overlaps mapped memory") from None
                world_pages.add(page)
            uc.mem_write(base, default_bytes(self.inputs.seed, f"init.{region.name}", region.size))
            taken.append((low, high))
            self.bases[region.name] = base
        for (region, offset), data in self.inputs.named.items():
            base = self.bases.get(region, self._data_address(region))
            if base is not None:  # a world region, or a data symbol at its stub address (_cgo_mmap)
                uc.mem_write(base + offset, data)
        try:
            for word in world.words:
                value = world_value(word.value, self.bases) & ((1 << 8 * word.size) - 1)
                uc.mem_write(world_value(word.at, self.bases), value.to_bytes(word.size, "little"))
            bound = {reg: world_value(text, self.bases) for reg, text in world.registers}
            if world.tls is not None:
                bound[world.tls_segment] = world_value(world.tls, self.bases)
        except LayoutError as exc:
            raise ReplayError(str(exc)) from None
        return bound

    def current_g(self) -> int | None:
        """The port's TLS g slot, read from memory now; None when the world has none."""
        if self.world.g_slot is None:
            return None
        segment, offset, indirect = self.world.g_slot
        pointer = self.run.entry.get(segment, self.uc.reg_read(_REG[segment]) if segment in _REG else 0)
        if segment == "tpidrro_el0":
            pointer &= ~7  # darwin masks the low bits (runtime/tls_arm64.s)
        if indirect is not None:
            address = next((a for a, n in self.stubs.items() if n == indirect), None)
            if address is None:
                return None
            offset = int.from_bytes(self.uc.mem_read(address, 8), "little")
        try:
            return int.from_bytes(self.uc.mem_read((pointer + offset) & (2**64 - 1), 8), "little")
        except UcError:
            return None

    def _return_address(self) -> int:
        value = self.inputs.values.get("entry.x30")
        rng = rng_for(self.inputs.seed, "entry.x30")
        while True:
            ra = value if value is not None else rng.randrange(0x1_0000, 0x7F00_0000_0000) & ~3
            mapped = any(start <= ra < start + size for start, size in self._mapped())
            if not mapped:
                return ra
            if value is not None:
                raise ReplayError(f"the witness's return address {ra:#x} lies in mapped memory")

    def _code_pages(self) -> list[tuple[int, int]]:
        """(low, high) of the pages the code image and the callee stubs are mapped in."""
        image = self.image
        spans = [(image.base & ~(PAGE - 1), (image.end + PAGE - 1) & ~(PAGE - 1))]
        return spans + [(STUB_BASE, STUB_BASE + STUB_SLOT * len(self.stubs))] if self.stubs else spans

    def _mapped(self):
        return [(start, end - start + 1) for start, end, _ in self.uc.mem_regions()]

    # ---- hooks -------------------------------------------------------------------------------

    def _code(self, uc, address, size, _):
        self.last = address
        if self._sp_based_at(address) and uc.reg_read(A.UC_ARM64_REG_SP) & 0xF:
            self.run.kind, self.run.site = "faulted", address
            self.run.reason = "SP alignment fault (a load or store based on an SP that is not 16-byte aligned)"
            uc.emu_stop()

    def _sp_based_at(self, address: int) -> bool:
        if address not in self._sp_based:
            word = self.image.code[address - self.image.base:][:4]
            ins = next(self.md.disasm(word, address, 1), None)
            self._sp_based[address] = ins is not None and any(
                op.type == capstone.arm64.ARM64_OP_MEM and op.mem.base == capstone.arm64.ARM64_REG_SP
                for op in ins.operands)
        return self._sp_based[address]

    def _write(self, uc, _access, address, size, _value, _):
        offset = address - self.sp0
        if self.run.stack_write is None and offset + size > 0 and address < self.window_top:
            self.run.stack_write = (offset, size, uc.reg_read(A.UC_ARM64_REG_PC))

    def _read(self, uc, _access, address, size, _value, _):
        """A read below SP (less the red zone) on the stack SP is in sees fresh bytes, as the engine has it
        (engine/memory.py, ``_volatile``): the thread's stack, or the world region SP is in (g0's stack
        after a switch). Memory below SP on another stack, or in no stack, is what it was."""
        sp = uc.reg_read(A.UC_ARM64_REG_SP)
        stack = self._stack_below(address, sp)
        if stack is None:
            return
        self.volatile += 1
        if stack == "stack":
            start = address - (address - self.sp0) % 8
            for word in range(start, address + size, 8):
                depth = self.sp0 - word
                uc.mem_write(word, self.inputs.below(self.volatile, depth).to_bytes(8, "little"))
            return
        base = self.bases[stack]
        for at in range(address, min(address + size, sp - self.red_zone)):  # the engine names each byte
            byte = self.inputs.get(f"below-rsp#{self.volatile}.{stack}+{at - base:#x}", 8)
            uc.mem_write(at, bytes([byte]))

    def _stack_below(self, address: int, sp: int) -> str | None:
        """The stack ``address`` lies below SP on ("stack", the thread's; else a world region's name), when SP
        is on it too; None when it is not below SP less the red zone on the stack SP is in."""
        if address >= sp - self.red_zone:
            return None
        if self.stack_low <= sp <= self.window_top:
            return "stack" if self.stack_low <= address else None
        held = self._world_region_at(sp)
        return held[0] if held is not None and held[1] <= address else None

    def _world_region_at(self, sp: int, among=None) -> tuple[str, int] | None:
        """(name, base) of the first world region, of those named in ``among`` if given, that ``sp`` lies in."""
        for region in self.world.regions:
            base = self.bases.get(region.name)
            if (among is None or region.name in among) and base is not None and base <= sp <= base + region.size:
                return region.name, base
        return None

    # ---- running -----------------------------------------------------------------------------

    def go(self) -> Run:
        pc, steps = self.entry_pc, 0
        while steps < self.budget and not self.run.kind:
            try:
                self.uc.emu_start(pc, self.ret, count=self.budget - steps)
            except UcError as exc:
                pc = self.uc.reg_read(A.UC_ARM64_REG_PC)
                if not self.run.kind and pc in self.by_input:
                    pc = self._call(self.by_input[pc])
                    continue
                if not self.run.kind and exc.errno == UC_ERR_FETCH_UNMAPPED and not self.image.in_code(pc):
                    # a branch out of the code (a RET through a clobbered X30): control leaves, as the model says
                    self.run.kind, self.run.site, self.run.reason = "escaped", self.last, f"control reached {pc:#x}"
                elif not self.run.kind:
                    self.run.kind, self.run.reason = "faulted", f"the CPU faults: {exc}"
                    self.run.site = self.uc.reg_read(A.UC_ARM64_REG_PC)
                break
            steps += 1000  # a coarse bound: every resumption counts
            pc = self.uc.reg_read(A.UC_ARM64_REG_PC)
            if self.run.kind:
                break
            if pc == self.ret and not self._calls_into(pc):
                self.run.kind, self.run.site = "returned", self.last
            elif STUB_BASE <= pc < STUB_BASE + STUB_SLOT * len(self.stubs):
                pc = self._call(self.stubs[STUB_BASE + (pc - STUB_BASE) // STUB_SLOT * STUB_SLOT])
            elif pc in self.by_input:
                pc = self._call(self.by_input[pc])
            elif not self.image.in_code(pc):
                self.run.kind, self.run.site, self.run.reason = "escaped", self.last, f"control reached {pc:#x}"
        if not self.run.kind:
            self.run.kind, self.run.reason = "error", "instruction budget exhausted"
        self.run.exit = {r: self.uc.reg_read(_REG[r]) for r in (*GPRS, "sp", *VECTORS)}
        self.run.exit["pc"] = self.uc.reg_read(A.UC_ARM64_REG_PC)
        return self.run

    def _calls_into(self, pc: int) -> bool:
        """Whether control reached ``pc`` by a call (a BL or BLR: X30 is the instruction after the last one)
        into a callee an input names, not by returning: the two may share an address (a witness whose
        function pointer is the caller's return address)."""
        return pc in self.by_input and self.last is not None and self.uc.reg_read(A.UC_ARM64_REG_X30) == self.last + 4

    def _host_model(self, spec):
        """The host callee model (symabi.models.host_callee) of a callee that is host code under the case's
        callee model (symabi check's: one that keeps registers, crosscall2 or a C function); None for Go."""
        from symabi.models import CALLEE_MODELS

        model = CALLEE_MODELS.get(self.callee_model)
        host = getattr(model, "host", None)
        return host if host is not None and model.host_abi(spec) is not None else None

    def _floor(self, sp: int) -> int:
        """The lowest address a callee's frame below ``sp`` may reach: the low end of the thread's stack."""
        return self.stack_low

    def _call(self, name: str) -> int:
        uc = self.uc
        spec = self.callees.get(name)
        registers = {r: uc.reg_read(_REG[r]) for r in (*GPRS, "sp", *VECTORS)}
        host = self._host_model(spec) if spec is not None and not spec.noreturn else None
        if self.world.abi_internal and host is None and not getattr(spec, "sets_g", False):
            registers["g"] = self.current_g()
        self.run.calls.append((name, self.last, registers))
        if spec is None:
            self.run.kind, self.run.reason = "error", f"call to {name}, which the case does not declare"
            return 0
        if spec.noreturn:
            self.run.kind, self.run.reason = "aborted", f"{name} does not return"
            return 0
        ordinal = sum(1 for c in self.run.calls if c[0] == name)
        if host is not None:
            self._host_frame(name, ordinal, registers["sp"])
            self._host_writes(spec, name, ordinal, registers["sp"])  # through the arguments as they are at the call
            self._host_arguments(spec, name, ordinal, registers["sp"])
            self._host_registers(host, spec, name, ordinal, registers)
            if spec.returns_region:  # the address of a world region (__error: &errno)
                uc.reg_write(_REG["x0"], self.bases[spec.returns_region])
            uc.reg_write(A.UC_ARM64_REG_PC, registers["x30"])
            return registers["x30"]
        value = lambda what, bits: self.inputs.get(callee_name(name, ordinal, what), bits)  # noqa: E731
        sp, back = registers["sp"], registers["x30"]
        args = [int.from_bytes(uc.mem_read(sp + 8 + o, 8), "little") for o in range(0, spec.args - 7, 8)]
        size = min(self._frame_size(name, ordinal), sp - self.stack_low)
        frame = self._frame_bytes(name, ordinal, size)
        # the word at SP - 8 is a Go caller's saved FP; host code (a callee that keeps registers) owns it too
        uc.mem_write(sp - size, bytes(frame if spec.keeps else frame[:-8]))
        for at, pointer in enumerate(args):
            if sp <= pointer < self.window_top and not spec.writes:
                data = bytearray(default_bytes(self.inputs.seed, callee_name(name, ordinal, f"*frame+{8 * at:#x}"),
                                               self.window_top - pointer))
                uc.mem_write(pointer, bytes(data))
        for w in spec.writes:
            pointer = args[w.pointer_at // 8] + w.offset
            word = value(f"*frame+{w.pointer_at:#x}+{w.offset:#x}", w.size * 8).to_bytes(w.size, "little")
            uc.mem_write(pointer, word)
        for off in range(0, spec.args + spec.results, 8):
            n = min(8, spec.args + spec.results - off)
            uc.mem_write(sp + 8 + off, value(f"frame+{off:#x}", n * 8).to_bytes(n, "little"))
        changed = spec.clobbers  # None: all the model allows
        for reg in GPRS:  # Go never writes R18_PLATFORM, and keeps g in R28
            if reg not in ("x18", "x28", *spec.keeps) and (changed is None or reg in changed):
                uc.reg_write(_REG[reg], value(reg, 64))
        if spec.sets_g:  # runtime·load_g: g from the thread's TLS slot, as memory holds it now
            g = self.current_g()
            uc.reg_write(_REG["x28"], g if g is not None else value("x28", 64))
        for reg in VECTORS:
            if reg not in spec.keeps and (changed is None or reg in changed):
                kept_low = f"d{reg[1:]}" in spec.keeps  # a host callee keeps D8-D15, the low halves only
                low = registers[reg] & (2**64 - 1) if kept_low else 0
                high = value(f"{reg}.high", 64) << 64 if kept_low else value(reg, 128)
                uc.reg_write(_REG[reg], high | low)
        uc.reg_write(A.UC_ARM64_REG_NZCV, value("nzcv", 64) & 0xF000_0000)
        uc.reg_write(A.UC_ARM64_REG_PC, back)
        return back

    def _host_arguments(self, spec, name: str, ordinal: int, sp: int) -> None:
        """A host callee's stack arguments (``args`` bytes from SP up), which it owns: fresh words (symbolic:
        models/host_callee.py)."""
        if spec.args and self.stack_low <= sp and sp + spec.args <= self.window_top:
            self.uc.mem_write(sp, b"".join(
                self.inputs.get(callee_name(name, ordinal, f"args+{o:#x}"), 64).to_bytes(8, "little")
                for o in range(0, spec.args, 8)))

    def _host_writes(self, spec, name: str, ordinal: int, sp: int) -> None:
        """What the case says a host callee writes through a pointer among its stack arguments (``writes`` with
        ``pointer_at``: the word at SP + pointer_at), as the symbolic model does (models/host_callee.py); a pointer
        to memory the run does not map is left alone (the refutation then does not reproduce)."""
        for w in spec.writes:
            if w.register:
                continue
            pointer = (int.from_bytes(self.uc.mem_read(sp + w.pointer_at, 8), "little") + w.offset) % 2**64
            word = self.inputs.get(callee_name(name, ordinal, f"*frame+{w.pointer_at:#x}+{w.offset:#x}"), w.size * 8)
            try:
                self.uc.mem_write(pointer, word.to_bytes(w.size, "little"))
            except UcError:
                continue

    def _host_frame(self, name: str, ordinal: int, sp: int) -> None:
        """A host callee: random bytes in a random-size frame right below SP, all of it (C knows nothing of
        Go's word at SP - 8)."""
        size = max(0, min(self._frame_size(name, ordinal), sp - self._floor(sp)) // 8 * 8)
        if size:
            self.uc.mem_write(sp - size, bytes(self._frame_bytes(name, ordinal, size)))

    def _frame_size(self, name: str, ordinal: int) -> int:
        """The size of the frame a callee's call leaves below its SP: drawn from the seed (the model allows any)."""
        return rng_for(self.inputs.seed, callee_name(name, ordinal, "frame-size")).randrange(MIN_FRAME, MAX_FRAME, 8)

    def _frame_bytes(self, name: str, ordinal: int, size: int) -> bytearray:
        """What a callee leaves in the ``size`` bytes below its SP: the seed's bytes, but for the words the
        witness fixes (``<callee>#<n>.below-<depth>``)."""
        frame = bytearray(default_bytes(self.inputs.seed, callee_name(name, ordinal, "below"), size))
        for depth in range(8, size + 1, 8):
            fixed = self.inputs.values.get(callee_name(name, ordinal, f"below-{depth:#x}"))
            if fixed is not None:
                frame[size - depth: size - depth + 8] = (fixed & (2**64 - 1)).to_bytes(8, "little")
        return frame

    def _host_registers(self, host, spec, name: str, ordinal: int, registers: dict[str, int]) -> None:
        """A host callee: fresh values in the registers ``host`` (symabi.models.host_callee) lets it change, but
        the low bits it keeps (D8-D15), and in NZCV; the case may narrow them (``clobbers``)."""
        uc = self.uc
        value = lambda what, bits: self.inputs.get(callee_name(name, ordinal, what), bits)  # noqa: E731
        for reg in host.clobbered(spec):
            if spec.clobbers is not None and reg not in spec.clobbers:
                continue
            kept = host.kept_low(spec, reg)
            if kept:
                high = value(f"{reg}.high", 128 - kept)
                uc.reg_write(_REG[reg], (high << kept) | (registers[reg] & ((1 << kept) - 1)))
            else:
                uc.reg_write(_REG[reg], value(reg, 128 if reg in VECTORS else 64))
        uc.reg_write(A.UC_ARM64_REG_NZCV, value("nzcv", 64) & 0xF000_0000)  # always: as the model has it


def concrete_run(run: Run, entry: int, inputs: Inputs) -> ConcreteRun:
    """The run as the concrete evaluator reads it (``symabi.obligations.concrete``), the same record as an
    amd64 run's: the calls with the current g at each ABIInternal one, the first store at or above the
    entry SP (the only store the stack obligation needs)."""
    calls, seen = [], {}
    for callee, site, registers in run.calls:
        seen[callee] = seen.get(callee, 0) + 1
        calls.append(ConcreteCall(callee, seen[callee], site, False, registers["sp"], (), registers,
                                  abi_internal="g" in registers, g=registers.get("g")))
    writes = ()
    if run.stack_write is not None:
        offset, size, site = run.stack_write
        writes = (ConcreteWrite(run.entry["sp"] + offset, size, "stack", offset, site),)
    return ConcreteRun(kind=run.kind, reason=run.reason, entry=entry, inputs=inputs, caller_return=run.entry["x30"],
                       entry_regs=dict(run.entry), entry_rflags=0, exit_regs=dict(run.exit), exit_rflags=0,
                       target=run.exit.get("pc"), site=run.site, calls=tuple(calls), writes=writes, steps=0,
                       knows_abi_internal=True, arch=ARM64)


@dataclass(frozen=True)
class Arm64ReplaySetup:
    """One entry of one image, for ``symabi.prover``'s replay (the same interface as ``ReplaySetup``)."""

    image: Image
    entry: int
    callees: dict
    abi: object
    red_zone: int
    entry_name: str = ""
    facts: tuple[str, ...] = ()
    world: World = World()
    unsupported: str = ""  # why this configuration cannot be run here
    obligations: tuple = ()  # the contract's definitions (symabi.obligations.contracts); () : the host ABIs'
    caller_frame: int = 0  # where the caller's own frame begins above the entry SP (the entry convention's)
    callee_model: str = ""  # the case's callee model: which callees are host code (symabi check's)

    def run(self, inputs: Inputs) -> ConcreteRun:
        run = Machine(self.image, self.entry, self.callees, self.red_zone, inputs, world=self.world,
                      frame=self.caller_frame, callee_model=self.callee_model).go()
        return concrete_run(run, self.entry, inputs)

    def confirm(self, violation, *, seed: str = DEFAULT_SEED, seeds: int = CONFIRM_SEEDS) -> str:
        return self.confirm_all([violation], seed=seed, seeds=seeds)[0]

    def confirm_all(self, violations, *, seed: str = DEFAULT_SEED, seeds: int = CONFIRM_SEEDS) -> list[str]:
        """``confirm`` of each of ``violations``, which share one witness (the same inputs), from one set of runs."""
        if self.unsupported:
            return [f"{NOT_REPRODUCED}: {self.unsupported}"] * len(violations)
        inputs = violations[0].inputs
        return replay_witnesses(violations, lambda drawn: self.run(Inputs.from_witness(inputs, drawn)),
                                seed=seed, seeds=seeds, judged_by=lambda v, run: judge(v, run, self.obligations))


def setups_for_case(case, image: Image) -> list[Arm64ReplaySetup]:
    """One setup per (entry symbol, world configuration), in the prover's order (symabi.replay.confirm's)."""
    from symabi.contracts import CONTRACTS
    from symabi.models import ENTRY_CONVENTIONS
    from symabi.obligations.contracts import for_contract
    from symabi.ports import PORTS
    from symabi.replay.confirm import _configurations, _data_regions, _data_words, _region_plans

    contract = CONTRACTS[case.contract]
    abi = (contract.for_port(PORTS[case.port]) if hasattr(contract, "for_port") else contract).abi
    obligations = for_contract(case.contract, abi)
    convention = ENTRY_CONVENTIONS[case.entry_convention.name]
    red_zone, frame = convention.red_zone, convention.caller_frame(case.entry_convention.stack_args)
    tls = PORTS[case.port].tls
    g_slot = (tls.segment, tls.g_offset, tls.indirect) if tls is not None and tls.slot == "g" else None
    setups = []
    for name in case.entries:
        for words, facts, running_on in _configurations(case.world):
            world = World(_region_plans(case.world), words + _data_words(case, image), _data_regions(case, image),
                          tuple(case.entry_convention.registers.items()), case.world.tls,
                          tls.segment if tls else "tpidr_el0", g_slot, case.callee_model == "go-abiinternal")
            why = f"the world is entered on the stack region {running_on!r}, which this oracle does not lay out" \
                if running_on else ""
            setups.append(Arm64ReplaySetup(image, image.symbols[name], dict(case.callees), abi, red_zone, name,
                                           facts, world, why, obligations, frame, case.callee_model))
    return setups
