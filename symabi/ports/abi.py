"""Host ABIs as data: what a function entered by the host (C, the OS) owes it on return.

Each ABI names its callee-saved registers with the bits that must survive, its red zone (the bytes
below the stack pointer a leaf may use without moving it: 0 on Windows, 128 on System V), the home
area its caller reserves above the return address (32 bytes on Windows, none on System V), the flags
it fixes at a return, the control state (x87 control word, MXCSR) a callee must leave as it found it,
and the registers the platform reserves.
"""

from __future__ import annotations

from dataclasses import dataclass

from symabi.ports.arch import AMD64, Architecture


@dataclass(frozen=True)
class CalleeSaved:
    register: str
    bits: int  # how many low bits must survive (all 128 of an XMM register on Windows)


@dataclass(frozen=True)
class HostAbi:
    name: str  # also the contract's name: "windows-x64", "sysv-amd64"
    arch: Architecture
    callee_saved: tuple[CalleeSaved, ...]  # the stack pointer apart: it has its own obligation
    red_zone: int
    home_area: int
    df_clear_at_return: bool
    control_state: tuple[str, ...]  # "x87-control-word", "mxcsr": must be as at entry when it returns
    reserved: tuple[str, ...]  # registers the platform reserves (none on amd64 hosts)
    plain_call: str  # the entry convention of an ordinary call from this host ("windows-x64-call")
    reference: str  # where the rules are written down
    doc: str = ""

    @property
    def callee_saved_registers(self) -> tuple[str, ...]:
        return tuple(c.register for c in self.callee_saved)


def _saved(arch: Architecture, names) -> tuple[CalleeSaved, ...]:
    return tuple(CalleeSaved(n, arch.width(n)) for n in names)


WINDOWS_X64 = HostAbi(
    name="windows-x64",
    arch=AMD64,
    callee_saved=_saved(AMD64, ("rbx", "rbp", "rdi", "rsi", "r12", "r13", "r14", "r15",
                                *(f"xmm{i}" for i in range(6, 16)))),
    red_zone=0,
    home_area=32,
    df_clear_at_return=True,
    control_state=(),  # not checked by windows-x64 (MXCSR and the x87 CW are non-volatile there too)
    reserved=(),
    plain_call="windows-x64-call",
    reference="Microsoft, x64 calling convention: caller/callee saved registers",
    doc="The Microsoft x64 calling convention: RBX, RBP, RDI, RSI, RSP, R12-R15 and XMM6-XMM15 (all 128 "
        "bits) are non-volatile; the caller reserves a 32-byte home area above the return address; no red zone.",
)

SYSV_AMD64 = HostAbi(
    name="sysv-amd64",
    arch=AMD64,
    callee_saved=_saved(AMD64, ("rbx", "rbp", "r12", "r13", "r14", "r15")),
    red_zone=128,
    home_area=0,
    df_clear_at_return=True,
    control_state=("x87-control-word", "mxcsr"),
    reserved=(),
    plain_call="sysv-call",
    reference="System V Application Binary Interface, AMD64 Architecture Processor Supplement, 3.2",
    doc="The System V AMD64 ABI (ELF and Mach-O): RBX, RBP, RSP and R12-R15 belong to the caller, every "
        "XMM register is volatile; DF is clear at entry and at return; the x87 control word and the "
        "control bits of MXCSR are callee-saved; 128 bytes below RSP are a red zone; no home area.",
)

HOST_ABIS: dict[str, HostAbi] = {a.name: a for a in (WINDOWS_X64, SYSV_AMD64)}
