"""Architectures as data: registers and their widths, the stack and program counters, how a call
links, what alignment the stack has at entry, which flags matter, and the names angr, unicorn and
capstone know the architecture by. No angr or unicorn import: every layer may read this.

amd64 is the one architecture today; arm64 is meant to be one more ``Architecture`` value here
(31 X registers and V0-V31, SP apart, LR linkage) plus its CPU module in the engine.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Register:
    name: str  # lower case, as angr's state.regs and the reports spell it: "rbx", "xmm6"
    bits: int
    kind: str  # "gpr" | "vector"


@dataclass(frozen=True)
class Architecture:
    name: str  # GOARCH
    registers: tuple[Register, ...]
    stack_pointer: str
    program_counter: str
    link: str  # "stack": a CALL pushes the return address; "register:<name>": a BL writes it to a register
    pointer_bits: int
    entry_alignment: tuple[int, int]  # (modulus, remainder) of the stack pointer at a function's entry
    direction_flag: str | None  # where string instructions' direction lives (VEX's "d"), None if no such flag
    segment_registers: tuple[str, ...]  # bases a thread's TLS may hang from
    angr_arch: str  # archinfo name
    unicorn: tuple[str, str]  # (UC_ARCH_*, UC_MODE_*) constant names of unicorn
    capstone: tuple[str, str]  # (CS_ARCH_*, CS_MODE_*) constant names of capstone
    doc: str = ""

    def register(self, name: str) -> Register:
        for reg in self.registers:
            if reg.name == name:
                return reg
        raise KeyError(f"{self.name} has no register {name!r}")

    def width(self, name: str) -> int:
        return self.register(name).bits

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
    pointer_bits=64,
    entry_alignment=(16, 8),  # 16-byte aligned before the CALL, which pushed 8 bytes
    direction_flag="d",
    segment_registers=("fs", "gs"),
    angr_arch="amd64",
    unicorn=("UC_ARCH_X86", "UC_MODE_64"),
    capstone=("CS_ARCH_X86", "CS_MODE_64"),
    doc="x86-64: 16 general-purpose registers, XMM0-XMM15 (the AVX upper halves are not modelled), RFLAGS with DF",
)

ARCHITECTURES: dict[str, Architecture] = {AMD64.name: AMD64}
