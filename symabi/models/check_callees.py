"""The callee model of ``symabi check`` (registered with the other models, so that every process knows it by
name): Go callees as ``go-abi0``; host-ABI callees (crosscall2, a C function: a callee whose spec
``keeps`` the host's callee-saved registers) as the port's host callee model, the one go-to-host uses
(``symabi.models.host_callee``: registers, the stack below it, the home area, the flags, where it
returns), plus what a host callee entered from a trampoline may do that one called from a Go stub is not
modelled to: write through the pointers it receives in its argument registers (crosscall2's ``a``, which
cgocallback hands on to the Go callback), up to the end of the region each points into: a trampoline
passes pointers into its own frame, a Go stub the Go caller's memory.
"""

from __future__ import annotations

from dataclasses import dataclass

from symabi.casefile import REGISTER_ORDER, CalleeSpec, register_slot
from symabi.engine.memory import MemoryGuard
from symabi.engine.registers import arch_of
from symabi.models.entry import ENTRY_CONVENTIONS, CallbackTableConvention
from symabi.models.entry_sysv import SYSV_CALL
from symabi.models.go_abi0 import CALLEE_MODELS, GO_ABI0, CalleeModel, reached
from symabi.models.go_arm64 import for_arch
from symabi.models.host_callee import HOST_CALLEE_MODELS, HostCalleeModel, declared_writes, span
from symabi.ports import AAPCS64, HOST_ABIS, HostAbi


CROSSCALL2 = ("crosscall2", "_crosscall2")


@dataclass(frozen=True)
class CheckCallees(CalleeModel):
    abi: str = "windows-x64"

    @property
    def host(self) -> HostCalleeModel:
        return HOST_CALLEE_MODELS[f"host-{self.abi}"]

    def host_abi(self, spec: CalleeSpec) -> HostAbi | None:
        """The host ABI ``spec``'s callee follows (host-ABI code keeps registers), None for Go code."""
        return self.host.abi if spec.keeps else None

    @staticmethod
    def go_callees(callees: dict[str, CalleeSpec]) -> frozenset[str]:
        """The callees that are Go code (no host registers kept) and read g from the g register on entry (all
        but one that loads g itself, ``sets_g``): on arm64 the contract's x28 obligation applies at their calls."""
        return frozenset(name for name, spec in callees.items() if not spec.keeps and not spec.sets_g)

    def apply(self, state, spec: CalleeSpec, ordinal: int, guard: MemoryGuard, site: int | None) -> None:
        if not spec.keeps:  # Go code: ABI0, on this architecture (BL and X30 on arm64)
            for_arch(GO_ABI0, arch_of(state).name).apply(state, spec, ordinal, guard, site)
            return
        # what it writes through its argument registers, as they are at the call; then all the rest
        prefix = f"{spec.name}#{ordinal}"
        for havoc in reached(state, guard, list(self._through_registers(state, spec, prefix, guard, site)), prefix,
                             spec.narrowed):
            guard.havoc(state, havoc)
        self.host.apply(state, spec, ordinal, guard, site, pointers_modelled=True)  # returns_region too

    def _through_registers(self, state, spec: CalleeSpec, prefix: str, guard: MemoryGuard, site: int | None):
        registers = HOST_ABIS[self.abi].integer_arguments
        if spec.narrowed:  # the user declared what it writes through which register or stack word (writes_reason)
            yield from declared_writes(state, spec, prefix, guard)
            return
        if spec.name in CROSSCALL2:  # crosscall2(fn, a, n, ctxt): cgocallback runs fn(a); n bounds nothing
            size = _fn_writes(state, spec, state.registers.load(registers[0]))
            if size is not None:
                yield from span(state, guard, prefix, _slot(registers[1]), state.registers.load(registers[1]), 0,
                                size)
                return
        pointers = [(_slot(r), state.registers.load(r)) for r in registers]
        yield from GO_ABI0._pointer_havocs(state, CalleeSpec(spec.name), prefix, pointers, guard, site)


def _fn_writes(state, spec: CalleeSpec, fn) -> int | None:
    """The bytes crosscall2's fn writes at a when fn is certainly a function the spec bounds (``fn_writes``: from
    its Go declaration `func f(a *T)`), None otherwise. The runtime never reads n (runtime/cgo/asm_amd64.s:
    "Skip n in DX"; red team 3: a fn writing past n clobbered the trampoline's save slot)."""
    if fn.symbolic or not spec.fn_writes:
        return None
    name = state.globals.get("stubs", {}).get(fn.concrete_value)
    if name is None:
        return None
    name = name.split("<")[0].removesuffix(".abi0")
    return dict(spec.fn_writes).get(name)


def _slot(register: str) -> int:
    """The name slot of a pointer in an argument register (``*frame+0x1008+...`` for RSI, as case files
    spell it on amd64; the arm64 registers follow the System V ones)."""
    if register in REGISTER_ORDER:
        return register_slot(register)
    return register_slot(REGISTER_ORDER[-1]) + 8 * (1 + AAPCS64.integer_arguments.index(register))


# What the host model says that this model says for itself (the writes through pointer arguments) or that
# the Go model's assumptions already say.
_SAID_OTHERWISE = ("writes no memory", "its outputs are fresh", "a callee declared noreturn")


def _model(abi: str) -> CheckCallees:
    return CheckCallees(
    name=f"go-abi0+{abi}-host",
    abi=abi,
    doc="Go callees as go-abi0; host-ABI callees as the port's host callee model, and they may write through "
        "the pointers in their argument registers.",
    assumptions=GO_ABI0.assumptions + tuple(f"a host-ABI callee (crosscall2, a C function): {a}"
                                            for a in HOST_CALLEE_MODELS[f"host-{abi}"].assumptions
                                            if not a.startswith(_SAID_OTHERWISE)) + (
        "a host-ABI callee keeps the registers its spec lists (`keeps`: by default the host's callee-saved "
        "ones) and may clobber every other one",
        f"a host-ABI callee may write anything each pointer in an argument register "
        f"({', '.join(r.upper() for r in HOST_ABIS[abi].integer_arguments)}) reaches, up to the end of the region it points "
        "into, and what the pointers stored there reach (transitively)",
        "crosscall2(fn, a, n, ctxt) writes at a what fn writes, and what the pointers stored there reach: "
        "crosscall2 and runtime·cgocallback hand a on untouched and never read n; fn writes sizeof(T) bytes "
        "when it is a function of the module declared `func fn(a *T)` (T of plain-typed fields: Go's type "
        "safety), and anything up to the end of a's region otherwise (an unsafe.Pointer, a fn the model "
        "cannot name)",
    ),
)


MODELS = {abi: _model(abi) for abi in HOST_ABIS}
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
