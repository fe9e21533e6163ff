"""Which instructions a path may have executed that write a piece of state no model tracks (the x87
control word, MXCSR, FPCR, arm64's X18), found with capstone over the assembled bytes.

An instruction counts when it lies in a straight-line run (no branch before it) that one of the path's
blocks starts in.
"""

from __future__ import annotations

from functools import lru_cache

import capstone

# Every instruction that can write the x87 control word or MXCSR (a save that also reinitialises the
# FPU, FSAVE, counts: it resets the control word).
X86_WRITERS = {
    "x87-control-word": frozenset({"fldcw", "fninit", "finit", "fldenv", "fnldenv", "frstor", "fsave", "fnsave",
                                   "fxrstor", "fxrstor64", "xrstor", "xrstor64", "xrstors", "xrstors64"}),
    "mxcsr": frozenset({"ldmxcsr", "vldmxcsr", "fxrstor", "fxrstor64", "xrstor", "xrstor64", "xrstors",
                        "xrstors64"}),
}
_X86_ENDS_BLOCK = frozenset({capstone.CS_GRP_JUMP, capstone.CS_GRP_CALL, capstone.CS_GRP_RET, capstone.CS_GRP_INT,
                             capstone.CS_GRP_IRET})


@lru_cache(maxsize=32)
def _x86_scan(code: bytes, base: int, addresses: tuple[int, ...]) -> tuple[dict[int, str], dict[int, int]]:
    """(address -> mnemonic of each control-state writer, address -> start of its straight-line run)."""
    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    md.detail = True
    writers: dict[int, str] = {}
    run_start: dict[int, int] = {}
    start = None
    previous_end = None
    for address in addresses:
        ins = next(md.disasm(code[address - base:][:16], address, 1), None)
        if ins is None:
            start = None
            continue
        if start is None or previous_end != address:
            start = address
        run_start[address] = start
        if any(ins.mnemonic == m for names in X86_WRITERS.values() for m in names):
            writers[address] = ins.mnemonic
        previous_end = address + ins.size
        if any(g in _X86_ENDS_BLOCK for g in ins.groups):
            start = None
    return writers, run_start


def x86_writers(blocks, image, state: str) -> list[int]:
    """Addresses of amd64 instructions writing ``state`` ("x87-control-word", "mxcsr") the path may run."""
    addresses = tuple(sorted(image.instructions))
    writers, run_start = _x86_scan(image.code, image.base, addresses)
    blocks = set(blocks)
    out = []
    for address, mnemonic in writers.items():
        if mnemonic not in X86_WRITERS[state]:
            continue
        run = [a for a in addresses if run_start.get(a) == run_start[address] and a <= address]
        if blocks.intersection(run):
            out.append(address)
    return out


@lru_cache(maxsize=32)
def _arm64_writes(code: bytes, base: int, addresses: tuple[int, ...]) -> dict[int, tuple[frozenset[str], bool]]:
    """address -> (registers the instruction writes, whether it ends a straight-line run)."""
    md = capstone.Cs(capstone.CS_ARCH_ARM64, capstone.CS_MODE_ARM)
    md.detail = True
    out = {}
    for address in addresses:
        ins = next(md.disasm(code[address - base:][:4], address, 1), None)
        if ins is None:
            out[address] = (frozenset(), True)
            continue
        written = frozenset(ins.reg_name(r) for r in ins.regs_access()[1])
        if ins.mnemonic == "msr" and ins.op_str.split(",")[0].strip() == "fpcr":
            written |= {"fpcr"}  # a system register capstone does not list among the written ones
        ends = any(g in (capstone.CS_GRP_JUMP, capstone.CS_GRP_CALL, capstone.CS_GRP_RET) for g in ins.groups)
        out[address] = (written, ends)
    return out


def arm64_writers(blocks, image, register: str) -> list[int]:
    """Addresses of arm64 instructions writing ``register`` (or its W view, or "fpcr") the path may run."""
    addresses = tuple(sorted(image.instructions))
    table = _arm64_writes(image.code, image.base, addresses)
    hits = set()
    for block in set(blocks):
        address = block
        while address in table:
            written, ends = table[address]
            if register in written or register.replace("x", "w", 1) in written:
                hits.add(address)
            if ends:
                break
            address += 4
    return sorted(hits)


def executed_writers(blocks, image, state: str) -> list[int]:
    """The writers of ``state`` on a path through ``blocks`` of ``image`` (either architecture)."""
    if image.arch.name == "arm64":
        return arm64_writers(blocks, image, state)
    return x86_writers(blocks, image, state)
