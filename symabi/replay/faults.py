"""What the hardware would fault on where unicorn does not: misaligned 16-byte SSE memory operands.

Unicorn executes MOVAPS / MOVDQA / a legacy-SSE m128 operand at any address; a real CPU raises #GP
unless the address is 16-byte aligned. ``AlignmentCheck`` decodes each instruction once (capstone)
and says, before it runs, whether its memory operand is misaligned for the current registers.
``alignment_check`` gives every replay of one image the same one (decoding bytes gives the same
instruction every time), so a witness replayed under several seeds decodes its instructions once.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import capstone
import capstone.x86 as CX
import unicorn.x86_const as X

# Legacy-SSE instructions whose m128 operand may be unaligned (the rest require 16-byte alignment).
_UNALIGNED_SSE = frozenset({"movups", "movupd", "movdqu", "lddqu", "maskmovdqu", "pcmpestri", "pcmpestrm",
                            "pcmpistri", "pcmpistrm"})
# VEX-encoded instructions keep the requirement only for these.
_ALIGNED_VEX = frozenset({"vmovaps", "vmovapd", "vmovdqa", "vmovntps", "vmovntpd", "vmovntdq", "vmovntdqa"})
# Other instructions whose memory operand must be 16-byte aligned.
_ALIGNED_OTHER = frozenset({"fxsave", "fxrstor", "fxsave64", "fxrstor64", "cmpxchg16b"})
POPF = frozenset({"popfq", "popf", "popfd", "iretq", "iret", "iretd"})

INTERRUPTS = {  # vector -> how a real CPU names the exception
    0: "#DE (divide error)",
    1: "#DB (debug: single step)",
    4: "#OF (overflow)",
    5: "#BR (bound range)",
    6: "#UD (invalid opcode)",
    13: "#GP (general protection)",
    14: "#PF (page fault)",
    17: "#AC (alignment check)",
    19: "#XM (SIMD floating point)",
}


@dataclass(frozen=True)
class MemoryOperand:
    base: int  # unicorn register id, 0 for none
    index: int
    scale: int
    disp: int
    segment: str  # "", "fs", "gs"
    rip_relative: bool


@dataclass(frozen=True)
class Decoded:
    mnemonic: str
    size: int
    aligned: MemoryOperand | None  # the operand that must be 16-byte aligned, if any


def _needs_alignment(mnemonic: str, operand_size: int) -> bool:
    if mnemonic in _ALIGNED_OTHER or mnemonic in _ALIGNED_VEX:
        return True
    if mnemonic.startswith("v"):
        return False
    return operand_size == 16 and mnemonic not in _UNALIGNED_SSE


def _unicorn_reg(cs, reg: int) -> int:
    return 0 if reg == 0 else getattr(X, f"UC_X86_REG_{cs.reg_name(reg).upper()}")


@functools.lru_cache(maxsize=32)
def alignment_check(code: bytes, base: int) -> AlignmentCheck:
    """The decoder of the image ``code`` at ``base``, shared by its replays (it keeps nothing but decodings)."""
    return AlignmentCheck(code, base)


class AlignmentCheck:
    def __init__(self, code: bytes, base: int):
        self.code, self.base = code, base
        self.cs = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
        self.cs.detail = True
        self._cache: dict[int, Decoded | None] = {}

    def decode(self, address: int) -> Decoded | None:
        if address not in self._cache:
            self._cache[address] = self._decode(address)
        return self._cache[address]

    def _decode(self, address: int) -> Decoded | None:
        offset = address - self.base
        insn = next(self.cs.disasm(self.code[offset: offset + 16], address, 1), None)
        if insn is None:
            return None
        return Decoded(insn.mnemonic, insn.size, self._aligned_operand(insn))

    @staticmethod
    def _aligned_operand(insn) -> MemoryOperand | None:
        for op in insn.operands:
            if op.type != CX.X86_OP_MEM or not _needs_alignment(insn.mnemonic, op.size):
                continue
            mem = op.mem
            rip = mem.base == CX.X86_REG_RIP
            return MemoryOperand(0 if rip else _unicorn_reg(insn, mem.base), _unicorn_reg(insn, mem.index),
                                 mem.scale, mem.disp, insn.reg_name(mem.segment) if mem.segment else "", rip)
        return None

    def misaligned(self, uc, address: int, fs_base: int = 0, gs_base: int = 0) -> int | None:
        """The effective address of the instruction at ``address`` if it must be aligned and is not."""
        decoded = self.decode(address)
        if decoded is None or decoded.aligned is None:
            return None
        op = decoded.aligned
        ea = op.disp
        if op.rip_relative:
            ea += address + decoded.size
        if op.base:
            ea += uc.reg_read(op.base)
        if op.index:
            ea += uc.reg_read(op.index) * op.scale
        ea += {"fs": fs_base, "gs": gs_base}.get(op.segment, 0)
        ea &= 2**64 - 1
        return ea if ea % 16 else None
