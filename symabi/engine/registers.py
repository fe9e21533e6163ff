"""The shared symbolic register file every version of a trampoline starts from.

Each entry value is a claripy symbol with an explicit, version-independent name (``entry.rbx``), so
the old and the new version are executed from literally the same inputs and can be compared.
"""

from __future__ import annotations

from dataclasses import dataclass

import claripy

from symabi.ports import AMD64

GPRS = AMD64.gprs  # the architecture's registers, from symabi.ports
XMMS = AMD64.vectors
# The six arithmetic flags of RFLAGS: CF PF AF ZF SF OF. DF lives apart in VEX (guest_DFLAG).
ARITH_FLAGS_MASK = 0x8D5
# VEX keeps RFLAGS lazily; CC_OP_COPY means "cc_dep1 holds the flags themselves".
CC_OP_COPY = 0


def width(register: str) -> int:
    return AMD64.width(register)


@dataclass(frozen=True)
class RegisterFile:
    """Named symbols for every register's entry value."""

    values: dict[str, claripy.ast.BV]
    rflags: claripy.ast.BV  # the arithmetic flag bits at entry (other bits zero)
    ac: claripy.ast.BV  # RFLAGS.AC and RFLAGS.ID at entry, one bit each: the host may leave either set
    id: claripy.ast.BV
    return_address: claripy.ast.BV  # what the host's CALL pushed: any address of host code

    @classmethod
    def fresh(cls, prefix: str = "entry") -> RegisterFile:
        values = {r: claripy.BVS(f"{prefix}.{r}", width(r), explicit_name=True) for r in GPRS + XMMS}
        rflags = claripy.BVS(f"{prefix}.rflags", 64, explicit_name=True) & ARITH_FLAGS_MASK
        bit = {f: claripy.BVS(f"{prefix}.{f}", 1, explicit_name=True) for f in ("ac", "id")}
        return_address = claripy.BVS(f"{prefix}.return_address", 64, explicit_name=True)
        return cls(values, rflags, bit["ac"], bit["id"], return_address)

    def __getitem__(self, register: str) -> claripy.ast.BV:
        return self.values[register]


def read_register(state, register: str) -> claripy.ast.BV:
    return getattr(state.regs, register)


def df_is_set(state) -> claripy.ast.Bool:
    """DF as a condition: VEX stores it as +1 (clear) or -1 (set) in the `d` register."""
    return state.regs.d != 1
