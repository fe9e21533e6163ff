"""go-to-host on arm64: what Go code that calls into host code (C, the OS) owes the host at each call, and
its Go caller when it returns, under AAPCS64 and its Apple and Windows variants.

At every call (a BL or BLR; ``symabi.models.host_callee`` models the host callee):

    host-stack-aligned-at-call   SP is 16-byte aligned (AAPCS64 5.2.2: at every public interface; the CPU's
                                 SP alignment check faults on the callee's first SP-based access otherwise).
                                 Checked at every call of the path: Go's arm64 ABIs keep SP 16-byte aligned
                                 too, so a Go helper the trampoline calls (runtime·save_g) owes the same

When the trampoline returns to Go (src/cmd/compile/abi-internal.md, "arm64 architecture"):

    restore-sp, return-to-caller   SP = entry SP, control back at the entry X30
    preserve-x29                   the frame pointer as the caller left it ("Same" in both Go ABIs)
    x28-g-at-return                R28 = the current g, as at entry: the assembler's `g` is R28 in ABI0 and
                                   ABIInternal code alike, so both Go ABIs expect it back
    stack-writes-in-go-frame       no store at or above entry SP - 8 (the caller's saved frame pointer, its
                                   saved-LR slot at 0(RSP)) outside the argument and result words at 8(RSP) up
    no-fault                       no instruction faults (an SP alignment fault, a page fault)

Nothing the trampoline relies on after a host call may be kept in a host-volatile register (X0-X18 but
where the platform reserves X18, X30, V0-V7, V16-V31, the high halves of V8-V15) or below SP: the host
callee model clobbers them, so such a reliance shows up as one of the obligations above failing (SP or R29
not restored, g lost, a fault through a clobbered pointer, a wrong return), on the line that uses it.

The same ``GoToHostContract`` (``symabi.contracts.go_to_host``) over an arm64 host ABI: its obligations are
``symabi.obligations.go_to_host.go_to_host(abi)``, each defined once with its claim.
"""

from __future__ import annotations

from symabi.contracts.go_to_host import GoToHostContract

GoToHostArm64Contract = GoToHostContract  # the name it had when arm64 judged its obligations itself
