"""The concrete oracle for go-to-host on arm64: ``symabi.replay.arm64``'s unicorn machine, entered by Go code
and calling host code, its runs judged by the concrete evaluator against go-to-host's definitions
(``symabi.obligations.go_to_host``), as the symbolic contract judges its paths.

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

from symabi.replay.arm64 import _REG, Arm64ReplaySetup, Machine, Run, World, concrete_run
from symabi.replay.machine import ConcreteRun, ConcreteWrite, ReplayError
from symabi.replay.world import LayoutError, evaluate as world_value
from unicorn import arm64_const as A

_LOW64 = (1 << 64) - 1


@dataclass
class GoRun(Run):
    # the code's stores on the thread's stack (offset from the entry SP) and on the world's other stacks
    # (offset from the region's base), in order: what stack-writes-in-go-frame judges
    go_writes: list[ConcreteWrite] = field(default_factory=list)


class GoToHostMachine(Machine):
    def __init__(self, image, entry, callees, red_zone, inputs, world: World, abi, held, stack_args: int,
                 other_stacks: dict[str, int], frame: int = 0):
        self.abi, self.stack_args, self.other_stacks = abi, stack_args, other_stacks
        self.go_writes: list[ConcreteWrite] = []
        super().__init__(image, entry, callees, red_zone, inputs, world=world, frame=frame)
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

    def _write(self, uc, access, address, size, value, user):
        super()._write(uc, access, address, size, value, user)
        site = uc.reg_read(A.UC_ARM64_REG_PC)
        if self.stack_low <= address < self.window_top:
            self.go_writes.append(ConcreteWrite(address, size, "stack", address - self.sp0, site))
            return
        for name, floor in self.other_stacks.items():
            base = self.bases.get(name)
            if base is not None and base <= address < base + floor + 0x1000:
                self.go_writes.append(ConcreteWrite(address, size, name, address - base, site))

    def go(self) -> Run:
        run = super().go()
        run.go_writes = self.go_writes
        return run

    def _floor(self, sp: int) -> int:
        """The lowest address a callee's frame below ``sp`` may reach: the base of the world stack region
        ``sp`` is in (g0's stack, asmcgocall's switch), else the low end of the thread's stack."""
        held = self._world_region_at(sp, self.other_stacks)
        return held[1] if held is not None else self.stack_low

    def _host_model(self, spec):
        """Every callee is host code (the port's host model), but a Go helper the case names a model for."""
        from symabi.models.host_callee import HOST_CALLEE_MODELS

        return None if spec.model else HOST_CALLEE_MODELS[f"host-{self.abi.name}"]

    def _call(self, name: str) -> int:
        spec = self.callees.get(name)
        if spec is None or spec.noreturn or spec.model:  # undeclared, never returning, a Go helper (save_g):
            thread_low, self.stack_low = self.stack_low, self._floor(self.uc.reg_read(A.UC_ARM64_REG_SP))
            try:  # as the host-entry oracle has them, its frame on the stack the callee runs on
                return super()._call(name)
            finally:
                self.stack_low = thread_low
        if self.sp0 - 8 < self.uc.reg_read(A.UC_ARM64_REG_SP) <= self.window_top:
            # the host callee's frame covers the Go caller's saved frame pointer at entry SP - 8: a store of
            # that word at the call (symbolic: models/host_callee.py), judged by stack-writes-in-go-frame
            self.go_writes.append(ConcreteWrite(self.sp0 - 8, 8, "stack", -8, self.last))
        return super()._call(name)


@dataclass(frozen=True)
class GoToHostSetup(Arm64ReplaySetup):
    held: tuple[tuple[str, str], ...] = ()  # registers holding a world field's value ("*current")
    stack_args: int = 0
    other_stacks: dict = field(default_factory=dict)  # world stack region -> its free-space limit

    def run(self, inputs) -> ConcreteRun:
        """The run as the concrete evaluator reads it: a host entry's record (``concrete_run``), with the Go
        caller's stores, argument words and world stacks; judged by the contract's definitions
        (``Arm64ReplaySetup.confirm``)."""
        machine = GoToHostMachine(self.image, self.entry, self.callees, self.red_zone, inputs, self.world, self.abi,
                                  self.held, self.stack_args, self.other_stacks, self.caller_frame)
        run = machine.go()
        return replace(concrete_run(run, self.entry, inputs), writes=tuple(run.go_writes),
                       other_stacks=dict(self.other_stacks), world=dict(machine.bases), stack_args=self.stack_args,
                       callee_model=f"host-{self.abi.name}")


def setups_for_case(case, image) -> list[GoToHostSetup]:
    """One setup per (entry symbol, world configuration), in the prover's order."""
    from symabi.models import ENTRY_CONVENTIONS
    from symabi.obligations.go_to_host import go_to_host
    from symabi.replay.arm64 import setups_for_case as host_entry_setups
    from symabi.ports import PORTS

    abi = PORTS[case.port].abi
    red_zone = ENTRY_CONVENTIONS[case.entry_convention.name].red_zone
    held = tuple((r, t) for r, t in case.entry_convention.registers.items() if t.startswith("*"))
    other = {r.name: r.free_below for r in case.world.regions if r.free_below}
    out = []
    for s in host_entry_setups(case, image):
        world = replace(s.world, registers=tuple((r, t) for r, t in s.world.registers if not t.startswith("*")))
        out.append(GoToHostSetup(s.image, s.entry, s.callees, abi, red_zone, s.entry_name, s.facts, world,
                                 s.unsupported, go_to_host(abi), s.caller_frame, held=held,
                                 stack_args=case.entry_convention.stack_args, other_stacks=other))
    return out
