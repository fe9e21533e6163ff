"""Entry conventions of Go code: a Go function CALLs the trampoline (the Go → host direction).

Go's amd64 ABIs keep the stack pointer 8-byte aligned and promise nothing more (src/cmd/compile/
abi-internal.md: "The stack pointer, RSP, grows down and is always aligned to 8 bytes"): at the
trampoline's first instruction RSP is 0 or 8 mod 16. Both are real, and code that aligns the stack
itself (``ANDQ $~15, SP``) computes a different frame in each, so every path is explored twice, once
per residue, and the path names the one it ran in.

ABI0 passes the arguments and results in the caller's frame right above the return address:
``stack_args`` bytes (the TEXT symbol's ``$frame-args`` size, results included) whose initial words
are ``init.stack+0x8``, ``init.stack+0x10``, ... A function pointer argument the trampoline calls is
declared as the callee ``entry.stack+0x8`` (the host function whose address is that word).
ABIInternal passes them in registers (case-bound with ``registers``) and enters with X15 = 0 and
R14 = the current g; the go-to-host contract then owes the caller X15 = 0 and R14 = g on return.

``state.globals[GO_ENTRY]`` records which Go ABI entered the path and which bytes above the return
address belong to the trampoline (its argument and result words): the go-to-host contract reads it.
"""

from __future__ import annotations

from dataclasses import dataclass

import claripy

from symabi.casefile import EntryConvention
from symabi.engine.memory import write_initial
from symabi.models.entry import CALLER_FRAME, ENTRY_CONVENTIONS, HIGHEST_STACK, LOWEST_STACK, STACK_RESERVE, \
    EntryConventionModel

GO_ENTRY = "go_entry"  # the state.globals key


@dataclass(frozen=True)
class GoEntry:
    """What the go-to-host contract needs to know about how Go entered the path."""

    abi: str  # "abi0" | "abiinternal"
    frame: int  # bytes of argument and result words above the return address (the trampoline's to write)


_COMMON = (
    "a Go function CALLs the trampoline: RSP at entry is 8-byte aligned, 0 or 8 mod 16 (Go keeps no stronger "
    "alignment); every path is explored with each residue and names the one it ran in",
    "the return address on top of the stack is any user-space code address (entry.return_address): not in the "
    "null page, the trampoline's code, a callee, the stack or a runtime region",
    "DF is clear at entry (Go's ABI); every other register and flag is an unconstrained symbolic value unless "
    "the case binds it below",
    "no home area: the caller's argument and result words start right above the return address (init.stack+0x8, "
    "...), then the rest of the caller's frame (contents unknown)",
    "memory below the current RSP is volatile (a signal, an exception, a debugger may overwrite it): a read "
    "there sees a fresh value below-rsp#<k>",
    f"the stack region spans entry RSP - {STACK_RESERVE:#x} up to {CALLER_FRAME:#x} bytes above the caller's "
    "argument words and overlaps no other region",
)


@dataclass(frozen=True)
class GoCallConvention(EntryConventionModel):
    go_abi: str = "abi0"

    def preconditions(self, regs) -> list[claripy.ast.Bool]:
        rsp = regs["rsp"]
        out = [rsp & 7 == 0, claripy.UGE(rsp, LOWEST_STACK + STACK_RESERVE), claripy.ULE(rsp, HIGHEST_STACK)]
        if self.go_abi == "abiinternal":
            out.append(regs["xmm15"] == 0)
        return out

    def split(self, state, regs) -> list[tuple[str, object]]:
        """One start per residue of RSP mod 16 (see the module doc)."""
        out = []
        for residue in (0, 8):
            start = state.copy()
            start.add_constraints(regs["rsp"] & 0xF == residue)
            if start.satisfiable():
                out.append((f"RSP {residue} mod 16 at entry", start))
        return out

    def prepare(self, state, regs, stack, image, params: EntryConvention) -> list[claripy.ast.Bool]:
        super().prepare(state, regs, stack, image, params)
        for offset in range(8, 8 + params.stack_args, 8):  # the argument words, named as unwritten memory is
            write_initial(state, stack, offset, claripy.BVS(f"init.stack+{offset:#x}", 64, explicit_name=True))
        state.globals[GO_ENTRY] = GoEntry(self.go_abi, params.stack_args)
        return []

    def describe(self, params: EntryConvention) -> tuple[str, ...]:
        out = super().describe(params)
        if params.stack_args:
            out = tuple(a for a in out if not a.startswith("the caller passes")) + (
                f"the caller's frame holds {params.stack_args} bytes of argument and result words at entry RSP + 8",)
        return out


GO_ABI0_CALL = GoCallConvention(
    name="go-abi0-call",
    doc="A Go function CALLs the trampoline with ABI0: arguments and results in the caller's frame.",
    assumptions=_COMMON + ("ABI0: R14 and X15 are undefined at entry unless the case binds them (an ABIInternal "
                           "caller's wrapper leaves R14 = g); the caller expects only RSP and RBP back",),
    home_area=0,
    go_abi="abi0",
)

GO_ABIINTERNAL_CALL = GoCallConvention(
    name="go-abiinternal-call",
    doc="A Go function CALLs the trampoline with ABIInternal: arguments in registers, X15 = 0 and R14 = g.",
    assumptions=_COMMON + ("ABIInternal: X15 is zero at entry; R14 holds the current g (the case binds it to "
                           "the world's g with registers.r14); the caller expects RSP, RBP, R14 and X15 back",),
    home_area=0,
    go_abi="abiinternal",
)

for _c in (GO_ABI0_CALL, GO_ABIINTERNAL_CALL):
    ENTRY_CONVENTIONS.setdefault(_c.name, _c)  # importing this module registers the conventions
