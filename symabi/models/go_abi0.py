"""Callee models: what a call from the trampoline into Go may do to the machine state."""

from __future__ import annotations

from dataclasses import dataclass

import claripy

from symabi.casefile import CalleeSpec
from symabi.engine import provenance
from symabi.engine.memory import Access, Havoc, HostChosenWrite, MemoryGuard, UncoveredAccess, WildWrite
from symabi.engine.registers import CC_OP_COPY, FLAG_MASKS, arch_of


@dataclass(frozen=True)
class CallEvent:
    """One call into Go on a path, as the contract and reports need it."""

    callee: str
    ordinal: int  # 1 for the first call to this callee on the path, 2 for the second, ...
    site: int | None  # address of the CALL (or JMP) instruction
    df_set: claripy.ast.Bool  # DF at the moment control entered the callee
    rsp: claripy.ast.BV  # the stack pointer on entry to the callee (amd64: pointing at its return address)
    frame: tuple[claripy.ast.BV, ...]  # the callee's argument words as passed
    registers: dict[str, claripy.ast.BV]  # every general-purpose and vector register at the call
    memory: tuple  # (Access, value) for each word written so far outside the trampoline's own frame
    pointees: dict[int, tuple[claripy.ast.BV, ...]]  # argument offset -> the words it points to
    x87_in_use: claripy.ast.BV | None = None  # how many x87 registers hold a value (amd64), None without x87


def fresh(callee: str, ordinal: int, what: str, bits: int) -> claripy.ast.BV:
    """A callee output, named by (callee, ordinal) so every version of a trampoline sees the same one."""
    return claripy.BVS(f"{callee}#{ordinal}.{what}", bits, explicit_name=True)


def clobber_uppers(state, arch, callee: str, ordinal: int, changed=None) -> None:
    """Fresh bits above each vector register that has wider views (amd64: YMMn above XMMn), which no ABI keeps
    across a call (Go's and C's AVX code ends with VZEROUPPER); ``changed``: the case's narrowed clobbers."""
    for wide, vector in arch.volatile_uppers:
        if changed is None or wide in changed or vector in changed:
            low = state.registers.load(vector)
            high = fresh(callee, ordinal, f"{wide}.high", state.registers.load(wide).length - low.length)
            state.registers.store(wide, claripy.Concat(high, low))


@dataclass(frozen=True)
class CalleeModel:
    name: str
    doc: str
    assumptions: tuple[str, ...]
    kept: tuple[str, ...] = ()  # registers besides the stack pointer the callee never writes (arm64: X18)
    reserved_below: int = 0  # bytes right below its entry SP it never writes (arm64: its caller's saved FP)
    g_register: str | None = None  # the register holding g across every Go call (arm64: x28), None on amd64

    def apply(self, state, spec: CalleeSpec, ordinal: int, guard: MemoryGuard, site: int | None) -> None:
        """Turn ``state`` (at the callee's first instruction) into the state after it returns."""
        frame_bytes = spec.args + spec.results
        arch = arch_of(state)
        sp = state.regs.sp
        at = guard.locate(state, sp)
        if at is None:
            raise UncoveredAccess("call", sp, 8, site, "the callee's stack pointer is in no declared region, so "
                                  "what it leaves below it cannot be modelled")
        prefix = f"{spec.name}#{ordinal}"
        # Read the pointers before the frame words are overwritten: the callee received the originals.
        arguments = [(offset, state.memory.load(sp + 8 + offset, 8, endness="Iend_LE"))
                     for offset in range(0, spec.args - 7, 8)]
        for havoc in reached(state, guard, list(self._pointer_havocs(state, spec, prefix, arguments, guard, site)),
                             prefix, spec.narrowed):
            guard.havoc(state, havoc)
        # Every Go function builds its frame below its return address: nothing there survives the call.
        region, offset = at
        low, _ = guard.bounds(region)
        guard.havoc(state, Havoc(region, low, offset - self.reserved_below,
                                 lambda word: f"{prefix}.below-{offset - word:#x}"))
        # Where it returns: the word on top of the stack (amd64), or the link register at the call (arm64).
        link = arch.link_register
        back = state.registers.load(link) if link else state.memory.load(sp, 8, endness="Iend_LE")
        changed = spec.clobbers  # the case may narrow them (a runtime assembly function it has read)
        for reg in arch.gprs:
            if reg != arch.stack_pointer and reg not in self.kept and reg != self.g_register and \
                    reg not in spec.keeps and (changed is None or reg in changed):
                state.registers.store(reg, fresh(spec.name, ordinal, reg, 64))
        if self.g_register and spec.sets_g:
            g = _thread_g(state)
            state.registers.store(self.g_register, fresh(spec.name, ordinal, self.g_register, 64) if g is None else g)
        for reg in arch.vectors:
            if reg not in spec.keeps and (changed is None or reg in changed):
                state.registers.store(reg, fresh(spec.name, ordinal, reg, 128))
        clobber_uppers(state, arch, spec.name, ordinal, changed)
        state.regs.cc_op = CC_OP_COPY
        state.regs.cc_dep1 = fresh(spec.name, ordinal, arch.flags, 64) & FLAG_MASKS[arch.flags]
        state.regs.cc_dep2 = 0
        state.regs.cc_ndep = 0
        if arch.direction_flag:
            state.regs.d = 1
        for offset in range(0, frame_bytes, 8):
            size = min(8, frame_bytes - offset)
            word = fresh(spec.name, ordinal, f"frame+{offset:#x}", size * 8)
            state.memory.store(sp + 8 + offset, word, size=size, endness="Iend_LE")
        state.regs.ip = back
        state.regs.sp = sp + arch.return_slot

    @staticmethod
    def _pointer_havocs(state, spec: CalleeSpec, prefix: str, arguments, guard: MemoryGuard, site: int | None):
        """What the callee may write through its pointer arguments: by default everything each one
        reaches up to the end of the region it points into; only what the case declares when the case
        narrows it (``writes`` with its ``writes_reason``)."""
        for at, pointer in arguments:
            declared = [w for w in spec.writes if w.pointer_at == at]
            if spec.narrowed and not declared:
                continue
            places = _places(state, guard, pointer)
            if places is None:
                _unplaced_pointer(spec, at, pointer, declared, guard, site)
                continue  # the host's own pointer, or not a pointer: nothing the model holds changes
            for region, start in places:
                _, high = guard.bounds(region)
                spans = [(start + w.offset, start + w.offset + w.size) for w in declared] if spec.narrowed \
                    else [(start, high)]
                for low, end in spans:
                    yield Havoc(region, low, end,
                                lambda word, at=at, start=start: f"{prefix}.*frame+{at:#x}+{word - start:#x}")


def _places(state, guard: MemoryGuard, pointer) -> list[tuple[str, int]] | None:
    """Every (region, offset) the pointer may be: one place, or, for a value the code selected (CMOV, CSEL:
    ``If(c, a, b)``), the places of both alternatives, each written as if the callee wrote there (a havoc
    keeps no old value, so writing both over-approximates writing one). None when some alternative has no
    place."""
    where = guard.locate(state, pointer)
    if where is not None:
        return [where]
    if getattr(pointer, "op", None) != "If":
        return None
    alternatives = [_places(state, guard, branch) for branch in pointer.args[1:]]
    return None if None in alternatives else [p for places in alternatives for p in places]


def reached(state, guard: MemoryGuard, havocs: list[Havoc], prefix: str, narrowed: bool) -> list[Havoc]:
    """``havocs`` (what a callee writes through its pointer arguments) and what the pointers the code itself
    stored there reach, transitively, each up to the end of its region: a callee handed &ctx writes *ctx->p
    too (red team 3: a C and a Go callee wrote through the pointer to the trampoline's save slot that the
    trampoline had left in ctx; the model kept the slot). The pointers the world lays down (g.m, m.g0, ...)
    are the case's model of the runtime and are not followed. Read before any of them is applied: the callee
    sees the memory as it was at the call. Nothing is added when the case narrows the writes
    (``writes_reason`` says what they are)."""
    if narrowed:
        return havocs
    out, todo = list(havocs), list(havocs)
    stores = {(a.region, a.offset + k) for a in state.globals["writes"] for k in range(0, a.size - 7, 8)}
    while todo:
        span = todo.pop()
        base = guard.address_of(Access(span.region, 0, 8, None))
        for region, at in sorted(stores):
            if region != span.region or not span.low <= at <= span.high - 8:
                continue
            where = guard.locate(state, state.memory.load(base + at, 8, endness="Iend_LE", inspect=False))
            if where is None or any(h.region == where[0] and h.low <= where[1] < h.high for h in out):
                continue
            hop = Havoc(where[0], where[1], guard.bounds(where[0])[1],
                        lambda w, r=where[0]: f"{prefix}.reached.{r}{w:+#x}")
            out.append(hop)
            todo.append(hop)
    return out


def _unplaced_pointer(spec: CalleeSpec, at: int, pointer, declared, guard: MemoryGuard, site: int | None):
    """A pointer argument no region places. Left alone when nothing says the callee writes through it: the
    host's own pointer passed on (the callee writes host memory, which the model does not hold), or a word
    that is no pointer (a count, a word nobody wrote). But a write the case declares goes through it for
    certain, and a pointer into a region at an offset the model cannot place may reach anything there,
    save slots included: a wild write when only the host's values decide where (writes-owned-memory
    judges it), else a gap the case must close."""
    origin = provenance.origin(pointer)
    in_region = any(pointer.variables & r.base.variables for r in guard.symbolic)
    if not declared and not in_region:
        return
    w = declared[0] if declared else None
    offset, size = (w.offset, w.size) if w else (0, 8)
    if origin is not None and not in_region:
        raise HostChosenWrite(WildWrite(pointer + offset, size, site))
    raise UncoveredAccess("write", pointer + offset, size, site,
                          f"{spec.name} writes through its argument word {at:#x}, which points at no place the "
                          "model can locate (declare the region it points into in the world)")


def _thread_g(state):
    """The thread's g as the world holds it at entry (recorded for ABIInternal callees), or None."""
    from symabi.models.go_abiinternal import FACTS  # that module imports this one

    facts = state.globals.get(FACTS)
    return facts.current_g.value if facts is not None else None


GO_ABI0 = CalleeModel(
    name="go-abi0",
    doc="A Go function called with ABI0: arguments and results in stack words above the return address.",
    assumptions=(
        "may clobber every general-purpose register except RSP (BP included: it is caller-save in ABI0), "
        "except those a callee declares it keeps (`keeps`: a host-ABI callee such as crosscall2 keeps the "
        "host's callee-saved registers)",
        "may clobber XMM0-XMM15 (all 128 bits) and the arithmetic flags",
        "expects DF clear on entry and returns with DF clear",
        "leaves MXCSR and the x87 control word as it found them",
        "returns to the address on top of the stack, with RSP restored to the value at the call + 8",
        "overwrites its own argument and result words (sizes declared per callee in the case file) "
        "with fresh values",
        "leaves fresh values in every byte below its return address (its own frame and whatever it calls): "
        "nothing stored below the stack pointer at the call survives it",
        "may write anything each pointer argument reaches, up to the end of the region it points into "
        "(the stack, a runtime structure), and what the pointers stored there reach (transitively), unless the case narrows that to declared words with a reason; "
        "it writes no other modelled memory: an argument word that points into no region (the host's own "
        "pointer, a count, a word nobody wrote) is written through only where the case declares a write, "
        "which then lands where the word's value says (writes-owned-memory judges it)",
        "its outputs are fresh values named by (callee, call ordinal), shared by every version",
        "a callee declared noreturn ends the path (an abort: no return obligations apply)",
    ),
)

CALLEE_MODELS: dict[str, CalleeModel] = {GO_ABI0.name: GO_ABI0}
