"""Entry conventions of the System V AMD64 ports (ELF and Mach-O): how the host enters a trampoline.

Every one is a CALL as far as the machine state goes (a return address on top of the stack, RSP 8 mod
16, DF clear), with no home area: the caller's frame starts right above the return address. What
differs is who calls and what the argument registers hold, which the case binds with
``entry_convention.registers`` when the code dereferences them (and leaves unconstrained otherwise).
"""

from __future__ import annotations

from symabi.engine.cpu import AC_AT_ENTRY
from symabi.models.entry import CALLER_FRAME, ENTRY_CONVENTIONS, STACK_RESERVE, EntryConventionModel
from symabi.ports import SYSV_AMD64

_COMMON = (
    "RSP at entry is 8 mod 16 (16-byte aligned before the CALL pushed the return address)",
    "the return address on top of the stack is any user-space code address (entry.return_address, odd or "
    "even): not in the null page, the trampoline's code, a callee, the stack or a runtime region",
    "DF and TF are clear at entry (the System V ABI requires DF clear); IF and RFLAGS bit 1 are set (as in all "
    "user-mode code); every other register and flag, AC and ID included, is an unconstrained symbolic value "
    "(unless the case binds it below)",
    AC_AT_ENTRY,
    f"no home area (System V): the caller's frame, then its stack arguments, start right above the return "
    f"address; the {SYSV_AMD64.red_zone}-byte red zone below RSP belongs to the trampoline (no signal handler "
    "writes there), but nothing below RSP survives a call; below the red zone memory is volatile (a read there "
    "sees a fresh value below-rsp#<k>)",
    f"the stack region spans entry RSP - {STACK_RESERVE:#x} up to {CALLER_FRAME:#x} bytes above the caller's "
    "arguments (the caller's frame, contents unknown) and overlaps no other region",
)


def _convention(name: str, doc: str, *extra: str) -> EntryConventionModel:
    return EntryConventionModel(name=name, doc=doc, assumptions=_COMMON + extra, home_area=SYSV_AMD64.home_area,
                                red_zone=SYSV_AMD64.red_zone)


SYSV_CALL = _convention("sysv-call", "A System V AMD64 caller (C) CALLs the trampoline directly.")

SIGNAL_HANDLER = _convention(
    "sysv-signal-handler",
    "The kernel delivers a signal to the handler installed with sigaction (SA_SIGINFO), or a C handler that "
    "chains to it calls it: handler(sig, info, ctx) with sig in EDI, the siginfo_t* in RSI, the ucontext_t* in RDX.",
    "entered either by the kernel, which builds the signal frame below the interrupted code's red zone, aligns it "
    "as a CALL would and leaves the restorer (sigreturn) as the return address, or by a C signal handler that "
    "chains to this one with an ordinary CALL; the host-entry contract is the chaining caller's, which needs "
    "every callee-saved register back; the signal-handler contract is the kernel's, whose rt_sigreturn restores "
    "them from the ucontext",
    "EDI, RSI and RDX are unconstrained unless the case binds them: the trampoline passes them on",
)

THREAD_START = _convention(
    "sysv-thread-start",
    "pthread_create's new thread calls the start routine start(arg) with arg in RDI, on the thread's stack.",
    "the thread library CALLs the start routine on the new thread's stack and, when it returns, ends the "
    "thread with its result (RAX); it expects the callee-saved registers back like any C caller",
)

LIBRARY_INITIALISER = _convention(
    "sysv-lib-init",
    "The dynamic loader or the C start-up code calls a library initialiser (an .init_array entry, a Mach-O "
    "initializer) as init(argc, argv, envp): argc in EDI, argv in RSI, envp in RDX.",
    "glibc and the BSD loaders pass argc, argv and envp; others may pass nothing, so the argument registers are "
    "unconstrained unless the case binds them",
)

for _c in (SYSV_CALL, SIGNAL_HANDLER, THREAD_START, LIBRARY_INITIALISER):
    ENTRY_CONVENTIONS.setdefault(_c.name, _c)  # importing this module registers the conventions
