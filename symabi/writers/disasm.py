"""Capstone's reading of the assembled bytes: an independent check on the Go assembler's own text.

The HTML report shows both side by side, so a reviewer sees what the bytes really encode
(``MOVUPS X7, 80(SP)`` next to ``movups %xmm7, 0x50(%rsp)``). AT&T syntax keeps the Go assembler's
operand order (source first), so the two columns read the same way.
"""

from __future__ import annotations

from functools import lru_cache

import capstone


@lru_cache(maxsize=2)
def _engine(arch: str = "amd64") -> capstone.Cs:
    if arch == "arm64":  # capstone's own A64 syntax (destination first; the Go assembler's is the reverse)
        return capstone.Cs(capstone.CS_ARCH_ARM64, capstone.CS_MODE_ARM)
    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    md.syntax = capstone.CS_OPT_SYNTAX_ATT  # source before destination, as in the Go assembler's text
    return md


def disassemble(code: bytes, address: int = 0, arch: str = "amd64") -> str:
    """The instruction(s) ``code`` encodes at ``address``, in AT&T syntax.

    One listing row is one instruction, so this is normally one ``mnemonic operands`` string; more
    than one instruction is joined with ``; `` and bytes capstone cannot decode are shown as
    ``(bad: 0f 0b)`` instead of being dropped.
    """
    if not code:
        return ""
    parts, used = [], 0
    for insn in _engine(arch).disasm(bytes(code), address):
        parts.append(f"{insn.mnemonic} {insn.op_str}".strip())
        used += insn.size
    if used < len(code):
        parts.append(f"(bad: {hex_bytes(code[used:])})")
    return "; ".join(parts)


def hex_bytes(code: bytes) -> str:
    """``48 83 ec 18``: the bytes as the reviewer compares them with an objdump."""
    return " ".join(f"{b:02x}" for b in code)
