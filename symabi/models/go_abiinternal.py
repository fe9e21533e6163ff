"""go-abiinternal: a Go callee entered with Go's register-based calling convention (ABIInternal).

On amd64, ABIInternal passes integer arguments and results in AX, BX, CX, DI, SI, R8-R11 and
floating-point ones in X0-X14, with a spill area for the register arguments reserved in the caller's
frame above the return address. Its caller must enter it with two fixed registers in place:

* X15 holds zero (Go code uses it as the zero value),
* R14 holds the current goroutine g (0 exactly when the thread has none: a trampoline that may run on a
  thread without one passes what the TLS slot holds).

What the call does to the machine is what ``go-abi0`` models (every register but RSP is clobbered;
the callee writes its spill area and stack arguments/results: the case's ``args`` and ``results``),
so the model reuses that effect. What differs is the caller's duty at the call: the windows-x64
contract checks X15 and R14 at every call to a callee of this model, from the facts recorded here
when a path starts.

"The current g" is the goroutine the thread's TLS designates, found the way Go's windows/amd64
code finds it (``get_tls(r)`` then ``g(r)``): ``*(*(GS + runtime.tls_g))``, none when the TLS slot
``*(GS + runtime.tls_g)`` is null. It is read from the world at entry; a call made after the code
(or a callee) wrote one of those words is not judged against the entry value (UNKNOWN instead).
"""

from __future__ import annotations

from dataclasses import dataclass

import claripy

from symabi.engine.memory import Access
from symabi.models.go_abi0 import CALLEE_MODELS, CalleeModel

TLS_G = "runtime.tls_g"  # the variable holding the TLS slot's offset from GS (set by runtime·wintls)
FACTS = "abi_internal"  # the state.globals key the contract reads


@dataclass(frozen=True)
class CurrentG:
    """The current g at entry, or why it is not known."""

    value: claripy.ast.BV | None  # 0 when the thread has no g (null TLS slot)
    words: tuple[tuple[str, int, int], ...] = ()  # (region, offset, size) of every word it was read from
    reason: str = ""


@dataclass(frozen=True)
class Facts:
    """What the contract needs to judge the calls of one path to ABIInternal callees."""

    callees: frozenset[str]
    current_g: CurrentG


GO_ABIINTERNAL = CalleeModel(
    name="go-abiinternal",
    doc="A Go function called with ABIInternal: arguments and results in registers, X15 = 0 and R14 = g at the call.",
    assumptions=(
        "takes its arguments and returns its results in registers (AX, BX, CX, DI, SI, R8-R11, X0-X14); "
        "the case's `args` are the bytes of its spill area and stack arguments above the return address",
        "may clobber every general-purpose register except RSP (conservatively BP and R14 too, although "
        "ABIInternal keeps BP and returns with R14 = g), XMM0-XMM15 (X15 too, although it returns it zeroed) "
        "and the arithmetic flags",
        "expects DF clear on entry and returns with DF clear",
        "expects X15 = 0 and R14 = the current g at the call (obligations of the contract; 0 only on a thread "
        "without a g)",
        "returns to the address on top of the stack, with RSP restored to the value at the call + 8",
        "overwrites its spill area and its stack argument and result words with fresh values, and the words "
        "the case declares it writes through a pointer argument; it writes no other memory",
        "its outputs are fresh values named by (callee, call ordinal), shared by every version",
        f"the current g is *(*(GS + {TLS_G})) as the world holds it at entry; there is none (R14 must be 0) "
        f"when the TLS slot *(GS + {TLS_G}) is null",
        "on a port whose linker fixes the g slot (ELF: FS-8, Mach-O: GS+0x30, see symabi.ports) the current g is "
        "that slot's word as the world holds it at entry; there is none when it is 0",
    ),
)
CALLEE_MODELS.setdefault(GO_ABIINTERNAL.name, GO_ABIINTERNAL)  # importing this module registers the model


class _Uncovered(Exception):
    pass


class _WorldReader:
    """Reads words of the world as the state holds them at entry, recording each (region, offset): those
    words count as read by the path. Reads never count as the code's own."""

    def __init__(self, state, guard):
        self.state, self.guard = state, guard
        self.words: list[tuple[str, int, int]] = []

    def __call__(self, address, what: str) -> claripy.ast.BV:
        where = self.guard.locate(self.state, address)
        if where is None:
            raise _Uncovered(f"{what} ({address}) is in no declared region")
        region, offset = where
        self.words.append((region, offset, 8))
        return self.state.memory.load(self.guard.address_of(Access(region, offset, 8, None)), 8,
                                      endness="Iend_LE", inspect=False)


def current_g(state, tls_address: int | None, guard, segment: str = "gs") -> CurrentG:
    """Follow get_tls/g() through the world: *(*(segment + runtime.tls_g)) (Windows' TlsAlloc slot)."""
    if tls_address is None:
        return CurrentG(None, reason=f"the code does not reference {TLS_G}, so the thread's g is not known")
    read = _WorldReader(state, guard)
    try:
        offset = read(claripy.BVV(tls_address, 64), TLS_G)
        slot = read(getattr(state.regs, segment) + offset, f"the TLS slot {segment.upper()}+{TLS_G}")
        if not slot.symbolic and slot.concrete_value == 0:
            return CurrentG(claripy.BVV(0, 64), tuple(read.words))
        return CurrentG(read(slot, "the TLS slot's g word"), tuple(read.words))
    except _Uncovered as exc:
        return CurrentG(None, tuple(read.words), f"the current g is not known: {exc}")


def direct_g(state, segment: str, offset: int | None, guard, offset_at: int | None = None) -> CurrentG:
    """The current g of a port whose TLS g slot holds g, at ``offset`` from a segment base (ELF, Mach-O),
    or at the offset the data word at ``offset_at`` holds (android's runtime.tls_g)."""
    read = _WorldReader(state, guard)
    try:
        if offset_at is not None:
            word = read(claripy.BVV(offset_at, 64), TLS_G)
            if word.symbolic:
                raise _Uncovered(f"the world gives {TLS_G} no value")
            offset = word.concrete_value
        return CurrentG(read(getattr(state.regs, segment) + offset, f"the g slot {segment.upper()}{offset:+#x}"),
                        tuple(read.words))
    except _Uncovered as exc:
        return CurrentG(None, tuple(read.words), f"the current g is not known: {exc}")


def entry_facts(callee_model: str, callees, state, image, guard, tls=None) -> dict:
    """state.globals entries for a path that starts in ``state``: none unless the callees are ABIInternal.

    The words the current g is read from count as read by the path: what the contract demands of R14
    depends on them, so world configurations that differ there are explored apart, even when the code
    itself never reads them.
    """
    if callee_model == GO_ABIINTERNAL.name:
        # a callee that loads g itself (arm64's runtime·load_g, ABI0) is not entered with ABIInternal
        go = frozenset(name for name, spec in callees.items() if not getattr(spec, "sets_g", False))
    elif image.arch.name == "arm64" and hasattr(CALLEE_MODELS.get(callee_model), "go_callees"):
        # arm64 Go code reads g from R28 in ABI0 too (its stack check loads 16(R28)): symabi check's Go callees
        # (red team 3: a host entry calling Go with the host's X28 was PROVED; the real run faulted at 0x2838)
        go = CALLEE_MODELS[callee_model].go_callees(callees)
    else:
        return {}
    if not go:
        return {}
    tls_g = image.symbols.get(TLS_G, image.stub_for(TLS_G))
    if tls is not None and tls.slot == "g":  # the slot holds g itself (symabi.ports.TlsForm)
        if tls.indirect and tls_g is None:
            g = CurrentG(None, reason=f"the code does not reference {TLS_G}, so the thread's g is not known")
        else:
            g = direct_g(state, tls.segment, tls.g_offset, guard, tls_g if tls.indirect else None)
    else:
        g = current_g(state, tls_g, guard, tls.segment if tls is not None else "gs")
    reads = tuple(Access(region, offset, size, None) for region, offset, size in g.words)
    return {FACTS: Facts(go, g), "reads": state.globals["reads"] + reads}
