"""host-call: what code owes the host-ABI code it calls, at each call: the stack aligned as the host ABI
requires, and (Windows x64) the callee's home area reserved in the caller's own frame.

Two contracts judge them: go-to-host (``symabi.obligations.go_to_host``: every callee is host code) and a
checked host entry's calls into named host callees (``host_calls``, ``symabi check``'s
``<abi>+host-calls(...)`` contracts), each under its own ids.
"""

from __future__ import annotations

from functools import lru_cache

from symabi.obligations.definition import AT_EVERY_HOST_CALL, HomeAreaReserved, Obligation, StackAligned, define
from symabi.obligations.host_abi import for_host_abi
from symabi.ports import HostAbi
from symabi.ports.arch import Architecture


def aligned_at_call(arch: Architecture) -> Obligation:
    """host-stack-aligned-at-call (go-to-host): at every call, every callee being host code."""
    modulus = arch.entry_alignment[0]
    doc = (f"SP is {modulus}-byte aligned at every BL into host code (AAPCS64; a BL pushes nothing)"
           if arch.link_register else
           f"RSP is 0 mod {modulus} before every CALL into host code (the host ABI's stack alignment)")
    return define("host-stack-aligned-at-call", arch.stack_pointer, "host-call", doc, AT_EVERY_HOST_CALL,
                  StackAligned(modulus))


def home_area_at_call(abi: HostAbi) -> Obligation:
    """home-area-at-call (go-to-host, Windows x64)."""
    return define("home-area-at-call", "stack", "host-call",
                  "the home area the host callee may write above its return address lies in the trampoline's "
                  "own frame (below its return address, or in another stack's free space)", AT_EVERY_HOST_CALL,
                  HomeAreaReserved(abi.home_area))


def host_call_aligned(arch: Architecture, callees: frozenset[str]) -> Obligation:
    """host-call-aligned: at every call into the named host callees."""
    modulus = arch.entry_alignment[0]
    doc = (f"SP is a multiple of {modulus} at every BL into host-ABI code (AAPCS64 6.4.5.1: SP mod {modulus} = 0 "
           "at a public interface), as the host ABI requires of its callers" if arch.link_register else
           f"RSP is a multiple of {modulus} at every CALL into host-ABI code (RSP + 8 on the callee's entry), as "
           "the host ABI requires of its callers")
    return define("host-call-aligned", arch.stack_pointer, "host-call", doc, AT_EVERY_HOST_CALL,
                  StackAligned(modulus, callees))


def host_call_home_area(abi: HostAbi, callees: frozenset[str]) -> Obligation:
    """host-call-home-area: at every call into the named host callees (Windows x64)."""
    return define("host-call-home-area", abi.arch.stack_pointer, "host-call",
                  f"at every CALL into host-ABI code the {abi.home_area} bytes above the return address (the "
                  "callee's home area, which it may write) lie in the trampoline's own frame, below the entry RSP",
                  AT_EVERY_HOST_CALL, HomeAreaReserved(abi.home_area, callees))


@lru_cache(maxsize=None)
def host_calls(abi: HostAbi, callees: frozenset[str]) -> tuple[Obligation, ...]:
    """A host entry's contract when it calls host code itself: the host ABI's obligations, then the stack
    aligned (and, with a home area, the home area reserved) at each call into ``callees``. On arm64 the host
    ABI's own sp-aligned-at-call already judges every BL, the host callees' included."""
    extra = () if abi.arch.link_register else (host_call_aligned(abi.arch, callees),)
    if abi.home_area:
        extra += (host_call_home_area(abi, callees),)
    return (*for_host_abi(abi), *extra)


def contract_name(abi: HostAbi, callees: frozenset[str]) -> str:
    """The registered name of ``host_calls(abi, callees)``'s contract: it says its host callees."""
    return f"{abi.name}+host-calls({','.join(sorted(callees))})"


def parse_contract_name(name: str) -> tuple[str, frozenset[str]] | None:
    """(host ABI name, host callees) of a ``contract_name``; None for another contract's name."""
    abi, plus, rest = name.partition("+host-calls(")
    if not plus or not rest.endswith(")"):
        return None
    return abi, frozenset(c for c in rest[:-1].split(",") if c)
