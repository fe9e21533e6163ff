"""The x87 control word and MXCSR: callee-saved control state of the System V AMD64 ABI.

symabi's machine model does not track either register (VEX keeps only MXCSR's rounding mode, and no
x87 state is modelled), so the obligation is judged from the code itself: a path that executes no
instruction able to change them leaves them as the host set them (the Go callees are assumed to leave
them alone: a stated assumption of the callee models). A path that does execute one (FLDCW, FNINIT,
LDMXCSR, FXRSTOR, ...) is UNKNOWN, naming the instruction: whether the trampoline restores the value
is not modelled. The instructions are found with capstone over the assembled bytes, not from the
assembler's text.
"""

from __future__ import annotations

from functools import lru_cache

import capstone

from symabi.contracts.base import Finding, Obligation
from symabi.engine.explore import RETURNED, UNKNOWN, PathOutcome
from symabi.ports import HostAbi

FAMILY = "control-state"

# Every instruction that can write the x87 control word or MXCSR (a save that also reinitialises the
# FPU, FSAVE, counts: it resets the control word).
WRITERS = {
    "x87-control-word": frozenset({"fldcw", "fninit", "finit", "fldenv", "fnldenv", "frstor", "fsave", "fnsave",
                                   "fxrstor", "fxrstor64", "xrstor", "xrstor64", "xrstors", "xrstors64"}),
    "mxcsr": frozenset({"ldmxcsr", "vldmxcsr", "fxrstor", "fxrstor64", "xrstor", "xrstor64", "xrstors",
                        "xrstors64"}),
}
_NAMES = {"x87-control-word": "the x87 control word", "mxcsr": "MXCSR"}
_ENDS_BLOCK = frozenset({capstone.CS_GRP_JUMP, capstone.CS_GRP_CALL, capstone.CS_GRP_RET, capstone.CS_GRP_INT,
                         capstone.CS_GRP_IRET})


def obligations(abi: HostAbi) -> tuple[Obligation, ...]:
    return tuple(
        Obligation(f"preserve-{state}", state, FAMILY,
                   f"{_NAMES[state]} at return is as at entry (the code executes no instruction that changes it, "
                   "or the verdict is UNKNOWN)")
        for state in abi.control_state
    )


@lru_cache(maxsize=32)
def _scan(code: bytes, base: int, addresses: tuple[int, ...]) -> tuple[dict[int, str], dict[int, int]]:
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
        if any(ins.mnemonic == m for names in WRITERS.values() for m in names):
            writers[address] = ins.mnemonic
        previous_end = address + ins.size
        if any(g in _ENDS_BLOCK for g in ins.groups):
            start = None
    return writers, run_start


def executed_writers(path: PathOutcome, image, state: str) -> list[int]:
    """Addresses of instructions that write ``state`` and that the path may have executed: one lies in a
    straight-line run (no branch before it) that one of the path's blocks starts in."""
    addresses = tuple(sorted(image.instructions))
    writers, run_start = _scan(image.code, image.base, addresses)
    blocks = set(path.blocks)
    out = []
    for address, mnemonic in writers.items():
        if mnemonic not in WRITERS[state]:
            continue
        run = [a for a in addresses if run_start.get(a) == run_start[address] and a <= address]
        if blocks.intersection(run):
            out.append(address)
    return out


def check(ob: Obligation, path: PathOutcome, ctx) -> Finding:
    if path.kind == UNKNOWN:
        return Finding(ob, path.index, "unknown", detail=path.reason, site=path.ins_addr)
    if path.kind != RETURNED:
        return Finding(ob, path.index, "n/a", detail=path.reason or "the path never returns", site=path.ins_addr)
    hits = executed_writers(path, ctx.image, ob.location)
    if hits:
        located = ctx.image.instruction_at(hits[0])
        text = located.text if located else "an instruction"
        return Finding(ob, path.index, "unknown", site=hits[0],
                       detail=f"the path executes {text}, which changes {_NAMES[ob.location]}; whether the value "
                              "at return is the entry value is not modelled")
    return Finding(ob, path.index, "holds", site=path.ins_addr)
