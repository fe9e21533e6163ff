"""The shared symbolic register file every version of a trampoline starts from.

Each entry value is a claripy symbol with an explicit, version-independent name (``entry.rbx``), so
the old and the new version are executed from literally the same inputs and can be compared.
"""

from __future__ import annotations

from dataclasses import dataclass

import claripy

from symabi.ports import AMD64, ANGR_NAMES, Architecture

GPRS = AMD64.gprs  # the architecture's registers, from symabi.ports
XMMS = AMD64.vectors
# The six arithmetic flags of RFLAGS: CF PF AF ZF SF OF. DF lives apart in VEX (guest_DFLAG).
ARITH_FLAGS_MASK = 0x8D5
# NZCV: bits 31-28 of the flags word VEX's ARM64 thunk holds with ARM64G_CC_OP_COPY.
NZCV_MASK = 0xF000_0000
FLAG_MASKS = {"rflags": ARITH_FLAGS_MASK, "nzcv": NZCV_MASK}
# VEX keeps the flags lazily; CC_OP_COPY (0 on amd64 and arm64) means "cc_dep1 holds the flags themselves".
CC_OP_COPY = 0


def width(register: str, arch: Architecture = AMD64) -> int:
    return arch.width(register)


def arch_of(state) -> Architecture:
    """The symabi architecture of an angr state (archinfo's name: AMD64, AARCH64)."""
    return ANGR_NAMES[state.arch.name]


@dataclass(frozen=True)
class RegisterFile:
    """Named symbols for every register's entry value."""

    values: dict[str, claripy.ast.BV]
    rflags: claripy.ast.BV  # the arithmetic flag bits at entry (other bits zero): RFLAGS' six, or NZCV
    ac: claripy.ast.BV | None  # RFLAGS.AC and RFLAGS.ID at entry, one bit each: the host may leave either set
    id: claripy.ast.BV | None  # (None on an architecture without them)
    return_address: claripy.ast.BV  # what the host's CALL pushed, or its BL left in the link register
    arch: Architecture = AMD64

    @classmethod
    def fresh(cls, prefix: str = "entry", arch: Architecture = AMD64) -> RegisterFile:
        names = arch.gprs + arch.vectors
        values = {r: claripy.BVS(f"{prefix}.{r}", arch.width(r), explicit_name=True) for r in names}
        flags = claripy.BVS(f"{prefix}.{arch.flags}", 64, explicit_name=True) & FLAG_MASKS[arch.flags]
        if arch.link_register:  # the return address is the link register's entry value
            return cls(values, flags, None, None, values[arch.link_register], arch)
        bit = {f: claripy.BVS(f"{prefix}.{f}", 1, explicit_name=True) for f in ("ac", "id")}
        return_address = claripy.BVS(f"{prefix}.return_address", 64, explicit_name=True)
        return cls(values, flags, bit["ac"], bit["id"], return_address, arch)

    def __getitem__(self, register: str) -> claripy.ast.BV:
        if register in self.values:
            return self.values[register]
        reg = self.arch.register(register)  # a view: the low bits of another register (arm64's D8)
        return self.values[reg.within][reg.bits - 1:0]

    @property
    def stack_pointer(self) -> claripy.ast.BV:
        return self.values[self.arch.stack_pointer]


def read_register(state, register: str) -> claripy.ast.BV:
    return getattr(state.regs, register)


def x87_in_use(state) -> claripy.ast.BV | None:
    """How many of the eight x87 registers hold a value, as 8 bits (None on an architecture without x87): VEX
    keeps one tag byte per register, 0 when it is empty; an MMX instruction sets all eight."""
    tags = arch_of(state).x87_tags
    if tags is None:
        return None
    word = state.registers.load(tags)
    one, none = claripy.BVV(1, 8), claripy.BVV(0, 8)
    count = none
    for i in range(word.length // 8):
        count = count + claripy.If(word[8 * i + 7:8 * i] != 0, one, none)
    return count


def df_is_set(state) -> claripy.ast.Bool:
    """DF as a condition: VEX stores it as +1 (clear) or -1 (set) in the `d` register (never set on arm64)."""
    if arch_of(state).direction_flag is None:
        return claripy.false()
    return state.regs.d != 1
