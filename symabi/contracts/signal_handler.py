"""signal-handler: what a signal handler owes when the kernel itself enters it (linux/amd64, linux/arm64).

Entry (arch/x86/kernel/signal.c and signal_64.c, arch/arm64/kernel/signal.c). The kernel builds the signal
frame below the interrupted SP (amd64: below its 128-byte red zone) or at the top of the sigaltstack, and
enters the handler installed with sigaction(SA_SIGINFO) as handler(sig, info, uc):

* amd64: ``struct rt_sigframe { pretcode; ucontext_t uc; siginfo_t info; }``, the XSAVE area above it;
  RSP = &pretcode, 8 mod 16 as after a CALL; [RSP] = sa_restorer (``mov $15, %eax; syscall``); RDI = sig,
  RSI = &info, RDX = &uc; DF (and TF, RF) cleared; the FP state reset.
* arm64: ``struct rt_sigframe { siginfo_t info; ucontext_t uc; }``, a frame record after it; SP = &info,
  16-byte aligned; X0 = sig, X1 = &info, X2 = &uc; X29 = the frame record; X30 = the restorer (sa_restorer
  or the vDSO's __kernel_rt_sigreturn: ``mov x8, #139; svc #0``).

Return. The restorer calls rt_sigreturn with the SP the handler returned with; the kernel takes the frame
from it (amd64: RSP - 8; arm64: SP, which must be 16-byte aligned) and reloads every register of the
interrupted context from ``uc``: the general registers, RIP or PC, RFLAGS (DF included) or PSTATE, SP, and
the FP/SIMD state (MXCSR and the x87 control word, FPSR and FPCR). So the host ABI's callee-saved registers
are not owed (``preserve-*``), nor DF at return, nor the control state: ``symabi.obligations.signal_handler``
drops exactly the claims about a register's value at return. What is owed, under the host ABI's ids:

    restore-rsp / restore-sp     SP at return as at entry (amd64: + 8, the restorer's address popped): the
                                 restorer's rt_sigreturn finds the frame there, or reloads garbage
    return-to-caller             control returns to the restorer ([RSP] at entry, X30 at entry); a tail jump
                                 to a previous handler enters it as the kernel would, with that SP
    df-clear-at-call             (amd64) DF clear at every call, into C (the host ABI) and into Go
    host-call-aligned            (amd64) RSP 0 mod 16 before every CALL or tail jump into host code: a
                                 previous handler chained to, a C function. Go code on amd64 needs 8-byte
                                 alignment only (cmd/compile/abi-internal.md), so none is judged at a call
                                 into Go there
    sp-aligned-at-call           (arm64) SP 16-byte aligned at every BL or tail branch, into Go as into C:
                                 Go's arm64 ABI keeps SP aligned as AAPCS64 does, and Linux faults an
                                 SP-relative access off it (SCTLR_EL1.SA0), as a Go callee's prologue makes
    x15-zero-at-abiinternal-call, r14-g-at-abiinternal-call, x28-g-at-abiinternal-call
                                 what Go's ABIInternal needs at a call into it
    stack-writes-below-entry-rsp / -sp
                                 stores through SP stay below the entry SP: at and above it is the kernel's
                                 frame (the restorer's address, ``uc``, ``info``). The handler may write ``uc``
                                 and ``info`` through the pointers the kernel passed (RSI/RDX, X1/X2): a world
                                 declares them as regions, ``writable = true`` where the handler rewrites the
                                 context it resumes (gVisor's safecopy sets the interrupted PC). The model keeps
                                 those regions apart from the stack, so a store through SP above the entry SP,
                                 into the frame rt_sigreturn reads, is refuted rather than followed
    writes-owned-memory          (amd64) no store through an address the host's values choose
    no-fault                     no instruction faults

A signal the handler does not block may arrive at any instruction and the kernel builds its frame right
below the SP of that moment (amd64: below the red zone), so memory below SP is volatile as under the host
ABI: a read there sees a fresh value. An arm64 handler the assembler frames saves X29 (the kernel's frame
record) at SP-8, below its SP, and reloads what may have been overwritten into X29 before its RET: harmless
here, as nothing reads X29 after it (the restorer does not; rt_sigreturn reloads it). Anything else reloaded
from below SP and used (a return address, a pointer, SP itself) is still a fresh value, and return-to-caller,
restore-sp or no-fault fails on the line that uses it.

rt_sigreturn does not restore the thread pointer (FS base, TPIDR_EL0) or what sigprocmask changed; code that
writes the thread pointer is outside the model (UNKNOWN), and what a handler passes to the handler it chains
to (sig, info, uc) is not judged, as no contract judges a callee's arguments.

The assumption, printed with every verdict (``ASSUMPTION``): entered by the kernel, registers restored by
rt_sigreturn, not chained from a C handler. A handler another handler calls with a plain CALL (a C
library's handler chaining on, or Go's runtime·sigfwd, which keeps the caller's SP in RBX across the CALL)
owes that caller the host ABI: check it with the port's host-entry contract as well (both are data:
``contract = "signal-handler"`` or none in symabi.toml).
"""

from __future__ import annotations

from dataclasses import dataclass

from symabi.contracts.windows_x64 import HostAbiContract
from symabi.errors import CaseError
from symabi.obligations import signal_handler as obligations
from symabi.ports import SYSV_AMD64
from symabi.ports.table import Port

ASSUMPTION = obligations.ASSUMPTION


@dataclass(frozen=True)
class SignalHandlerContract(HostAbiContract):
    """The obligations of a kernel-entered handler over one host ABI that calls ``host_callees``; ``for_port``
    rebinds it to a case's port (linux/amd64, linux/arm64)."""

    host_callees: frozenset[str] = frozenset()

    def __post_init__(self):
        super().__post_init__()
        set_ = object.__setattr__
        set_(self, "name", obligations.contract_name(self.host_callees))
        set_(self, "doc", f"a signal handler the kernel enters on a {self.abi.name} port ({ASSUMPTION}): SP and "
                          "the return address back for the restorer's rt_sigreturn, the stack aligned and DF clear at "
                          "calls, Go's registers at calls into ABIInternal, stores below the entry SP, no fault")
        set_(self, "obligations", obligations.signal_handler(self.abi, self.host_callees))

    @property
    def assumptions(self) -> tuple[str, ...]:
        return (ASSUMPTION,)

    def for_port(self, port: Port) -> SignalHandlerContract:
        why = obligations.why_not(port.goos, port.contract)
        if why:
            raise CaseError(why)
        return self if port.abi == self.abi else SignalHandlerContract(port.abi, host_callees=self.host_callees)


SIGNAL_HANDLER = SignalHandlerContract(SYSV_AMD64)  # rebound to each case's port by for_port


def register(contracts: dict, host_callees: frozenset[str]) -> str:
    """The contract's name for a handler calling ``host_callees``, registered in ``contracts``."""
    name = obligations.contract_name(host_callees)
    if name not in contracts:
        contracts[name] = SignalHandlerContract(SYSV_AMD64, host_callees=host_callees)
    return name


def lookup(contracts: dict, name: str) -> None:
    """Register the contract a case file names as ``signal-handler+host-calls(a,b)`` (``symabi check`` registers
    its own), so that the prover finds it by name; another name is left alone."""
    callees = obligations.parse_contract_name(name)
    if callees is not None:
        register(contracts, callees)
