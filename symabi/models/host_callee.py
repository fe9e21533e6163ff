"""Host callee models: what a call from Go code into host code (C, the OS) may do to the machine state.

One model per host ABI, built from that ABI's data (``symabi.ports.abi.HostAbi``): the registers the
ABI makes callee-saved survive the call, every other register of the architecture but the stack
pointer gets a fresh value, and so do the arithmetic flags; everything below the callee's stack
pointer and, where the ABI has one, the home area its caller reserved above the return address hold
fresh values afterwards. The callee returns to the address on top of its stack with the stack pointer
restored, and with DF clear when the ABI says so. An arm64 host ABI is one more ``HostAbi`` value:
the model reads registers, widths, the stack pointer and the home area from the data, never by name.

``callee_model = "host"`` in a case means the host model of the case's port (``for_port``).
"""

from __future__ import annotations

from dataclasses import dataclass

import claripy

from symabi.casefile import CalleeSpec
from symabi.engine.memory import Access, Havoc, MemoryGuard, UncoveredAccess, UnmodelledCallee
from symabi.engine.registers import CC_OP_COPY, FLAG_MASKS, arch_of
from symabi.errors import CaseError
from symabi.models.entry_go import GO_ENTRY
from symabi.models import host_unsaid
from symabi.models.go_abi0 import CALLEE_MODELS, clobber_uppers, fresh
from symabi.ports import HOST_ABIS, HostAbi

PORT_HOST = "host"  # the case-file name that means "the host model of the case's port"


def volatile(abi: HostAbi) -> tuple[str, ...]:
    """The registers a host callee may leave changed (``HostAbi.volatile``)."""
    return abi.volatile


def _assumptions(abi: HostAbi) -> tuple[str, ...]:
    regs = volatile(abi)
    gprs = ", ".join(r.upper() for r in regs if abi.arch.register(r).kind == "gpr")
    vectors = ", ".join(r.upper() for r in regs if abi.arch.register(r).kind == "vector")
    saved = ", ".join(c.register.upper() for c in abi.callee_saved)
    link, arch = abi.arch.link_register, abi.arch
    partial = ", ".join(f"the bits of {r.upper()} above its low {b}" for r, b in abi.partly_kept.items())
    out = [
        f"follows {abi.reference}",
        f"may clobber every volatile register: {gprs}; {vectors or 'no vector register'}"
        + (f" ({partial})" if partial else "") + "; and the flags (unless the case narrows a callee's `clobbers`)",
        *((f"may clobber the upper halves {arch.volatile_uppers[0][0].upper()}-{arch.volatile_uppers[-1][0].upper()} "
           f"keep above {arch.volatile_uppers[0][1].upper()}-{arch.volatile_uppers[-1][1].upper()} (every host ABI "
           "makes them volatile; a VZEROUPPER clears them)",) if arch.volatile_uppers else ()),
        f"keeps the callee-saved registers {saved} and the stack pointer"
        + (f"; never writes {', '.join(r.upper() for r in abi.reserved)} (the platform's)" if abi.reserved else ""),
        (f"returns to the {link.upper()} of the call, with the stack pointer as at the call" if link else
         "returns to the address on top of its stack, with the stack pointer restored to the value at the call + 8"),
        ("leaves fresh values in every byte below its stack pointer (its own frame, its red zone, whatever it "
         "calls): nothing stored below the stack pointer at the call survives it" if link else
         "leaves fresh values in every byte below its return address (its own frame, its red zone, whatever it "
         "calls): nothing stored below the stack pointer at the call survives it"),
    ]
    if abi.home_area:
        out.append(f"may write the {abi.home_area}-byte home area its caller reserves above the return address: "
                   "nothing stored there survives the call")
    out.append("takes no stack arguments (beyond the home area) unless the case gives a callee's `args` (the bytes "
               "of home area and stack arguments above its return address, arm64: from its SP up), which it may "
               "rewrite: nothing stored there survives the call; where the case gives no `args` and the code "
               "stored into the first stack-argument slot, a read after the call of what it stored from there up "
               "is UNKNOWN")
    out += [
        *(("returns with DF clear" if abi.df_clear_at_return else "may return with DF set",)
          if abi.arch.direction_flag else ()),
        "writes no memory the model holds above its home area: what it writes through its pointer arguments is "
        "the Go caller's (its argument structure, the heap), never the runtime structures the world declares; "
        "where an argument register points into the trampoline's own frame and the case gives no `writes`, a "
        "read after the call of what the code stored from there up is UNKNOWN",
        "its outputs are fresh values named by (callee, call ordinal), shared by every version",
        "a callee declared noreturn ends the path (an abort: no return obligations apply)",
    ]
    return tuple(out)


def region_base(guard: MemoryGuard, spec: CalleeSpec):
    """The base of the world region ``spec.returns_region`` (a CaseError when the world has none)."""
    base = next((r.base for r in guard.symbolic if r.name == spec.returns_region), None)
    if base is None:
        raise CaseError(f"callee {spec.name}: field `returns_region` names {spec.returns_region!r}, which is no "
                        "region of the world")
    return base


@dataclass(frozen=True)
class HostCalleeModel:
    name: str
    doc: str
    assumptions: tuple[str, ...]
    abi: HostAbi

    def apply(self, state, spec: CalleeSpec, ordinal: int, guard: MemoryGuard, site: int | None, *,
              pointers_modelled: bool = False) -> None:
        """Turn ``state`` (at the callee's first instruction) into the state after it returns.
        ``pointers_modelled``: the caller's model already havocked what it writes through its pointers."""
        if spec.model:  # a callee that is not host code (a Go helper): its own model
            own(spec, self.abi.arch.name).apply(state, spec, ordinal, guard, site)
            return
        arch = self.abi.arch
        sp = getattr(state.regs, arch.stack_pointer)
        at = guard.locate(state, sp)
        if at is None:
            raise UncoveredAccess("call", sp, 8, site, "the host callee's stack pointer is in no declared region, "
                                  "so what it leaves below it cannot be modelled")
        region, offset = at
        entry = state.globals.get(GO_ENTRY)
        if entry is not None and entry.stack == "goroutine" and region == "stack":
            raise UnmodelledCallee("the host callee runs on the Go caller's stack, which may be a goroutine's (a few "
                                   "hundred bytes below a NOSPLIT function): how deep C goes there is not modelled; "
                                   "say stack=system where every caller runs it on a system stack")
        if region != "stack" and not _is_stack(guard, region):
            # C's frame goes as deep as C likes: below a region that is no stack it writes memory the model
            # does not hold (a real run: a 256-byte C frame on a 64-byte buffer rewrote 28 words below it)
            raise UnmodelledCallee(f"the host callee runs with its stack pointer in region {region}, which is not a "
                                   "stack (no free_below): what its frame overwrites below that region is not "
                                   "modelled")
        _over_callers_saved_fp(state, region, offset, site)
        if not pointers_modelled:  # what the case says it writes through its pointers (`writes`)
            for havoc in declared_writes(state, spec, f"{spec.name}#{ordinal}", guard):
                guard.havoc(state, havoc)
        host_unsaid.mark(state, guard, self.abi, spec, region, offset, _frame_top(guard, region),
                         pointers=not pointers_modelled)
        prefix = f"{spec.name}#{ordinal}"
        low, high = guard.bounds(region)
        guard.havoc(state, Havoc(region, low, offset, lambda word: f"{prefix}.below-{offset - word:#x}"))
        # above the return address: its home area and its stack arguments (``args``), which the callee owns (gcc
        # rewrites an incoming stack argument in place for a sibling call: ``addq $1, 8(%rsp); jmp h``)
        owned = max(self.abi.home_area, spec.args)
        if owned and arch.link_register:  # arm64: the stack arguments start at SP itself
            top = min(offset + owned, high)
            guard.havoc(state, Havoc(region, offset, top, lambda word: f"{prefix}.args+{word - offset:#x}"))
        elif owned:
            top = min(offset + 8 + owned, high)
            guard.havoc(state, Havoc(region, offset + 8, top, lambda word: f"{prefix}.home+{word - offset - 8:#x}"))
        # where it returns: the word on top of the stack (amd64), or the link register at the call (arm64)
        link = arch.link_register
        back = state.registers.load(link) if link else state.memory.load(sp, 8, endness="Iend_LE")
        changed = spec.clobbers  # the case may narrow them (a runtime assembly function whose body it has read)
        for reg in self.clobbered(spec):
            if changed is None or reg in changed:
                state.registers.store(reg, self._fresh(state, spec, ordinal, reg))
        clobber_uppers(state, arch, spec.name, ordinal, changed)  # YMMn above XMMn: volatile in every host ABI
        if spec.returns_region:  # the callee returns a world region's address (__error: &errno)
            state.registers.store(arch.result, region_base(guard, spec))
        state.regs.cc_op = CC_OP_COPY
        state.regs.cc_dep1 = fresh(spec.name, ordinal, arch.flags, 64) & FLAG_MASKS[arch.flags]
        state.regs.cc_dep2 = 0
        state.regs.cc_ndep = 0
        if arch.direction_flag and self.abi.df_clear_at_return:
            state.regs.d = 1
        elif arch.direction_flag:  # either value: VEX keeps DF as +1 (clear) or -1 (set)
            df = fresh(spec.name, ordinal, "df", 1)
            state.regs.d = claripy.If(df == 1, claripy.BVV(-1, 64), claripy.BVV(1, 64))
        state.regs.ip = back
        setattr(state.regs, arch.stack_pointer, sp + arch.return_slot)

    def host_abi(self, spec: CalleeSpec) -> HostAbi | None:
        """The host ABI ``spec``'s callee follows: this model's, but for a callee that names its own model."""
        return None if spec.model else self.abi

    def clobbered(self, spec: CalleeSpec) -> tuple[str, ...]:
        """The registers the callee may leave changed: the ABI's volatile ones; for a callee whose spec says
        which registers it keeps (``keeps``, as symabi.toml may), every register of the ABI but those, the
        reserved ones and the stack pointer."""
        abi = self.abi
        if not spec.keeps or set(spec.keeps) == set(abi.callee_saved_registers):
            return volatile(abi)
        return tuple(r.name for r in abi.arch.registers if r.kind != "view" and r.name not in spec.keeps
                     and r.name not in abi.reserved and r.name != abi.arch.stack_pointer)

    def kept_low(self, spec: CalleeSpec, reg: str) -> int:
        """The low bits of ``reg`` the callee keeps: those the ABI keeps (AAPCS64: D8-D15 of V8-V15), unless
        the callee's ``keeps`` leaves that part out."""
        for c in self.abi.callee_saved:
            part = self.abi.arch.register(c.register)
            if part.within == reg and c.bits < self.abi.arch.width(reg):
                return c.bits if not spec.keeps or c.register in spec.keeps else 0
        return 0

    def _fresh(self, state, spec: CalleeSpec, ordinal: int, reg: str):
        """A fresh value for ``reg``, but for the low bits the callee keeps (``kept_low``)."""
        bits = self.abi.arch.width(reg)
        kept = self.kept_low(spec, reg)
        if not kept:
            return fresh(spec.name, ordinal, reg, bits)
        old = state.registers.load(reg)
        return claripy.Concat(fresh(spec.name, ordinal, f"{reg}.high", bits - kept), old[kept - 1:0])


def declared_writes(state, spec: CalleeSpec, prefix: str, guard: MemoryGuard):
    """Havocs of the words the case says a callee writes through its pointers (``writes``): through an argument
    register, or a stack argument word (above the return address on amd64; from SP up on arm64, where AAPCS64's
    stack arguments start: red team 4, the pointer was read 8 bytes off, from the next argument), as they are at
    the call."""
    arch = arch_of(state)
    for w in spec.writes:
        if w.register and arch.link_register:
            raise CaseError(f"callee {spec.name}: `writes` names register {w.register}, a System V register; on arm64 "
                            "a write through a register argument cannot be declared yet (docs/check.md, Known limits)")
        pointer = state.registers.load(w.register) if w.register else \
            state.memory.load(state.regs.sp + arch.return_slot + w.pointer_at, 8, endness="Iend_LE")
        yield from span(state, guard, prefix, w.pointer_at, pointer, w.offset, w.size)


def span(state, guard: MemoryGuard, prefix: str, at: int, pointer, offset: int, size: int):
    """The havoc of ``size`` bytes at ``pointer`` + ``offset`` (argument slot ``at``), where the model places it."""
    where = guard.locate(state, pointer)
    if where is None and size and any(host_unsaid.unplaced(guard, pointer, r.name) for r in guard.symbolic):
        # a declared write through a pointer into a region at an offset the model cannot place (red team 4:
        # SP + (x & 8)) may land on any word there
        raise UncoveredAccess("write", pointer + offset, size, None,
                              f"{prefix} writes through its argument word {at:#x}, which points into a region at an "
                              "offset the model cannot place")
    if where is not None and size:
        region, start = where
        yield Havoc(region, start + offset, start + offset + size,
                    lambda word, start=start: f"{prefix}.*frame+{at:#x}+{word - start:#x}")


def _frame_top(guard: MemoryGuard, region: str) -> int:
    """Where the trampoline's own frame ends in a stack region: the entry stack pointer, or another stack's
    free-space limit (``free_below``)."""
    return 0 if region == "stack" else next(
        (r.free_below for r in (*guard.symbolic, *guard.fixed) if r.name == region and r.free_below), 0)


def _is_stack(guard: MemoryGuard, region: str) -> bool:
    """Whether a world region is declared as a stack (``free_below``: g0's stack, a signal stack)."""
    return any(r.name == region and r.free_below for r in (*guard.symbolic, *guard.fixed))


def _over_callers_saved_fp(state, region: str, offset: int, site: int | None) -> None:
    """A host callee whose frame covers the word right below the entry SP, where a Go arm64 caller saved its frame
    pointer (its epilogue reloads R29 from there: ``MOVD -8(RSP), R29``), overwrites it: recorded as a store of
    that word at the call, which the go-to-host contract's stack-writes obligation judges."""
    entry = state.globals.get(GO_ENTRY)
    if entry is not None and entry.saved_fp_below and region == "stack" and offset > -entry.saved_fp_below:
        state.globals["writes"] = state.globals["writes"] + (
            Access("stack", -entry.saved_fp_below, entry.saved_fp_below, site),)


def host_model(abi: HostAbi) -> HostCalleeModel:
    return HostCalleeModel(
        name=f"host-{abi.name}",
        doc=f"A host function (C, the OS) called under the {abi.name} ABI: callee-saved registers survive, "
            "volatile ones and everything below its stack pointer do not.",
        assumptions=_assumptions(abi),
        abi=abi,
    )


HOST_CALLEE_MODELS = {m.name: m for m in (host_model(abi) for abi in HOST_ABIS.values())}
for _model in HOST_CALLEE_MODELS.values():
    CALLEE_MODELS.setdefault(_model.name, _model)  # importing this module registers the models


def own(spec: CalleeSpec, goarch: str):
    """The model a callee names for itself (``model = "go-abi0"``), the arm64 one on arm64."""
    from symabi.models.go_arm64 import for_arch  # that module imports the Go models this one extends

    if spec.model not in CALLEE_MODELS or is_host(spec.model):
        raise CaseError(f"callee {spec.name}: field `model` names {spec.model!r}; known: "
                        f"{', '.join(sorted(n for n in CALLEE_MODELS if not is_host(n)))}")
    return for_arch(CALLEE_MODELS[spec.model], goarch)


def is_host(name: str) -> bool:
    return name == PORT_HOST or name in HOST_CALLEE_MODELS


def for_port(name: str, port) -> str:
    """A case's callee model name with ``host`` resolved to its port's host ABI (``host-windows-x64``)."""
    if name == PORT_HOST and port.abi is not None:
        return f"host-{port.abi.name}"
    return name


def abi_of(name: str) -> HostAbi | None:
    model = HOST_CALLEE_MODELS.get(name)
    return model.abi if model else None
