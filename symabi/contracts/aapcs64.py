"""aapcs64, darwin-arm64, windows-arm64, android-arm64: what a trampoline entered from an arm64 host owes its caller.

The AAPCS64 (Arm's Procedure Call Standard, 6.1.1-6.1.2) makes X19-X28, X29 (the frame pointer), SP and
the low 64 bits of V8-V15 (D8-D15) callee-saved; the caller passes the return address in X30 (LR).
Go ABI0 code may clobber all of them but SP (runtime/cgo/abi_arm64.h's SAVE_R19_TO_R28 and
SAVE_F8_TO_F15 exist for that). Apple reserves X18 for the platform, Windows keeps the TEB in it and Android
its ShadowCallStack pointer: on darwin-arm64, windows-arm64 and android-arm64 X18 must never be written.

Obligation ids:

    preserve-x19 ... preserve-x29      the callee-saved X registers at return
    preserve-d8 ... preserve-d15       the low 64 bits of V8-V15 at return
    restore-sp                         SP at return = entry SP
    return-to-caller                   control returns to the entry X30
    stack-writes-below-entry-sp        no store at or above the entry SP (the caller's)
    x18-untouched                      darwin-arm64, windows-arm64, android-arm64: X18 as at entry at every call and at
                                       return; a path that writes X18 at all is UNKNOWN (what an
                                       asynchronous event sees in between is not modelled)
    preserve-fpcr                      FPCR's control bits (rounding, flush-to-zero: callee-saved in AAPCS64
                                       6.1.2) as at entry: a path that executes MSR FPCR is UNKNOWN (FPCR is not
                                       modelled; the Go callees leave it alone, a stated assumption)
    x28-g-at-abiinternal-call          R28 holds the current g (0 only on a thread without one) at every
                                       call into ABIInternal
    no-fault                           no instruction faults (an SP alignment fault, a page fault)

The same ``HostAbiContract`` (symabi.contracts.windows_x64) over an arm64 host ABI's data
(symabi.ports.AAPCS64, DARWIN_ARM64, WINDOWS_ARM64, ANDROID_ARM64): the obligations are derived from it by
``symabi.obligations.for_host_abi``.
"""

from __future__ import annotations

from symabi.contracts.windows_x64 import HostAbiContract
from symabi.obligations.abi_internal import R28_AT_CALL
from symabi.obligations.callee_saved import untouched
from symabi.obligations.code_scan import arm64_writers
from symabi.obligations.direction_flag import FPCR
from symabi.obligations.faults import NO_FAULT_ARM64 as NO_FAULT
from symabi.obligations.stack_pointer import restore_sp
from symabi.ports import AAPCS64 as AAPCS64_ABI
from symabi.ports import ANDROID_ARM64 as ANDROID_ARM64_ABI
from symabi.ports import DARWIN_ARM64 as DARWIN_ARM64_ABI
from symabi.ports import WINDOWS_ARM64 as WINDOWS_ARM64_ABI
from symabi.ports.arch import ARM64
from symabi.obligations.stack_writes import stack_writes

SP = restore_sp(ARM64)
STACK_WRITES = stack_writes(AAPCS64_ABI)
Aapcs64Contract = HostAbiContract  # the arm64 host ABIs' contract is the same class over their data


def executed_writers(path, image, register: str) -> list[int]:
    return arm64_writers(path.blocks, image, register)


__all__ = ["FPCR", "NO_FAULT", "R28_AT_CALL", "SP", "STACK_WRITES", "AAPCS64", "ANDROID_ARM64", "DARWIN_ARM64",
           "WINDOWS_ARM64", "executed_writers", "untouched"]

AAPCS64 = HostAbiContract(AAPCS64_ABI, doc="aapcs64: what a trampoline entered from an AAPCS64 host (linux, the "
                                           "BSDs) owes its caller")
DARWIN_ARM64 = HostAbiContract(DARWIN_ARM64_ABI, doc="darwin-arm64: AAPCS64 as Apple amends it (X18 reserved)")
WINDOWS_ARM64 = HostAbiContract(WINDOWS_ARM64_ABI, doc="windows-arm64: AAPCS64 as Windows amends it (X18 = TEB)")
ANDROID_ARM64 = HostAbiContract(ANDROID_ARM64_ABI, doc="android-arm64: AAPCS64 as Android amends it (X18 reserved "
                                                       "for ShadowCallStack)")
