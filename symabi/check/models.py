"""The callee model of ``symabi check``: Go callees as ``go-abi0``, host-ABI callees (crosscall2, a C
function: a callee whose spec ``keeps`` the host's callee-saved registers) as ``go-abi0`` with those
registers kept, plus what host code may do that Go code may not: write through the pointers it
receives in its argument registers (crosscall2's ``a``, which cgocallback hands on to the Go callback),
up to the end of the region each points into.
"""

from __future__ import annotations

from dataclasses import dataclass

from dataclasses import replace

import claripy

from symabi.casefile import REGISTER_ORDER, CalleeSpec, register_slot
from symabi.engine.memory import Havoc, MemoryGuard
from symabi.engine.registers import arch_of
from symabi.errors import CaseError
from symabi.models.entry import ENTRY_CONVENTIONS, CallbackTableConvention
from symabi.models.entry_sysv import SYSV_CALL
from symabi.models.go_abi0 import CALLEE_MODELS, GO_ABI0, CalleeModel, fresh
from symabi.models.go_arm64 import for_arch

# The integer argument registers of each host ABI, in order.
_AAPCS64_ARGUMENTS = tuple(f"x{i}" for i in range(8))
ARGUMENT_REGISTERS = {"windows-x64": ("rcx", "rdx", "r8", "r9"),
                      "sysv-amd64": ("rdi", "rsi", "rdx", "rcx", "r8", "r9"),
                      "aapcs64": _AAPCS64_ARGUMENTS, "darwin-arm64": _AAPCS64_ARGUMENTS,
                      "windows-arm64": _AAPCS64_ARGUMENTS}


CROSSCALL2 = ("crosscall2", "_crosscall2")
RESULT_REGISTER = {"amd64": "rax", "arm64": "x0"}  # where a host function leaves its (first) result


def region_base(guard: MemoryGuard, spec: CalleeSpec):
    """The base of the world region ``spec.returns_region`` (a CaseError when the world has none)."""
    base = next((r.base for r in guard.symbolic if r.name == spec.returns_region), None)
    if base is None:
        raise CaseError(f"callee {spec.name}: field `returns_region` names {spec.returns_region!r}, which is no "
                        "region of the world")
    return base


@dataclass(frozen=True)
class CheckCallees(CalleeModel):
    abi: str = "windows-x64"

    def apply(self, state, spec: CalleeSpec, ordinal: int, guard: MemoryGuard, site: int | None) -> None:
        arch = arch_of(state)
        go = for_arch(GO_ABI0, arch.name)  # the Go side of a call on this architecture (BL and X30 on arm64)
        if not spec.keeps:
            go.apply(state, spec, ordinal, guard, site)
            return
        for havoc in self._through_registers(state, spec, f"{spec.name}#{ordinal}", guard, site):
            guard.havoc(state, havoc)
        # Host code owns its whole frame: none of the Go frame layout's reserved words below its SP.
        kept_low = {arch.register(r).within: state.registers.load(r) for r in spec.keeps
                    if arch.register(r).kind == "view"}
        replace(go, reserved_below=0).apply(state, spec, ordinal, guard, site)
        for vector, low in kept_low.items():  # D8-D15: the low 64 bits survive a host call, the rest does not
            high = fresh(spec.name, ordinal, f"{vector}.high", arch.width(vector) - low.length)
            state.registers.store(vector, claripy.Concat(high, low))
        if spec.returns_region:  # the callee returns a world region's address (__error: &errno)
            state.registers.store(RESULT_REGISTER[arch.name], region_base(guard, spec))

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
                yield from self._span(state, guard, prefix, _slot(registers[1]),
                                      state.registers.load(registers[1]), 0, n)
                return
        pointers = [(_slot(r), state.registers.load(r)) for r in registers]
        yield from GO_ABI0._pointer_havocs(state, CalleeSpec(spec.name), prefix, pointers, guard, site)

    @staticmethod
    def _span(state, guard: MemoryGuard, prefix: str, at: int, pointer, offset: int, size: int):
        where = guard.locate(state, pointer)
        if where is not None and size:
            region, start = where
            yield Havoc(region, start + offset, start + offset + size,
                        lambda word, start=start: f"{prefix}.*frame+{at:#x}+{word - start:#x}")


def _slot(register: str) -> int:
    """The name slot of a pointer in an argument register (``*frame+0x1008+...`` for RSI, as case files
    spell it on amd64; the arm64 registers follow the System V ones)."""
    if register in REGISTER_ORDER:
        return register_slot(register)
    return register_slot(REGISTER_ORDER[-1]) + 8 * (1 + _AAPCS64_ARGUMENTS.index(register))


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
