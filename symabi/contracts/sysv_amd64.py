"""sysv-amd64: what a trampoline entered from the System V AMD64 ABI (ELF and Mach-O ports) owes its caller.

The System V AMD64 ABI makes RBX, RBP, RSP and R12-R15 callee-saved (no XMM register is), requires DF
clear at entry and at return, and makes the x87 control word and MXCSR's control bits callee-saved.
Go ABI0 code may clobber every general-purpose register but RSP, so a trampoline that calls into Go
saves and restores them (runtime/cgo/abi_amd64.h's System V PUSH/POP_REGS_HOST_TO_ABI0). The caller
reserves no home area: every stack byte at or above the return address is the caller's. The 128-byte
red zone below RSP is the trampoline's own scratch, never safe across a call.

The same implementation as windows-x64 (``symabi.contracts.windows_x64.HostAbiContract``), over the
System V ABI's data (``symabi.ports.SYSV_AMD64``). Obligation ids:

    preserve-rbx, preserve-rbp, preserve-r12 ... preserve-r15   the callee-saved registers at return
    restore-rsp                                                 RSP at return = entry RSP + 8
    return-to-caller                                            control returns to the return address
    df-clear-at-return, df-clear-at-call                        DF clear at return and at every call into Go
    stack-writes-below-entry-rsp                                no store at or above the entry RSP
    preserve-x87-control-word, preserve-mxcsr                   untouched (else UNKNOWN: not modelled)
    x15-zero-at-abiinternal-call, r14-g-at-abiinternal-call     Go's ABIInternal entry registers
"""

from __future__ import annotations

from symabi.contracts.windows_x64 import HostAbiContract
from symabi.ports import SYSV_AMD64 as SYSV_AMD64_ABI

SYSV_AMD64 = HostAbiContract(SYSV_AMD64_ABI, doc=__doc__.strip().splitlines()[0])
