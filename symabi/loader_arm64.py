"""The arm64 relocations Go's assembled code carries, resolved as the Go linker resolves them
(cmd/link/internal/arm64/asm.go, archreloc): each patches the immediate fields of the instruction
words the assembler emitted with zero immediates.

    R_CALLARM64            a BL or B: imm26 = (target - site) / 4
    R_ADDRARM64            an ADRP + ADD pair: the 4 KiB page delta in ADRP, the low 12 bits in ADD
    R_ARM64_PCREL_LDSTn    an ADRP + LDR/STR pair of an n-bit access: the low 12 bits scaled by n/8
    R_ARM64_TLS_LE         a MOVZ: imm16 = the g slot's offset from the thread pointer (the port's)
    R_ADDR                 a data word: the absolute address
"""

from __future__ import annotations

import struct

_LDST_SHIFT = {"R_ADDRARM64": 0, "R_ARM64_PCREL_LDST8": 0, "R_ARM64_PCREL_LDST16": 1,
               "R_ARM64_PCREL_LDST32": 2, "R_ARM64_PCREL_LDST64": 3}


def _word(code: bytearray, offset: int) -> int:
    return struct.unpack_from("<I", code, offset)[0]


def _put(code: bytearray, offset: int, word: int) -> None:
    struct.pack_into("<I", code, offset, word & 0xFFFF_FFFF)


def patch(code: bytearray, offset: int, reloc, site: int, target: int, tls_offset: int | None, error) -> None:
    """Patch the relocation at ``code[offset:]``; ``site`` is its absolute address. ``error`` builds the
    exception for a relocation that cannot be resolved."""
    kind = reloc.type
    if kind == "R_CALLARM64":
        delta = target + reloc.addend - site
        if delta % 4 or not -(1 << 27) <= delta < (1 << 27):
            raise error(f"R_CALLARM64 to {reloc.target} is out of range")
        _put(code, offset, _word(code, offset) | ((delta >> 2) & 0x03FF_FFFF))
    elif kind in _LDST_SHIFT:
        delta = target + reloc.addend - (site & ~0xFFF)
        if not -(1 << 32) <= delta < (1 << 32):
            raise error(f"{kind} to {reloc.target} is out of range")
        shift = _LDST_SHIFT[kind]
        if delta & ((1 << shift) - 1):
            raise error(f"{kind} to {reloc.target} is not {1 << shift}-byte aligned")
        adrp = _word(code, offset) | (((delta >> 12) & 3) << 29) | (((delta >> 14) & 0x7FFFF) << 5)
        _put(code, offset, adrp)
        _put(code, offset + 4, _word(code, offset + 4) | (((delta & 0xFFF) >> shift) << 10))
    elif kind == "R_ARM64_TLS_LE":
        if tls_offset is None:
            raise error("R_ARM64_TLS_LE, which this port's linker does not resolve (its g slot is a variable)")
        value = tls_offset + reloc.addend
        if not 0 <= value < 1 << 16:
            raise error(f"R_ARM64_TLS_LE offset {value} is out of range")
        _put(code, offset, _word(code, offset) | (value << 5))
    elif kind == "R_ADDR" and reloc.size in (4, 8):
        struct.pack_into("<Q" if reloc.size == 8 else "<I", code, offset, target + reloc.addend)
    else:
        raise error(f"relocation type {kind} (to {reloc.target or 'nothing'}) is not supported on arm64")
