"""Host ABIs as data: what a function entered by the host (C, the OS) owes it on return.

Each ABI names its callee-saved registers with the bits that must survive, its red zone (the bytes
below the stack pointer a leaf may use without moving it: 0 on Windows, 128 on System V), the home
area its caller reserves above the return address (32 bytes on Windows, none on System V), the flags
it fixes at a return, the control state (x87 control word, MXCSR) a callee must leave as it found it,
and the registers the platform reserves.
"""

from __future__ import annotations

from dataclasses import dataclass

from symabi.ports.arch import AMD64, ARM64, Architecture


@dataclass(frozen=True)
class CalleeSaved:
    register: str
    bits: int  # how many low bits must survive (all 128 of an XMM register on Windows; D8 = V8's low 64)


@dataclass(frozen=True)
class HostAbi:
    name: str  # also the contract's name: "windows-x64", "sysv-amd64"
    arch: Architecture
    callee_saved: tuple[CalleeSaved, ...]  # the stack pointer apart: it has its own obligation
    red_zone: int
    home_area: int
    df_clear_at_return: bool
    control_state: tuple[str, ...]  # "x87-control-word", "mxcsr": must be as at entry when it returns
    reserved: tuple[str, ...]  # registers the platform reserves, never to be written (X18 on darwin and windows arm64)
    plain_call: str  # the entry convention of an ordinary call from this host ("windows-x64-call")
    integer_arguments: tuple[str, ...]  # the integer (and pointer) argument registers, in order
    reference: str  # where the rules are written down
    doc: str = ""
    # the x87 register stack empty (x87 mode, no MMX state) at every call and at return (System V 3.2.1; the
    # Microsoft ABI has "no explicit calling convention" for it: volatile, the callee may use it)
    x87_empty: bool = False

    @property
    def callee_saved_registers(self) -> tuple[str, ...]:
        return tuple(c.register for c in self.callee_saved)

    @property
    def volatile(self) -> tuple[str, ...]:
        """The registers a host callee may leave changed: all but the callee-saved ones, the reserved ones and
        the stack pointer. A register the ABI keeps only in part (arm64's V8-V15: D8-D15) is volatile in its
        other bits (``partly_kept``)."""
        kept = {c.register for c in self.callee_saved if c.bits >= self.arch.width(c.register)} | set(self.reserved)
        return tuple(r.name for r in self.arch.registers
                     if r.kind != "view" and r.name not in kept and r.name != self.arch.stack_pointer)

    @property
    def partly_kept(self) -> dict[str, int]:
        """Register -> the low bits the ABI keeps of it, for a register it keeps only in part (V8 -> 64)."""
        out = {}
        for c in self.callee_saved:
            reg = self.arch.register(c.register)
            whole = reg.within or reg.name
            if c.bits < self.arch.width(whole):
                out[whole] = c.bits
        return out


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
    # MXCSR's control bits and the x87 control word are non-volatile (Microsoft, x64 ABI: "Floating-point
    # control"); red team 3: an FNINIT (control word 0x37f, where Windows runs with 0x27f) was PROVED
    control_state=("x87-control-word", "mxcsr"),
    reserved=(),
    plain_call="windows-x64-call",
    integer_arguments=("rcx", "rdx", "r8", "r9"),
    reference="Microsoft, x64 calling convention: caller/callee saved registers",
    doc="The Microsoft x64 calling convention: RBX, RBP, RDI, RSI, RSP, R12-R15 and XMM6-XMM15 (all 128 "
        "bits) are non-volatile, and so are the x87 control word and MXCSR's control bits; the caller reserves a "
        "32-byte home area above the return address; no red zone.",
)

SYSV_AMD64 = HostAbi(
    name="sysv-amd64",
    arch=AMD64,
    callee_saved=_saved(AMD64, ("rbx", "rbp", "r12", "r13", "r14", "r15")),
    red_zone=128,
    home_area=0,
    df_clear_at_return=True,
    x87_empty=True,
    control_state=("x87-control-word", "mxcsr"),
    reserved=(),
    plain_call="sysv-call",
    integer_arguments=("rdi", "rsi", "rdx", "rcx", "r8", "r9"),
    reference="System V Application Binary Interface, AMD64 Architecture Processor Supplement, 3.2",
    doc="The System V AMD64 ABI (ELF and Mach-O): RBX, RBP, RSP and R12-R15 belong to the caller, every "
        "XMM register is volatile; DF is clear at entry and at return; the x87 control word and the "
        "control bits of MXCSR are callee-saved; 128 bytes below RSP are a red zone; no home area.",
)

_AAPCS64_SAVED = _saved(ARM64, (*(f"x{i}" for i in range(19, 30)), *(f"d{i}" for i in range(8, 16))))
_AAPCS64_RULES = ("X19-X28, X29 (the frame pointer) and SP belong to the caller, and so do the low 64 bits of "
                  "V8-V15 (D8-D15; their upper halves and every other vector register are volatile); the return "
                  "address arrives in X30 (LR) and control returns there; no home area")


def _aapcs64(name: str, red_zone: int, reserved: tuple[str, ...], reference: str, doc: str) -> HostAbi:
    return HostAbi(name=name, arch=ARM64, callee_saved=_AAPCS64_SAVED, red_zone=red_zone, home_area=0,
                   df_clear_at_return=False, control_state=(), reserved=reserved, plain_call=f"{name}-call",
                   integer_arguments=tuple(f"x{i}" for i in range(8)),
                   reference=reference, doc=f"{_AAPCS64_RULES}; {doc}")


AAPCS64 = _aapcs64(
    "aapcs64", 0, (),
    "Arm, Procedure Call Standard for the Arm 64-bit Architecture (AAPCS64), 6.1.1 and 6.1.2",
    "no red zone (the Linux and BSD kernels build a signal frame right below SP); X18 is a temporary",
)
DARWIN_ARM64 = _aapcs64(
    "darwin-arm64", 128, ("x18",),
    "AAPCS64 and Apple, Writing ARM64 code for Apple platforms (X18 reserved, 128-byte red zone)",
    "X18 is the platform's (reserved by Apple) and must not be written; 128 bytes below SP are a red zone",
)
# The 16 bytes below SP are not the function's: Microsoft reserves them "for use by analysis and dynamic patching
# scenarios", code inserted anywhere that "stores two registers at [sp, #-16]" (the kernel keeps them for that
# code). Red team 3: a value kept there was PROVED. No red zone for the function.
WINDOWS_ARM64 = _aapcs64(
    "windows-arm64", 0, ("x18",),
    "AAPCS64 and Microsoft, Overview of ARM64 ABI conventions (X18 points at the TEB; the 16 bytes below SP are "
    "reserved for analysis and dynamic patching)",
    "X18 holds the thread's TEB and must not be written; no red zone: the 16 bytes below SP that the kernel keeps "
    "are reserved for instrumentation, which may store two registers there at any instruction",
)

# Android reserves X18 for ShadowCallStack (bionic and the system libraries keep the shadow call stack's pointer there;
# LLVM reserves X18 by default for Android targets, AArch64::isX18ReservedByDefault, as for darwin, windows and
# fuchsia). Red team 4: a stub writing X18 before a call into C was PROVED on android/arm64 under plain AAPCS64.
ANDROID_ARM64 = _aapcs64(
    "android-arm64", 0, ("x18",),
    "AAPCS64 and Android (X18 reserved for ShadowCallStack: LLVM's AArch64::isX18ReservedByDefault, clang's "
    "ShadowCallStack documentation)",
    "X18 is reserved (Android's ShadowCallStack keeps the shadow stack pointer there) and must not be written; no red "
    "zone (the Linux kernel builds a signal frame right below SP)",
)

HOST_ABIS: dict[str, HostAbi] = {a.name: a for a in (WINDOWS_X64, SYSV_AMD64, AAPCS64, DARWIN_ARM64, WINDOWS_ARM64,
                                                     ANDROID_ARM64)}
