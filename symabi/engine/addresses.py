"""Addresses in words, for UNKNOWN reasons: ``0x28(GS)``, not ``<BV64 0x28 + reg_408_0_64>``.

angr names a register nobody set ``reg_<hex VEX offset>_<n>_<bits>``; the entry convention sets every
general-purpose and XMM register, so such a name is a register the model leaves out (GS or FS, the
segment bases, when no world declares them).
"""

from __future__ import annotations

import re

import archinfo

_ARCH = archinfo.ArchAMD64()
_ANGR_REGISTER = re.compile(r"^reg_([0-9a-f]+)_\d+_\d+$")
SEGMENTS = {"gs": "the TEB on Windows", "fs": "unused by Windows x64 code"}


def register_of(variable: str) -> str | None:
    m = _ANGR_REGISTER.match(variable)
    return _ARCH.register_names.get(int(m[1], 16)) if m else None


def _input(variable: str) -> str:
    name = register_of(variable)
    return name.upper() if name else variable


def segment(addr) -> tuple[str, int] | None:
    """(segment register, offset) for an address that is a segment base plus a constant."""
    if addr.op == "BVS" and (name := register_of(addr.args[0])) in SEGMENTS:
        return name, 0
    if addr.op == "__add__" and len(addr.args) == 2:
        for base, offset in (addr.args, addr.args[::-1]):
            if base.op == "BVS" and (name := register_of(base.args[0])) in SEGMENTS and not offset.symbolic:
                return name, offset.concrete_value
    return None


def shown(addr) -> str:
    if not addr.symbolic:
        return f"{addr.concrete_value:#x}"
    if (seg := segment(addr)) is not None:
        return f"{seg[1]:#x}({seg[0].upper()})"
    return "an address computed from " + ", ".join(sorted(_input(v) for v in addr.variables))


def uncovered(kind: str, addr) -> str:
    """Why an address no region covers is UNKNOWN, and what to declare."""
    if (seg := segment(addr)) is not None:
        reg = seg[0].upper()
        return (f"this {kind}s {reg}-relative memory ({SEGMENTS[seg[0]]}), and no world says where {reg} points; "
                f"declare `[world] {seg[0]} = \"REGION\"` (see cases/README.md)")
    return "the address depends on values no region covers"
