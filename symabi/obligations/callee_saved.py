"""callee-saved and reserved: the registers a host ABI's caller keeps (``symabi.ports``' tables)."""

from __future__ import annotations

from symabi.obligations.definition import AT_EVERY_CALL_AND_RETURN, AT_RETURN, Obligation, SameAsEntry, Untouched, \
    define
from symabi.ports import HostAbi


def preserved(abi: HostAbi) -> tuple[Obligation, ...]:
    """preserve-<reg>: each callee-saved register at return as at entry (a part of a wider register, such
    as arm64's D8, is said so)."""
    out = []
    for c in abi.callee_saved:
        reg = abi.arch.register(c.register)
        name = c.register.upper()
        if reg.within:
            words = f" (the low {reg.bits} bits of {reg.within.upper()})"
        else:
            words = f" (all {c.bits} bits)" if reg.kind == "vector" else ""
        out.append(define(f"preserve-{c.register}", c.register, "callee-saved",
                          f"{name} at return equals {name} at entry{words}", AT_RETURN,
                          SameAsEntry(c.register, reg.within or c.register, reg.bits)))
    return tuple(out)


def untouched(register: str) -> Obligation:
    """<reg>-untouched: a register the platform reserves (arm64's X18 on darwin and windows)."""
    return define(f"{register}-untouched", register, "reserved",
                  f"{register.upper()} is the platform's: never written (as at entry at every call and at return)",
                  AT_EVERY_CALL_AND_RETURN, Untouched(register))
