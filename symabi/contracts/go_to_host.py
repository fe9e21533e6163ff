"""go-to-host: what Go code that calls into host code (C, the OS) owes the host at each call, and its Go
caller when it returns.

At every call into host code (a callee of a ``host-*`` model, ``symabi.models.host_callee``), the host
ABI's rules (``symabi.ports.abi.HostAbi``, here the case's port's):

    host-stack-aligned-at-call   the stack pointer is aligned as the host requires before the CALL
                                 (amd64: RSP = 0 mod 16, so 8 mod 16 at the callee's first instruction)
    home-area-at-call            (Windows) the home area above the return address lies in the
                                 trampoline's own frame: below its return address, or below the free-space
                                 limit of another stack the world declares (g0's)
    df-clear-at-call             DF is clear
    x87-empty-at-call            (amd64) the x87 register stack is empty: x87 mode, no MMX state (the
                                 System V psABI 3.2.1: EMMS before calling another function)

When the trampoline returns to Go, Go's rules (src/cmd/compile/abi-internal.md, amd64):

    restore-rsp, return-to-caller    RSP = entry RSP + 8, control back at the Go caller's return address
    preserve-rbp                     the frame pointer as the caller left it ("Same" in both Go ABIs)
    df-clear-at-return               Go expects DF clear
    x87-empty-at-return              the x87 stack empty: "At calls and returns, the CPU is in x87 mode"
    x15-zero-at-return, r14-g-at-return (ABIInternal entries only) X15 = 0 and R14 = g ("Same"); ABI0
                                     leaves both undefined (n/a)
    stack-writes-in-go-frame         no store at or above the entry RSP outside the argument and result words
    no-fault                         no instruction faults

Nothing the trampoline relies on after a host call may be kept in a host-volatile register or below its
stack pointer: the host callee model clobbers both, so such a reliance shows up as one of the obligations
above failing (RSP or BP not restored, a fault through a clobbered pointer, a wrong return), on the line
that uses the lost value. R15 is "Same" in Go only in dynamically linked code, which is not checked.

Each obligation is a definition of ``symabi.obligations`` (``go_to_host``, ``host_call``: a claim as data),
judged on a path by the symbolic evaluator (``symabi.obligations.symbolic``) and on a run by the concrete one:
the contract is the list ``symabi.obligations.go_to_host.go_to_host(abi)``. On an arm64 port ``for_port``
gives the same contract over the port's AAPCS64 variant (SP, R29, R28: ``symabi.contracts.go_to_host_arm64``
has its doc).
"""

from __future__ import annotations

from dataclasses import dataclass

from symabi.contracts.windows_x64 import HostAbiContract
from symabi.errors import CaseError
from symabi.obligations.go_to_host import go_stack_writes, go_to_host
from symabi.ports import WINDOWS_X64
from symabi.ports.table import Port


@dataclass(frozen=True)
class GoToHostContract(HostAbiContract):
    """The go-to-host obligations over one host ABI; ``for_port`` rebinds it to a case's port."""

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "name", "go-to-host")
        set_(self, "doc", f"Go code calling into host code under the {self.abi.name} ABI, and returning to Go")
        set_(self, "stack_writes", go_stack_writes(self.abi.arch))
        set_(self, "obligations", go_to_host(self.abi))

    def for_port(self, port: Port) -> GoToHostContract:
        if port.goarch not in ("amd64", "arm64"):  # the obligations and the host callee models are theirs
            raise CaseError(f"contract go-to-host is checked on amd64 and arm64 ports only, not {port.name}")
        return self if port.abi is None or port.abi == self.abi else GoToHostContract(port.abi)


GO_TO_HOST = GoToHostContract(WINDOWS_X64)  # rebound to each case's port by for_port
