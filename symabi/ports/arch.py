"""Architectures as data: registers and their widths, the stack and program counters, how a call
links, what alignment the stack has at entry, which flags matter, and the names angr, unicorn and
capstone know the architecture by. No angr or unicorn import: every layer may read this.

Two architectures: amd64, and arm64 (X0-X30, SP apart, V0-V31, LR linkage), each with its CPU module
in the engine (symabi/engine/cpu.py, symabi/engine/cpu_arm64.py).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Register:
    name: str  # lower case, as angr's state.regs and the reports spell it: "rbx", "xmm6"
    bits: int
    kind: str  # "gpr" | "vector" | "view" (the low bits of another register: arm64's D8 in V8)
    within: str | None = None  # a view's register


@dataclass(frozen=True)
class Architecture:
    name: str  # GOARCH
    registers: tuple[Register, ...]
    stack_pointer: str
    program_counter: str
    link: str  # "stack": a CALL pushes the return address; "register:<name>": a BL writes it to a register
    flags: str  # the entry flags' symbol: "rflags" (amd64's arithmetic flags), "nzcv"
    result: str  # the register a C function returns its integer result in: "rax", "x0"
    pointer_bits: int
    entry_alignment: tuple[int, int]  # (modulus, remainder) of the stack pointer at a function's entry
    direction_flag: str | None  # where string instructions' direction lives (VEX's "d"), None if no such flag
    segment_registers: tuple[str, ...]  # bases a thread's TLS may hang from
    angr_arch: str  # archinfo name
    unicorn: tuple[str, str]  # (UC_ARCH_*, UC_MODE_*) constant names of unicorn
    capstone: tuple[str, str]  # (CS_ARCH_*, CS_MODE_*) constant names of capstone
    doc: str = ""
    # (wide register, the vector register it extends): the bits above it, which the lifter models and every
    # host ABI makes volatile (amd64's AVX upper halves, YMMn above XMMn; a callee's VZEROUPPER clears them)
    volatile_uppers: tuple[tuple[str, str], ...] = ()
    # the lifter's register of x87 tags (VEX's guest_FPTAG: one byte per x87 register, 0 empty; an MMX
    # instruction fills all eight), None on an architecture without an x87 unit
    x87_tags: str | None = None

    def register(self, name: str) -> Register:
        for reg in self.registers:
            if reg.name == name:
                return reg
        raise KeyError(f"{self.name} has no register {name!r}")

    def width(self, name: str) -> int:
        return self.register(name).bits

    @property
    def link_register(self) -> str | None:
        """The register a call writes the return address to (arm64: x30), None when a CALL pushes it."""
        return self.link.split(":", 1)[1] if self.link.startswith("register:") else None

    @property
    def return_slot(self) -> int:
        """Bytes of the caller's return address at the entry stack pointer: 8 on amd64, 0 with a link register."""
        return 0 if self.link_register else self.pointer_bits // 8

    @property
    def gprs(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.registers if r.kind == "gpr")

    @property
    def vectors(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.registers if r.kind == "vector")


_AMD64_GPRS = ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
               "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15")

AMD64 = Architecture(
    name="amd64",
    registers=tuple(Register(r, 64, "gpr") for r in _AMD64_GPRS)
    + tuple(Register(f"xmm{i}", 128, "vector") for i in range(16)),
    stack_pointer="rsp",
    program_counter="rip",
    link="stack",
    flags="rflags",
    result="rax",
    pointer_bits=64,
    entry_alignment=(16, 8),  # 16-byte aligned before the CALL, which pushed 8 bytes
    direction_flag="d",
    segment_registers=("fs", "gs"),
    angr_arch="amd64",
    unicorn=("UC_ARCH_X86", "UC_MODE_64"),
    capstone=("CS_ARCH_X86", "CS_MODE_64"),
    doc="x86-64: 16 general-purpose registers, XMM0-XMM15 (the AVX upper halves of YMM0-YMM15 only as what a "
        "host call clobbers), RFLAGS with DF",
    volatile_uppers=tuple((f"ymm{i}", f"xmm{i}") for i in range(16)),
    x87_tags="fptag",
)

_ARM64_GPRS = tuple(f"x{i}" for i in range(31)) + ("sp",)

ARM64 = Architecture(
    name="arm64",
    registers=tuple(Register(r, 64, "gpr") for r in _ARM64_GPRS)
    + tuple(Register(f"v{i}", 128, "vector") for i in range(32))
    + tuple(Register(f"d{i}", 64, "view", within=f"v{i}") for i in range(32)),
    stack_pointer="sp",
    program_counter="pc",
    link="register:x30",  # BL writes the return address to X30 (LR); RET jumps to it
    flags="nzcv",
    result="x0",
    pointer_bits=64,
    entry_alignment=(16, 0),  # AAPCS64: SP is 16-byte aligned at every public interface (a BL pushes nothing)
    direction_flag=None,
    segment_registers=("tpidr_el0",),  # the thread pointer (VEX models TPIDR_EL0; TPIDRRO_EL0: cpu_arm64.py)
    angr_arch="AARCH64",
    unicorn=("UC_ARCH_ARM64", "UC_MODE_ARM"),
    capstone=("CS_ARCH_ARM64", "CS_MODE_ARM"),
    doc="AArch64: X0-X30 (X29 the frame pointer, X30 the link register), SP, V0-V31 (128 bits; Dn is the "
        "low 64 bits of Vn), NZCV; a BL writes the return address to X30, RET jumps to it",
)

ARCHITECTURES: dict[str, Architecture] = {a.name: a for a in (AMD64, ARM64)}
ANGR_NAMES: dict[str, Architecture] = {a.angr_arch.upper(): a for a in (AMD64, ARM64)}  # archinfo's arch.name
