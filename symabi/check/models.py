"""The callee model of ``symabi check``: Go callees as ``go-abi0``, host-ABI callees (crosscall2, a C
function: a callee whose spec ``keeps`` the host's callee-saved registers) as ``go-abi0`` with those
registers kept, plus what host code may do that Go code may not: write through the pointers it
receives in its argument registers (crosscall2's ``a``, which cgocallback hands on to the Go callback),
up to the end of the region each points into.
"""

from __future__ import annotations

from dataclasses import dataclass

from symabi.casefile import CalleeSpec, register_slot
from symabi.engine.memory import Havoc, MemoryGuard
from symabi.models.entry import ENTRY_CONVENTIONS, CallbackTableConvention
from symabi.models.entry_sysv import SYSV_CALL
from symabi.models.go_abi0 import CALLEE_MODELS, GO_ABI0, CalleeModel

# The integer argument registers of each host ABI, in order.
ARGUMENT_REGISTERS = {"windows-x64": ("rcx", "rdx", "r8", "r9"),
                      "sysv-amd64": ("rdi", "rsi", "rdx", "rcx", "r8", "r9")}


CROSSCALL2 = ("crosscall2", "_crosscall2")


@dataclass(frozen=True)
class CheckCallees(CalleeModel):
    abi: str = "windows-x64"

    def apply(self, state, spec: CalleeSpec, ordinal: int, guard: MemoryGuard, site: int | None) -> None:
        if spec.keeps:
            for havoc in self._through_registers(state, spec, f"{spec.name}#{ordinal}", guard, site):
                guard.havoc(state, havoc)
        GO_ABI0.apply(state, spec, ordinal, guard, site)

    def _through_registers(self, state, spec: CalleeSpec, prefix: str, guard: MemoryGuard, site: int | None):
        registers = ARGUMENT_REGISTERS[self.abi]
        if spec.narrowed:  # the user declared what it writes through which register (with writes_reason)
            for w in spec.writes:
                if w.register:
                    yield from self._span(state, guard, prefix, w.pointer_at, state.registers.load(w.register),
                                          w.offset, w.size)
            return
        if spec.name in CROSSCALL2:  # crosscall2(fn, a, n, ctxt): fn (run by cgocallback) writes the n bytes at a
            size = state.registers.load(registers[2])
            if not size.symbolic:
                n = state.solver.eval_one(size) & 0xFFFFFFFF  # n is a C int
                yield from self._span(state, guard, prefix, register_slot(registers[1]),
                                      state.registers.load(registers[1]), 0, n)
                return
        pointers = [(register_slot(r), state.registers.load(r)) for r in registers]
        yield from GO_ABI0._pointer_havocs(state, CalleeSpec(spec.name), prefix, pointers, guard, site)

    @staticmethod
    def _span(state, guard: MemoryGuard, prefix: str, at: int, pointer, offset: int, size: int):
        where = guard.locate(state, pointer)
        if where is not None and size:
            region, start = where
            yield Havoc(region, start + offset, start + offset + size,
                        lambda word, start=start: f"{prefix}.*frame+{at:#x}+{word - start:#x}")


def _model(abi: str) -> CheckCallees:
    return CheckCallees(
    name=f"go-abi0+{abi}-host",
    abi=abi,
    doc="Go callees as go-abi0; host-ABI callees keep the host's callee-saved registers and may write through "
        "the pointers in their argument registers.",
    assumptions=GO_ABI0.assumptions + (
        "a host-ABI callee (crosscall2, a C function) keeps the registers its spec lists (the host's "
        "callee-saved ones) and may clobber every other one",
        f"a host-ABI callee may write anything each pointer in an argument register "
        f"({', '.join(r.upper() for r in ARGUMENT_REGISTERS[abi])}) reaches, up to the end of the region it points "
        "into, and its home area",
        "crosscall2(fn, a, n, ctxt) writes only the n bytes at a (when n is a constant): cgo's exported "
        "functions take their arguments and leave their results in that block, and crosscall2 and "
        "runtime·cgocallback hand a on untouched",
    ),
)


MODELS = {abi: _model(abi) for abi in ARGUMENT_REGISTERS}
for _m in MODELS.values():
    CALLEE_MODELS.setdefault(_m.name, _m)


# The callback table of cgo-free FFI libraries on the System V ports (purego's callbackasm): the host
# CALLs an entry of a table of CALL instructions, which CALLs the trampoline; no home area, a red zone.
SYSV_CALLBACK_TABLE = CallbackTableConvention(
    name="sysv-callbackasm-table",
    doc="A System V AMD64 caller CALLs an entry of a table of CALL instructions, which CALLs the trampoline.",
    assumptions=SYSV_CALL.assumptions,
    home_area=SYSV_CALL.home_area,
    red_zone=SYSV_CALL.red_zone,
)
ENTRY_CONVENTIONS.setdefault(SYSV_CALLBACK_TABLE.name, SYSV_CALLBACK_TABLE)
