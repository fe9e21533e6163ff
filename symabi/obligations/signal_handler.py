"""signal-handler: what a signal handler the kernel itself enters owes, derived from the host ABI's list.

On linux the kernel enters a handler installed with sigaction(SA_SIGINFO) as handler(sig, info, uc) with
the restorer (sa_restorer, or the vDSO's __kernel_rt_sigreturn on arm64) as its return address, and that
restorer's rt_sigreturn reloads every register of the interrupted context (the general registers, RIP or
PC, RFLAGS or PSTATE, DF included, and the FP/SIMD state with MXCSR, the x87 control word or FPCR) from the
ucontext_t the kernel built. So none of the host ABI's claims about a register's value at return is owed
(``RESTORED``); what is owed is that rt_sigreturn finds its frame and that what the handler calls gets
what it needs (``signal_handler``: the host ABI's list less ``RESTORED``, the same definitions under the
same ids, so both evaluators and every witness replay read them unchanged).
"""

from __future__ import annotations

from functools import lru_cache

from symabi.obligations import definition as d
from symabi.obligations.definition import Obligation
from symabi.obligations.host_call import host_calls
from symabi.ports import HostAbi

NAME = "signal-handler"
# The ports where the kernel enters the handler and rt_sigreturn restores it: GOOS -> the host ABIs there.
# darwin is not one: libc's _sigtramp calls the handler as a C function and, after it returns, passes the
# ucontext it kept in a callee-saved register to sigreturn, so the callee-saved registers are owed there.
KERNEL_PORTS = {"linux": ("sysv-amd64", "aapcs64")}
# The entry convention a handler marked contract=signal-handler gets by default, per host ABI: the kernel's
# entry is a CALL's as far as the machine state goes (symabi.models.entry_sysv, entry_aapcs64).
ENTRY_CONVENTIONS = {"sysv-amd64": "sysv-signal-handler", "aapcs64": "aapcs64-call"}
ASSUMPTION = "entered by the kernel; registers restored by rt_sigreturn; not chained from a C handler"


def restored(ob: Obligation) -> bool:
    """Whether ``ob`` claims something of a register rt_sigreturn reloads from the ucontext: a callee-saved
    register (preserve-rbx, preserve-x29, preserve-d8), DF and the x87 register stack at return (the
    ucontext's fpstate holds the interrupted code's), callee-saved control state (the x87 control word,
    MXCSR, FPCR). The stack pointer and the return address are not: the restorer needs them."""
    claim = ob.claim
    return (isinstance(claim, (d.SameAsEntry, d.ControlStateKept))
            or isinstance(claim, (d.FlagClear, d.X87Empty)) and ob.when == d.AT_RETURN)


@lru_cache(maxsize=None)
def signal_handler(abi: HostAbi, callees: frozenset[str] = frozenset()) -> tuple[Obligation, ...]:
    """The obligations of a kernel-entered handler on ``abi`` that calls the host code ``callees`` (a
    previous handler it chains to, a C function): restore-sp, return-to-caller, DF clear at calls (amd64),
    stack writes below the entry SP, writes through owned addresses (amd64), the ABIInternal registers at
    calls into Go, the stack aligned at calls into host code (arm64: at every call, the host ABI's own
    sp-aligned-at-call, ``symabi.obligations.stack_pointer.aligned_at_every_call``), no fault."""
    kept = tuple(ob for ob in host_calls(abi, callees) if not restored(ob))
    if abi.arch.link_register or callees:
        return kept
    # amd64 without host callees: host-call-aligned over no named callee would judge every call, Go's included
    return tuple(ob for ob in kept if not isinstance(ob.claim, d.StackAligned))


def contract_name(callees: frozenset[str]) -> str:
    """``signal-handler``, or ``signal-handler+host-calls(world.prev)`` when it calls host code."""
    return f"{NAME}+host-calls({','.join(sorted(callees))})" if callees else NAME


def parse_contract_name(name: str) -> frozenset[str] | None:
    """The host callees of a ``contract_name``; None for another contract's name."""
    if name == NAME:
        return frozenset()
    head, plus, rest = name.partition("+host-calls(")
    if head != NAME or not plus or not rest.endswith(")"):
        return None
    return frozenset(c for c in rest[:-1].split(",") if c)


def why_not(goos: str, abi_name: str | None) -> str:
    """Why the contract does not apply on a port ("" when it does)."""
    if abi_name in KERNEL_PORTS.get(goos, ()):
        return ""
    where = ", ".join(f"{goos}/{'amd64' if a.startswith('sysv') else 'arm64'}"
                      for goos, abis in KERNEL_PORTS.items() for a in abis)
    return (f"contract {NAME} is defined for {where} only (the kernel enters the handler and rt_sigreturn "
            f"restores its registers), not for {goos}" + ("; on darwin libc's _sigtramp calls the handler as C "
                                                          "code and needs its callee-saved registers back"
                                                          if goos in ("darwin", "ios") else ""))
