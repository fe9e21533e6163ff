"""An adversarial Go callee: on each call it does everything a Go function may do to its caller.

    registers   every GPR but RSP, XMM0-15 (all 128 bits, and the YMM upper halves above them) and the
                arithmetic flags get fresh values;
                DF stays clear (the Go ABI)
    own frame   a random-size frame (4 KiB to 16 KiB, bounded by the stack RSP is in) below its RSP is
                filled with random bytes: its prologue, its locals, the frames of what it calls
    frame words its argument and result words are overwritten
    pointers    through each argument word that points into writable memory, random bytes from the
                pointer to the end of that region (on the stack: to the top of the modelled window);
                where the case declares the callee's ``writes``, exactly those words instead

A witness fixes any of these by name (``symabi.replay.inputs``); everything else comes from the run's
seed. A callee declared ``noreturn`` ends the run (a deliberate end).
"""

from __future__ import annotations

import unicorn.x86_const as X

from symabi.casefile import CalleeSpec
from symabi.replay.constants import ARITH_FLAGS_MASK, DF_BIT, GPRS, XMMS
from symabi.replay.inputs import callee_name, default_bytes, rng_for

MIN_FRAME, MAX_FRAME = 0x1000, 0x4000
_REG = {r: getattr(X, f"UC_X86_REG_{r.upper()}") for r in GPRS + XMMS}
_YMM = tuple(getattr(X, f"UC_X86_REG_YMM{i}") for i in range(len(XMMS)))


X87_EMPTY = 0xFFFF  # the x87 tag word with every register empty (two bits each, 0b11: empty)


def x87_in_use(uc) -> int:
    """How many of the eight x87 registers hold a value (unicorn's tag word; 8 after an MMX instruction)."""
    tags = uc.reg_read(X.UC_X86_REG_FPTAG)
    return sum(1 for i in range(8) if (tags >> 2 * i) & 3 != 3)


def call(machine, name: str) -> int | None:
    """Emulate one call into ``name``; the address to continue at, or None when the run ends here."""
    from symabi.replay.machine import ABORTED, ERROR, ConcreteCall

    uc, site = machine.uc, machine.last
    spec = machine.callees.get(name)
    if spec is None:
        machine._end(ERROR, f"call to {name}, which the case does not declare")
        return None
    ordinal = 1 + sum(1 for c in machine.calls if c.callee == name)
    sp = uc.reg_read(X.UC_X86_REG_RSP)
    args = _words(machine, sp + 8, spec.args, name)
    if args is None:
        return None
    df = bool(uc.reg_read(X.UC_X86_REG_RFLAGS) & DF_BIT)
    registers = {r: uc.reg_read(_REG[r]) for r in GPRS + XMMS}
    x87 = x87_in_use(uc)
    if spec.noreturn:
        machine.calls.append(ConcreteCall(name, ordinal, site, df, sp, args, registers, x87_in_use=x87))
        machine._end(ABORTED, f"{name} does not return")
        return None
    frame = _own_frame(machine, name, ordinal, sp, site)
    machine.calls.append(ConcreteCall(name, ordinal, site, df, sp, args, registers, frame, x87_in_use=x87))
    host, writes = _host_model(machine, spec)
    if host is not None:
        if writes and spec.writes and not _through_pointers(machine, spec, name, ordinal, sp, args, site, registers):
            return None
        return _host(machine, host, spec, name, ordinal, sp, site)
    _clobber_registers(machine, name, ordinal, spec.keeps)
    if not _frame_words(machine, spec, name, ordinal, sp, site):
        return None
    if not _through_pointers(machine, spec, name, ordinal, sp, args, site, registers):
        return None
    ret = _words(machine, sp, 8, name)
    if ret is None:
        return None
    uc.reg_write(X.UC_X86_REG_RSP, sp + 8)
    uc.reg_write(X.UC_X86_REG_RIP, ret[0])
    return ret[0]


def _words(machine, address: int, size: int, who: str) -> tuple[int, ...] | None:
    if size and machine.check("read", address, size, write=False, who=who) is None:
        return None
    data = bytes(machine.uc.mem_read(address, size)) if size else b""
    return tuple(int.from_bytes(data[i: i + 8], "little") for i in range(0, size, 8))


def _fill(machine, address: int, data: bytes, who: str, site: int | None, kind: str) -> bool:
    region = machine.check("write", address, len(data), write=True, who=who)
    if region is None:
        return False
    machine.uc.mem_write(address, data)
    machine.record(address, len(data), region, site, who, kind)
    return True


def _overrides(machine, name: str, ordinal: int, prefix: str) -> dict[str, int]:
    """The callee outputs a witness fixes whose names start with ``<callee>#<n>.<prefix>``."""
    head = callee_name(name, ordinal, prefix)
    return {k[len(head):]: v for k, v in machine.inputs.callees.items() if k.startswith(head)}


def _own_frame(machine, name: str, ordinal: int, sp: int, site: int | None) -> int:
    """Random bytes over a random-size frame below the callee's RSP; returns its size."""
    region = machine.region(sp - 1, 1)
    if region is None or not region.writable:
        return 0
    size = rng_for(machine.inputs.seed, callee_name(name, ordinal, "frame-size")).randrange(MIN_FRAME, MAX_FRAME + 1, 8)
    size = min(size, sp - region.start)
    data = bytearray(default_bytes(machine.inputs.seed, callee_name(name, ordinal, "below"), size))
    for depth_text, value in _overrides(machine, name, ordinal, "below-").items():
        depth = int(depth_text, 16)
        if 8 <= depth <= size and depth % 8 == 0:
            data[size - depth: size - depth + 8] = (value & (2**64 - 1)).to_bytes(8, "little")
    _fill(machine, sp - size, bytes(data), name, site, "frame")
    return size


def _clobber_registers(machine, name: str, ordinal: int, keeps: tuple[str, ...] = ()) -> None:
    """Every register but RSP and those the callee keeps (a host-ABI callee: the host's callee-saved)."""
    uc, value = machine.uc, machine.inputs.callee_value
    for reg in GPRS:
        if reg != "rsp" and reg not in keeps:
            uc.reg_write(_REG[reg], value(name, ordinal, reg, 64))
    for reg in XMMS:
        if reg not in keeps:
            uc.reg_write(_REG[reg], value(name, ordinal, reg, 128))
    _clobber_uppers(machine, name, ordinal)
    flags = uc.reg_read(X.UC_X86_REG_RFLAGS) & ~(ARITH_FLAGS_MASK | DF_BIT)
    uc.reg_write(X.UC_X86_REG_RFLAGS, flags | (value(name, ordinal, "rflags", 64) & ARITH_FLAGS_MASK))


def _clobber_uppers(machine, name: str, ordinal: int) -> None:
    """The AVX upper halves (YMMn above XMMn): no ABI keeps them across a call."""
    uc, value = machine.uc, machine.inputs.callee_value
    for i, reg in enumerate(XMMS):
        uc.reg_write(_YMM[i], value(name, ordinal, f"ymm{i}.high", 128) << 128 | uc.reg_read(_REG[reg]))


def _frame_words(machine, spec: CalleeSpec, name: str, ordinal: int, sp: int, site: int | None) -> bool:
    value, frame = machine.inputs.callee_value, spec.args + spec.results
    for off in range(0, frame, 8):
        size = min(8, frame - off)
        word = value(name, ordinal, f"frame+{off:#x}", size * 8).to_bytes(size, "little")
        if not _fill(machine, sp + 8 + off, word, name, site, "frame"):
            return False
    return True


def _through_pointers(machine, spec: CalleeSpec, name: str, ordinal: int, sp: int, args: tuple[int, ...],
                      site: int | None, registers: dict[str, int] | None = None) -> bool:
    value = machine.inputs.callee_value
    if spec.writes:  # the case narrows what the callee writes: exactly these words
        for w in spec.writes:
            pointer = (registers or {}).get(w.register, 0) if w.register else args[w.pointer_at // 8]
            word = value(name, ordinal, f"*frame+{w.pointer_at:#x}+{w.offset:#x}", w.size * 8)
            if not _fill(machine, (pointer + w.offset) & (2**64 - 1), word.to_bytes(w.size, "little"), name, site,
                         "declared"):
                return False
        return True
    for index, pointer in enumerate(args):
        end = _reach(machine, pointer)
        if end is None:
            continue
        at = 8 * index
        data = bytearray(default_bytes(machine.inputs.seed, callee_name(name, ordinal, f"*frame+{at:#x}"),
                                       end - pointer))
        for off_text, v in _overrides(machine, name, ordinal, f"*frame+{at:#x}+").items():
            off = int(off_text, 16)
            if off + 8 <= len(data):
                data[off: off + 8] = (v & (2**64 - 1)).to_bytes(8, "little")
        if not _fill(machine, pointer, bytes(data), name, site, "through"):
            return False
    return True


def _reach(machine, pointer: int) -> int | None:
    """Where writes through ``pointer`` may go up to: the end of the writable region it points into
    (the stack: the top of the modelled window); None when it points into nothing writable."""
    region = machine.region(pointer, 1)
    if region is None or not region.writable:
        return None
    if region is machine.stack:
        return machine.window_top if pointer < machine.window_top else None
    return region.start + region.size


def _host_model(machine, spec: CalleeSpec):
    """The host callee model (symabi.models.host_callee) of a callee that is host code: every callee of a
    ``host-<abi>`` case; under symabi check's model, a callee whose spec keeps registers (crosscall2, a C
    function), with whether it writes the words its spec declares (check's callees do). None for Go code."""
    from symabi.models import CALLEE_MODELS
    from symabi.models.host_callee import HostCalleeModel

    model = CALLEE_MODELS.get(machine.callee_model)
    if isinstance(model, HostCalleeModel):  # it writes what `writes` declares, as the symbolic model does
        return model, True
    host = getattr(model, "host", None)  # symabi.models.check_callees.CheckCallees: it writes what `writes` declares too
    return (host, True) if host is not None and model.host_abi(spec) is not None else (None, False)


def _host(machine, model, spec: CalleeSpec, name: str, ordinal: int, sp: int, site: int | None) -> int | None:
    """The rest of a call into host code (``model``, symabi.models.host_callee): the registers it keeps
    survive (the ABI's callee-saved ones), every other register but RSP and the arithmetic flags get fresh
    values (the YMM upper halves too), DF is clear; the home area above the return address (Windows x64)
    and the stack arguments (``spec.args`` bytes from the return address + 8, home area included) are
    overwritten; nothing else is written."""
    abi, args = model.abi, spec.args
    uc, value = machine.uc, machine.inputs.callee_value
    clobbered = set(model.clobbered(spec))
    for reg in GPRS + XMMS:
        if reg in clobbered:
            uc.reg_write(_REG[reg], value(name, ordinal, reg, 128 if reg in XMMS else 64))
    _clobber_uppers(machine, name, ordinal)
    if spec.returns_region:  # the address of a world region (__error: &errno), as the model has it
        uc.reg_write(X.UC_X86_REG_RAX, machine.placed.bases[spec.returns_region])
    flags = uc.reg_read(X.UC_X86_REG_RFLAGS) & ~(ARITH_FLAGS_MASK | DF_BIT)
    uc.reg_write(X.UC_X86_REG_RFLAGS, flags | (value(name, ordinal, "rflags", 64) & ARITH_FLAGS_MASK))
    owned = max(abi.home_area, args)
    if owned:
        region = machine.region(sp + 8, owned)
        if region is not None and region.writable:  # else: no home area to write (the obligation's business)
            words = b"".join(value(name, ordinal, f"home+{o:#x}", 64).to_bytes(8, "little")
                             for o in range(0, owned, 8))
            machine.uc.mem_write(sp + 8, words)
            machine.record(sp + 8, owned, region, site, name, "home")
    ret = _words(machine, sp, 8, name)
    if ret is None:
        return None
    uc.reg_write(X.UC_X86_REG_RSP, sp + 8)
    uc.reg_write(X.UC_X86_REG_RIP, ret[0])
    return ret[0]
