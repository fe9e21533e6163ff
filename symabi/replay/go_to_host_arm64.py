"""The concrete oracle for go-to-host on arm64: ``symabi.replay.arm64``'s unicorn machine, entered by Go code
and calling host code, judged against ``symabi.contracts.go_to_host_arm64``'s obligations.

What differs from a host entry: the trampoline is entered as Go enters it (SP 16-byte aligned, the return
address in X30, the argument words at 8(RSP) from the witness or the seed, the word at SP - 8 kept: Go's
saved frame pointer), a callee may be the function whose address is an argument word
(``entry.stack+0x8``), a register may hold a world field's value (``x28 = "*current"``), and each callee is
host code: the registers the host ABI makes volatile (X0-X18 but a reserved X18, X30, V0-V7, V16-V31,
the high halves of V8-V15; narrowed by a callee's ``clobbers``) and NZCV get fresh values, a random-size
frame below its SP gets random bytes (all of it: C knows nothing of Go's word at SP - 8), and it returns to
the X30 of the call with SP as it was. It shares no choice with the symbolic model but the input names.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from symabi.replay.arm64 import GPRS, MAX_FRAME, MIN_FRAME, VECTORS, _REG, Arm64ReplaySetup, Inputs, Machine, Run, \
    World, concrete_run
from symabi.obligations.concrete import ConcreteFinding
from symabi.replay.confirm import CONFIRM_SEEDS, NOT_REPRODUCED, compare, replay_witness
from symabi.replay.inputs import DEFAULT_SEED
from symabi.replay.go_to_host import padded
from symabi.replay.inputs import callee_name, default_bytes, rng_for
from symabi.replay.machine import ReplayError
from symabi.replay.world import LayoutError, evaluate as world_value
from unicorn import arm64_const as A

_LOW64 = (1 << 64) - 1
SAVED_FP = 8  # the caller's saved R29 right below the entry SP (Go's arm64 frame layout)


@dataclass
class GoRun(Run):
    go_write: tuple[int, int, int, str] | None = None  # (offset, size, instruction, where) of the first stray store


class GoToHostMachine(Machine):
    def __init__(self, image, entry, callees, red_zone, inputs, world: World, abi, held, stack_args: int,
                 other_stacks: dict[str, int]):
        self.abi, self.stack_args, self.other_stacks = abi, stack_args, other_stacks
        self.go_write = None
        super().__init__(image, entry, callees, red_zone, inputs, world=world)
        for reg, text in held:  # a register holding a world field's value at entry
            word = next((w for w in world.words if w.at == text[1:]), None)
            if word is None:
                raise ReplayError(f"register {reg} holds {text}, which no world field declares")
            try:
                value = world_value(word.value, self.bases) & _LOW64
            except LayoutError as exc:
                raise ReplayError(str(exc)) from None
            self.uc.reg_write(_REG[reg], value)
            self.run.entry[reg] = value
        self.run = GoRun(**vars(self.run))

    def _input_callees(self) -> dict[int, str]:
        """Also a callee whose address is a word of the caller's frame at entry (``entry.stack+0x8``)."""
        out = super()._input_callees()
        for name in self.callees:
            offset = name.removeprefix("entry.stack+")
            if offset != name:
                out[int.from_bytes(self.uc.mem_read(self.sp0 + int(offset, 16), 8), "little")] = name
        return out

    def _write(self, uc, access, address, size, value, user):
        super()._write(uc, access, address, size, value, user)
        if self.go_write is not None:
            return
        site = uc.reg_read(A.UC_ARM64_REG_PC)
        offset = address - self.sp0
        if self.stack_low <= address < self.window_top:
            if not (offset + size <= -SAVED_FP or 8 <= offset and offset + size <= 8 + padded(self.stack_args)):
                self.go_write = (offset, size, site, "stack")
            return
        for name, floor in self.other_stacks.items():
            base = self.bases.get(name)
            if base is not None and base <= address < base + floor + 0x1000 and address - base + size > floor:
                self.go_write = (address - base, size, site, name)

    def go(self) -> Run:
        run = super().go()
        run.go_write = self.go_write
        return run

    def _floor(self, sp: int) -> int:
        """The lowest address a callee's frame below ``sp`` may reach: the base of the world stack region
        ``sp`` is in (g0's stack, asmcgocall's switch), else the low end of the thread's stack."""
        for region in self.world.regions:
            base = self.bases.get(region.name)
            if region.name in self.other_stacks and base is not None and base <= sp <= base + region.size:
                return base
        return self.stack_low

    def _call(self, name: str) -> int:
        uc, spec = self.uc, self.callees.get(name)
        if spec is None or spec.noreturn or spec.model:  # undeclared, never returning, a Go helper (save_g):
            thread_low, self.stack_low = self.stack_low, self._floor(uc.reg_read(A.UC_ARM64_REG_SP))
            try:  # as the host-entry oracle has them, its frame on the stack the callee runs on
                return super()._call(name)
            finally:
                self.stack_low = thread_low
        registers = {r: uc.reg_read(_REG[r]) for r in (*GPRS, "sp", *VECTORS)}
        self.run.calls.append((name, self.last, registers))
        ordinal = sum(1 for c in self.run.calls if c[0] == name)
        self._host_frame(name, ordinal, registers["sp"])
        self._host_arguments(spec, name, ordinal, registers["sp"])
        if self.go_write is None and self.sp0 - SAVED_FP < registers["sp"] <= self.window_top:
            # its frame covers the caller's saved frame pointer at entry SP - 8 (symbolic: models/host_callee.py)
            self.go_write = (-SAVED_FP, SAVED_FP, self.last, "stack")
        self._host_registers(spec, name, ordinal, registers)
        uc.reg_write(A.UC_ARM64_REG_PC, registers["x30"])
        return registers["x30"]

    def _host_arguments(self, spec, name: str, ordinal: int, sp: int) -> None:
        """Its stack arguments (``args`` bytes from SP up), which it owns: fresh words (symbolic: models/host_callee.py)."""
        if spec.args and self.stack_low <= sp and sp + spec.args <= self.window_top:
            self.uc.mem_write(sp, b"".join(
                self.inputs.get(callee_name(name, ordinal, f"args+{o:#x}"), 64).to_bytes(8, "little")
                for o in range(0, spec.args, 8)))

    def _host_frame(self, name: str, ordinal: int, sp: int) -> None:
        """Random bytes in a random-size frame right below SP (C knows nothing of Go's word at SP - 8)."""
        draw = rng_for(self.inputs.seed, callee_name(name, ordinal, "frame-size"))
        size = max(0, min(draw.randrange(MIN_FRAME, MAX_FRAME, 8), sp - self._floor(sp)) // 8 * 8)
        frame = bytearray(default_bytes(self.inputs.seed, callee_name(name, ordinal, "below"), size))
        for depth in range(8, size + 1, 8):
            fixed = self.inputs.values.get(callee_name(name, ordinal, f"below-{depth:#x}"))
            if fixed is not None:
                frame[size - depth: size - depth + 8] = (fixed & _LOW64).to_bytes(8, "little")
        if size:
            self.uc.mem_write(sp - size, bytes(frame))

    def _host_registers(self, spec, name: str, ordinal: int, registers: dict[str, int]) -> None:
        uc = self.uc
        value = lambda what, bits: self.inputs.get(callee_name(name, ordinal, what), bits)  # noqa: E731
        partly = self.abi.partly_kept
        for reg in self.abi.volatile:
            if spec.clobbers is not None and reg not in spec.clobbers:
                continue
            if reg in partly:
                kept = partly[reg]
                high = value(f"{reg}.high", 128 - kept)
                uc.reg_write(_REG[reg], (high << kept) | (registers[reg] & ((1 << kept) - 1)))
            else:
                uc.reg_write(_REG[reg], value(reg, 128 if reg in VECTORS else 64))
        uc.reg_write(A.UC_ARM64_REG_NZCV, value("nzcv", 64) & 0xF000_0000)  # always: as the model has it


def evaluate(run: GoRun, abi, obligation: str, location: str) -> tuple[str, int | None, int | None, int | None]:
    """(status, entry, exit, site) of one go-to-host obligation on a concrete run."""
    if obligation == "host-stack-aligned-at-call":
        for _, site, registers in run.calls:
            if registers["sp"] % 16:
                return "violated", 0, registers["sp"] % 16, site
        return "holds", None, None, None
    if obligation == "stack-writes-in-go-frame":
        if run.go_write is not None:
            offset, _, site, _ = run.go_write
            return "violated", None, offset, site
        return "holds", None, None, None
    if obligation == "x28-g-at-return":
        if run.kind != "returned":
            return "n/a", None, None, None
        entry, exit_ = run.entry["x28"], run.exit["x28"]
        return ("violated" if entry != exit_ else "holds"), entry, exit_, run.site
    return host_entry_evaluate(run, obligation)


def host_entry_evaluate(run: GoRun, obligation: str) -> tuple[str, int | None, int | None, int | None]:
    """An obligation the host-entry contracts define too (preserve-x29, restore-sp, return-to-caller,
    no-fault): judged by its one definition (``symabi.obligations``) over the run as a ``ConcreteRun``."""
    from symabi.obligations import concrete
    from symabi.obligations.host_abi import definition

    ob = definition(obligation)
    finding = None if ob is None else concrete.evaluate(ob, concrete_run(run, 0, None))
    if finding is None:
        return "n/a", None, None, None
    return finding.status, finding.entry, finding.exit, finding.site


@dataclass(frozen=True)
class GoToHostSetup(Arm64ReplaySetup):
    held: tuple[tuple[str, str], ...] = ()  # registers holding a world field's value ("*current")
    stack_args: int = 0
    other_stacks: dict = field(default_factory=dict)  # world stack region -> its free-space limit

    def run(self, inputs) -> Run:
        return GoToHostMachine(self.image, self.entry, self.callees, self.red_zone, inputs, self.world, self.abi,
                               self.held, self.stack_args, self.other_stacks).go()

    def evaluate(self, run, obligation: str, location: str):
        return evaluate(run, self.abi, obligation, location)

    def confirm(self, violation, *, seed: str = DEFAULT_SEED, seeds: int = CONFIRM_SEEDS) -> str:
        """As every setup confirms (``replay_witness``), judged by this oracle's own obligations."""
        if self.unsupported:
            return f"{NOT_REPRODUCED}: {self.unsupported}"
        return replay_witness(violation, lambda drawn: self.run(Inputs.from_witness(violation.inputs, drawn)),
                              seed=seed, seeds=seeds, judged_by=self._judge)

    def _judge(self, violation, run: GoRun) -> str:
        status, entry, exit_, site = self.evaluate(run, violation.obligation, violation.location)
        finding = ConcreteFinding(violation.obligation, violation.location, status, entry, exit_, site=site)
        return compare(violation, finding, run.kind + (f": {run.reason}" if run.reason else ""))


def setups_for_case(case, image) -> list[GoToHostSetup]:
    """One setup per (entry symbol, world configuration), in the prover's order."""
    from symabi.replay.arm64 import setups_for_case as host_entry_setups
    from symabi.models import ENTRY_CONVENTIONS
    from symabi.ports import PORTS

    abi = PORTS[case.port].abi
    red_zone = ENTRY_CONVENTIONS[case.entry_convention.name].red_zone
    held = tuple((r, t) for r, t in case.entry_convention.registers.items() if t.startswith("*"))
    other = {r.name: r.free_below for r in case.world.regions if r.free_below}
    out = []
    for s in host_entry_setups(case, image):
        world = replace(s.world, registers=tuple((r, t) for r, t in s.world.registers if not t.startswith("*")))
        out.append(GoToHostSetup(s.image, s.entry, s.callees, abi, red_zone, s.entry_name, s.facts, world,
                                 s.unsupported, held, case.entry_convention.stack_args, other))
    return out
