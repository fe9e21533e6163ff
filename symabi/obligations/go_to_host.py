"""go-to-host: what Go code that calls into host code (C, the OS) owes the host at each call, and its Go
caller when it returns (``symabi.contracts.go_to_host`` has the contract's doc).

At each call (every callee is host code): the stack aligned (``host_call``), on Windows the home area,
DF clear, the x87 stack empty (amd64: x87 mode, no MMX state). At the return to Go
(src/cmd/compile/abi-internal.md): the stack pointer and control back, the frame pointer as the caller left
it ("Same" in both Go ABIs), DF clear and the x87 stack empty (amd64), X15 = 0 and R14 = g for an
ABIInternal caller (amd64), R28 = g (arm64, both Go ABIs), no store in the Go caller's frame outside its
argument and result words, X18 never written where the platform reserves it (darwin, windows arm64), the
floating-point control state Go fixes at calls and returns (abi-internal.md: MXCSR's control bits on amd64, FPCR on
arm64; red team 4: a stub that left FPCR rounding toward zero was PROVED, and Go's 0.1+0.2 came back 0.3), no fault.
"""

from __future__ import annotations

from functools import lru_cache

from symabi.obligations.callee_saved import untouched
from symabi.obligations.definition import AT_EVERY_HOST_CALL, AT_RETURN, AT_RETURN_TO_ABIINTERNAL, ON_EVERY_PATH, \
    FlagClear, Obligation, RegisterZero, SameAsEntry, StoresInGoFrame, define
from symabi.obligations.direction_flag import DF_AT_RETURN, FPCR, X87_AT_HOST_CALL, X87_AT_RETURN, control_state
from symabi.obligations.faults import no_fault
from symabi.obligations.host_call import aligned_at_call, home_area_at_call
from symabi.obligations.stack_pointer import RETURN, restore_sp
from symabi.ports import HostAbi
from symabi.ports.arch import Architecture

DF_AT_HOST_CALL = define("df-clear-at-call", "df", "direction-flag", "DF is clear on every call into host code",
                         AT_EVERY_HOST_CALL, FlagClear("df"))  # the host ABI's df-clear-at-call, owed to the host
PRESERVE_RBP = define("preserve-rbp", "rbp", "go-callee-saved", "RBP at return equals RBP at entry (Go's frame pointer)",
                      AT_RETURN, SameAsEntry("rbp", "rbp", 64))
PRESERVE_X29 = define("preserve-x29", "x29", "go-callee-saved",
                      "R29 at return equals R29 at entry (Go's frame pointer)", AT_RETURN,
                      SameAsEntry("x29", "x29", 64, "R29 (the frame pointer) is not preserved"))
X15_AT_RETURN = define("x15-zero-at-return", "xmm15", "abiinternal-return",
                       "X15 is zero when control returns to an ABIInternal caller", AT_RETURN_TO_ABIINTERNAL,
                       RegisterZero("xmm15", 128))
R14_AT_RETURN = define("r14-g-at-return", "r14", "abiinternal-return",
                       "R14 at return equals R14 at entry, the current g (ABIInternal callers only)",
                       AT_RETURN_TO_ABIINTERNAL, SameAsEntry("r14", "r14", 64))
G_AT_RETURN = define("x28-g-at-return", "x28", "go-return",
                     "R28 at return equals R28 at entry, the current g (Go's arm64 ABIs keep g in R28)", AT_RETURN,
                     SameAsEntry("x28", "x28", 64, "R28 at return is not the current g the caller entered with"))


def go_stack_writes(arch: Architecture) -> Obligation:
    """stack-writes-in-go-frame: the Go caller's frame is its own but for the argument and result words (on
    arm64 the caller's saved frame pointer lies right below the entry SP, Go's arm64 frame layout)."""
    if arch.link_register:
        return define(
            "stack-writes-in-go-frame", "stack", "stack-writes",
            "stack writes stay below entry SP - 8 (the caller's saved frame pointer and its saved-LR slot are "
            "above) or in the argument and result words from entry SP + 8 (and, on another stack the world "
            "declares, in its free space)", ON_EVERY_PATH, StoresInGoFrame(8, arch.return_slot, 8, "SP"))
    return define(
        "stack-writes-in-go-frame", "stack", "stack-writes",
        "stack writes stay below the entry RSP or in the argument and result words above the return address "
        "(and, on another stack the world declares, in its free space)", ON_EVERY_PATH,
        StoresInGoFrame(0, arch.return_slot, arch.return_slot, "RSP"))


@lru_cache(maxsize=None)
def go_to_host(abi: HostAbi) -> tuple[Obligation, ...]:
    """The go-to-host obligations under ``abi`` (the port's host ABI), in the order every report lists them."""
    arch = abi.arch
    if arch.link_register:
        # X18 where the platform reserves it (darwin, windows: the TEB): no Go code may write it, and every
        # host function it calls reads it (AT_EVERY_CALL_AND_RETURN: at each call into host code and at return)
        return (aligned_at_call(arch), restore_sp(arch), RETURN, PRESERVE_X29, G_AT_RETURN, go_stack_writes(arch),
                *(untouched(r) for r in abi.reserved), FPCR, no_fault(arch))
    home = (home_area_at_call(abi),) if abi.home_area else ()
    x87 = (X87_AT_HOST_CALL, X87_AT_RETURN) if arch.x87_tags else ()
    # Go fixes MXCSR's control bits at calls and returns; "the x87 floating-point control word is not used by Go"
    mxcsr = tuple(ob for ob in control_state(abi) if ob.location == "mxcsr")
    return (aligned_at_call(arch), *home, DF_AT_HOST_CALL, restore_sp(arch), RETURN, PRESERVE_RBP, DF_AT_RETURN,
            X15_AT_RETURN, R14_AT_RETURN, *x87, *mxcsr, go_stack_writes(arch), no_fault(arch))
