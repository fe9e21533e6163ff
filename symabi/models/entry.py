"""Entry conventions: how the host hands control to the trampoline."""

from __future__ import annotations

from dataclasses import dataclass

import claripy

from symabi.engine.registers import RegisterFile

HOME_AREA = 32  # the four register-argument spill slots a Windows x64 caller reserves above the return address
STACK_RESERVE = 0x10000  # how far below the entry RSP the trampoline may use the stack (64 KiB)
LOWEST_STACK = 0x1_0000_0000
HIGHEST_STACK = 0x7FFE_FFFF_0000


@dataclass(frozen=True)
class EntryConventionModel:
    name: str
    doc: str
    assumptions: tuple[str, ...]

    def preconditions(self, regs: RegisterFile) -> list[claripy.ast.Bool]:
        rsp = regs["rsp"]
        return [
            rsp & 0xF == 8,
            claripy.UGE(rsp, LOWEST_STACK + STACK_RESERVE),
            claripy.ULE(rsp, HIGHEST_STACK),
        ]

    def caller_window(self, stack_args: int) -> int:
        """Bytes at and above the entry RSP the trampoline may read: return address, home area, stack args."""
        return 8 + HOME_AREA + stack_args


WINDOWS_X64_CALL = EntryConventionModel(
    name="windows-x64-call",
    doc="A Windows x64 caller CALLs the trampoline directly.",
    assumptions=(
        "RSP at entry is 8 mod 16 (16-byte aligned before the CALL pushed the return address)",
        "the return address on top of the stack is the caller's, a concrete sentinel",
        "DF is clear at entry; every other register and flag is an unconstrained symbolic value",
        f"the caller's frame holds a {HOME_AREA}-byte home area above the return address, then its stack arguments",
        f"the stack region spans entry RSP - {STACK_RESERVE:#x} up to the end of the caller's arguments and "
        "overlaps no other region",
    ),
)

ENTRY_CONVENTIONS: dict[str, EntryConventionModel] = {WINDOWS_X64_CALL.name: WINDOWS_X64_CALL}
