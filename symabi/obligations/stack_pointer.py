"""stack-pointer and return: the caller's stack pointer comes back, and so does control."""

from __future__ import annotations

from symabi.obligations.definition import AT_EVERY_CALL, AT_RETURN, Obligation, ReturnsToCaller, StackAligned, \
    StackPointerRestored, define
from symabi.ports.arch import Architecture


def restore_sp(arch: Architecture) -> Obligation:
    """restore-rsp (a RET pops the return address) or restore-sp (a link register: SP as at entry)."""
    sp, popped = arch.stack_pointer, arch.return_slot
    name = sp.upper()
    doc = (f"{name} at return equals entry {name} + {popped} (the return address popped)" if popped
           else f"{name} at return equals {name} at entry")
    return define(f"restore-{sp}", sp, "stack-pointer", doc, AT_RETURN, StackPointerRestored(sp, popped))


RETURN = define("return-to-caller", "return_address", "return", "control returns to the caller's return address",
                AT_RETURN, ReturnsToCaller())


def aligned_at_every_call(arch: Architecture) -> Obligation:
    """sp-aligned-at-call (arm64): SP 16-byte aligned at every BL, into Go as into C. Go's arm64 ABI keeps SP
    16-byte aligned as AAPCS64 does (cmd/compile/abi-internal.md: "RSP ... is always aligned to 16 bytes";
    AAPCS64 6.4.5.1: SP mod 16 = 0 at every public interface and whenever SP is used to access memory), and
    Linux faults an SP-relative access off it (SCTLR_EL1.SA0), which a Go callee's prologue makes at once
    (MOVD.W R30, -N(RSP)). Owed by every arm64 host entry (for_host_abi) and a signal handler alike. amd64 Go
    code needs 8 bytes only."""
    modulus = arch.entry_alignment[0]
    return define("sp-aligned-at-call", arch.stack_pointer, "host-call",
                  f"SP is a multiple of {modulus} at every BL, into Go as into host code (Go's arm64 ABI and AAPCS64 "
                  "both keep SP 16-byte aligned; Linux faults an SP-relative access off it)", AT_EVERY_CALL,
                  StackAligned(modulus))
