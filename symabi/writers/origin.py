"""Where a counterexample's failing value comes from, in words.

Input symbols are named by their source (see the README): ``entry.<reg>`` the shared entry register
file, ``<callee>#<n>.<what>`` an output of the n-th call to a callee (a register, ``frame+0x8``,
``below-0x10`` under its stack pointer), ``cpuid#<n>.<reg>`` what the n-th CPUID reported,
``init.<region>+<offset>`` memory nothing on the path wrote, ``world.<region>`` where a region lies.
A name this module does not know is shown as it is.
"""

from __future__ import annotations

import re

from symabi.verdicts import SourceLine, Violation

_OUTPUT = re.compile(r"^(?P<callee>.+)#(?P<n>\d+)\.(?P<what>.+)$")
_REGISTER = re.compile(r"^(r[a-z0-9]+|e[a-z]{2}|[a-d][lhx]|xmm\d+|ymm\d+|[a-z]{2})$")


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _output(callee: str, n: int, what: str, site: SourceLine | None) -> str:
    call = "CPUID" if callee == "cpuid" else f"call to {callee}"
    call = f"the {ordinal(n)} {call}" + (f" ({site.text.split()[0]} at {site.location})" if site else "")
    if _REGISTER.match(what):
        return f"what {call} left in {what.upper()}"
    if what.startswith("below-"):
        return f"what {call} left {what[len('below-'):]} bytes below its stack pointer"
    if what.startswith("frame"):
        return f"the word {call} wrote at its {what}"
    return f"{what} of {call}"


def _memory(where: str) -> str:
    where = where.removesuffix(".b")
    region, offset = re.match(r"^([^+-]*)(.*)$", where).groups()
    if region == "stack":
        return f"the caller's stack at entry RSP{offset or '+0x0'}, which nothing on the path wrote"
    return f"{region}{offset} as the path found it (nothing on the path wrote it)"


def describe(name: str, call_sites: dict[str, SourceLine] | None = None) -> str:
    """One input symbol in words: ``runtime.mstart#1.rbx`` -> what the 1st call to runtime.mstart left in RBX."""
    source, _, rest = name.partition(".")
    if (m := _OUTPUT.match(name)) and source != "init":
        key = f"{m['callee']}#{m['n']}"
        return _output(m["callee"], int(m["n"]), m["what"], (call_sites or {}).get(key))
    if source == "entry" and rest:
        if rest == "return_address":
            return "the caller's return address"
        return f"{rest.upper()}'s value at entry" if _REGISTER.match(rest) else f"the entry value {rest}"
    if source == "init" and rest:
        return _memory(rest)
    if source == "world" and rest:
        return f"the address of region {rest}"
    return f"`{name}`"


def subject(x: Violation) -> str | None:
    """What the failing value is, as a sentence's subject; None where an origin says nothing useful."""
    if x.obligation.startswith("preserve-") or x.obligation == "restore-rsp":
        return f"{x.location.upper()} at return"
    if x.obligation.endswith("-at-abiinternal-call"):
        return f"{x.location.upper()} at the call"
    if x.location == "return_address":
        return "the address control goes to"
    return None


def sentence(x: Violation) -> str | None:
    """``RBX at return is what the 1st call to runtime.mstart (CALL at asm.s:40) left in RBX``."""
    what = subject(x)
    if what is None:
        return None
    if not x.origin:
        return f"{what} is the constant {x.exit}" if x.exit is not None else None
    parts = [describe(name, x.call_sites) for name in x.origin]
    if x.origin_exact and len(parts) == 1:
        return f"{what} is {parts[0]}"
    return f"{what} is computed from " + _and(parts)


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
