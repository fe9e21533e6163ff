"""Entry conventions: how the host hands control to the trampoline.

The shared register file's ``entry.rsp`` is always the RSP the *host's* CALL produced (pointing at
the host's return address); a convention that enters through an intermediate CALL (the callbackasm
table) starts the trampoline lower on the stack, but the contract is still about the host caller.
"""

from __future__ import annotations

from dataclasses import dataclass

import claripy

from symabi.casefile import EntryConvention
from symabi.engine.cpu import AC_AT_ENTRY
from symabi.engine.memory import NULL_PAGES, USER_SPACE_END, SymbolicRegion, guarded_pages, write_initial
from symabi.engine.registers import RegisterFile
from symabi.errors import CaseError
from symabi.loader import Image
from symabi.obligations.stack_writes import caller_frame
from symabi.ports import WINDOWS_X64

HOME_AREA = WINDOWS_X64.home_area  # the four register-argument spill slots a Windows x64 caller reserves
STACK_RESERVE = 0x10000  # how far below the entry RSP the trampoline may use the stack (64 KiB)
CALLER_FRAME = 0x1000  # how much of the caller's frame above its arguments is modelled (so a stray write is seen)
LOWEST_STACK = 0x1_0000_0000
HIGHEST_STACK = 0x7FFE_FFFF_0000

_COMMON = (
    "RSP at the host's CALL is 8 mod 16 (16-byte aligned before the CALL pushed the return address)",
    "the host's return address on top of its stack is any user-space code address (entry.return_address, "
    "odd or even): not in the null page, the trampoline's code, a callee, the stack or a runtime region",
    "DF and TF are clear at entry; IF and RFLAGS bit 1 are set (as in all user-mode code); every other "
    "register and flag, AC and ID included, is an unconstrained symbolic value (unless the case binds it below)",
    AC_AT_ENTRY,
    f"the caller's frame holds a {HOME_AREA}-byte home area above the return address, then its stack arguments",
    f"the stack region spans entry RSP - {STACK_RESERVE:#x} up to {CALLER_FRAME:#x} bytes above the caller's "
    "arguments (the caller's frame, contents unknown) and overlaps no other region",
    "memory below the current RSP is volatile (the OS, a debugger or exception dispatch may overwrite it at "
    "any time): a read there sees a fresh value below-rsp#<k>",
)


@dataclass(frozen=True)
class EntryConventionModel:
    name: str
    doc: str
    assumptions: tuple[str, ...]
    red_zone: int = 0  # Windows x64: nothing below RSP is safe from the OS, a debugger or an exception
    home_area: int = HOME_AREA  # bytes the host's caller reserves above the return address (its ABI's)

    def preconditions(self, regs: RegisterFile) -> list[claripy.ast.Bool]:
        rsp = regs["rsp"]
        return [
            rsp & 0xF == 8,
            claripy.UGE(rsp, LOWEST_STACK + STACK_RESERVE),
            claripy.ULE(rsp, HIGHEST_STACK),
        ]

    def return_address(self, regs: RegisterFile, taken: list[tuple[claripy.ast.BV, int]]) -> list[claripy.ast.Bool]:
        """What reality says of the host's return address: a user-space address of host code, so outside
        the null page and outside every span in ``taken`` ((start, size): code, stubs, stack, regions)."""
        ra = regs.return_address
        out = [claripy.UGE(ra, NULL_PAGES), claripy.ULT(ra, USER_SPACE_END)]
        for start, size in taken:
            low, high = guarded_pages(start, size)  # code shares no page with a stack or a structure
            out.append(claripy.Or(claripy.ULT(ra, low), claripy.UGE(ra, high)))
        return out

    def caller_frame(self, stack_args: int) -> int:
        """Where the caller's own frame begins above the entry RSP (symabi.obligations.stack_writes)."""
        return caller_frame(8, self.home_area, stack_args)

    def stack_reserve(self, params: EntryConvention) -> int:
        """How far below the entry stack pointer the stack region reaches: what the trampoline may use."""
        return STACK_RESERVE

    def caller_window(self, stack_args: int) -> int:
        """Bytes at and above the entry RSP that are modelled: return address, home area, stack arguments and
        the rest of the caller's frame (whose contents are unknown; writing there breaks the contract)."""
        return self.caller_frame(stack_args) + CALLER_FRAME

    def describe(self, params: EntryConvention) -> tuple[str, ...]:
        """The assumptions with the case's parameters filled in."""
        extra = tuple(f"{reg.upper()} at entry is {value}" for reg, value in params.registers.items())
        if params.stack_args:
            extra += (f"the caller passes {params.stack_args} bytes of stack arguments",)
        return self.assumptions + extra

    def prepare(self, state, regs: RegisterFile, stack: SymbolicRegion, image: Image,
                params: EntryConvention) -> list[claripy.ast.Bool]:
        """Lay down what the host put on the stack; return any constraints on new entry inputs."""
        write_initial(state, stack, 0, regs.return_address)
        state.regs.rsp = regs["rsp"]
        return []


@dataclass(frozen=True)
class CallbackTableConvention(EntryConventionModel):
    """The host CALLs ``table + stride*i``; that table entry CALLs the trampoline."""

    def describe(self, params: EntryConvention) -> tuple[str, ...]:
        return super().describe(params) + (
            f"the host called {params.table} + {params.stride}*i for a symbolic i, 0 <= i < {params.table_entries}; "
            f"that entry's CALL pushed {params.table} + {params.stride}*(i+1) below the host's return address",
        )

    def prepare(self, state, regs, stack, image, params):
        if not params.table or not params.stride or not params.table_entries:
            raise CaseError(f"entry convention {self.name} needs `table`, `stride` and `table_entries`")
        table = image.symbols.get(params.table, image.stub_for(params.table))
        if table is None:
            raise CaseError(f"entry convention {self.name}: table symbol {params.table!r} is not referenced by the code")
        super().prepare(state, regs, stack, image, params)
        index = claripy.BVS("entry.callback_index", 64, explicit_name=True)
        write_initial(state, stack, -8, table + params.stride * (index + 1))
        state.regs.rsp = regs["rsp"] - 8
        return [claripy.ULT(index, params.table_entries)]


WINDOWS_X64_CALL = EntryConventionModel(
    name="windows-x64-call",
    doc="A Windows x64 caller CALLs the trampoline directly.",
    assumptions=_COMMON,
)

CALLBACKASM_TABLE = CallbackTableConvention(
    name="callbackasm-table",
    doc="A Windows x64 caller CALLs an entry of a table of CALL instructions, which CALLs the trampoline.",
    assumptions=_COMMON,
)

ENTRY_CONVENTIONS: dict[str, EntryConventionModel] = {c.name: c for c in (WINDOWS_X64_CALL, CALLBACKASM_TABLE)}
