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
from symabi.engine.cpu import AC_AT_ENTRY
from symabi.engine.memory import write_initial
from symabi.models.entry import CALLER_FRAME, ENTRY_CONVENTIONS, HIGHEST_STACK, LOWEST_STACK, STACK_RESERVE, \
    EntryConventionModel

GO_ENTRY = "go_entry"  # the state.globals key


@dataclass(frozen=True)
class GoEntry:
    """What the go-to-host contract needs to know about how Go entered the path."""

    abi: str  # "abi0" | "abiinternal"
    frame: int  # bytes of argument and result words above the return address (the trampoline's to write), padded
    saved_fp_below: int = 0  # bytes right below the entry SP holding the caller's saved frame pointer (arm64: 8)
    stack: str = ""  # the caller's stack (EntryConvention.stack): "goroutine" leaves no room for a host callee


# What Go promises a NOSPLIT function below its SP when ordinary (stack-checked) Go code calls it: the linker's
# nosplit check keeps every chain of NOSPLIT frames within StackNosplitBase (800) bytes times StackGuardMultiplier
# (1, more under -race): internal/abi/stack.go, cmd/internal/objabi/stack.go
GOROUTINE_ROOM = 800

_STACKS = {
    "": "the Go caller runs on a system stack (g0's, gsignal's or a C thread's: the case does not say), with room "
        "for a host callee below the entry SP; on a goroutine stack a call into host code would be UNKNOWN",
    "system": "the Go caller runs on a system stack (g0's, gsignal's or a C thread's), with room for a host callee "
              "below the entry SP",
    "goroutine": f"the Go caller may run on a goroutine stack, which promises a NOSPLIT function called from "
                 f"ordinary Go code {GOROUTINE_ROOM} bytes below its SP (StackNosplit): the stack region reaches "
                 f"entry SP - {GOROUTINE_ROOM:#x} only, and a call into host code on it is UNKNOWN (C needs a system "
                 "stack)",
}


def padded(stack_args: int) -> int:
    """The argument and result bytes as the caller lays them out: rounded up to whole pointer-size words (the
    caller's outgoing argument area is part of its 8-byte aligned frame, and nothing else lives in the padding
    after an int32 result: asmcgocall's nosave path stores its int32 result with an 8-byte MOVD)."""
    return -(-stack_args // 8) * 8


_COMMON = (
    "a Go function CALLs the trampoline: RSP at entry is 8-byte aligned, 0 or 8 mod 16 (Go keeps no stronger "
    "alignment); every path is explored with each residue and names the one it ran in",
    "the return address on top of the stack is any user-space code address (entry.return_address): not in the "
    "null page, the trampoline's code, a callee, the stack or a runtime region",
    "DF is clear at entry (Go's ABI); every other register and flag is an unconstrained symbolic value unless "
    "the case binds it below",
    AC_AT_ENTRY,
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
        state.globals[GO_ENTRY] = GoEntry(self.go_abi, padded(params.stack_args), stack=params.stack)
        return []

    def stack_reserve(self, params: EntryConvention) -> int:
        """A goroutine stack's room below a NOSPLIT function (``GOROUTINE_ROOM``); else a system stack's."""
        return GOROUTINE_ROOM if params.stack == "goroutine" else STACK_RESERVE

    def describe(self, params: EntryConvention) -> tuple[str, ...]:
        out = super().describe(params)
        if params.stack == "goroutine":
            out = tuple(a for a in out if not a.startswith("the stack region spans"))
        out += (_STACKS[params.stack],)
        if params.stack_args:
            out = tuple(a for a in out if not a.startswith("the caller passes")) + (
                f"the caller's frame holds {params.stack_args} bytes of argument and result words at entry RSP + 8 "
                f"(the trampoline's to write, padded to {padded(params.stack_args)} bytes: whole words)",)
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

# ---- arm64 -------------------------------------------------------------------------------------------
# Go's arm64 ABIs (abi-internal.md, "arm64 architecture"): a Go function BLs the trampoline, so the return
# address is in X30 and nothing is pushed; RSP is always 16-byte aligned; 0(RSP) is the caller's own saved-LR
# slot and the ABI0 arguments and results are the words from 8(RSP) up; the caller saved its frame pointer at
# RSP-8 (cmd/internal/obj/arm64 puts every function's saved R29 right below its SP, in the top word of its
# callee's frame), which the trampoline must leave alone; R28 is the current g in ABI0 and ABIInternal code
# alike (the assembler's `g`), "Same" across the call, and so are R29 and RSP.

_ARM64 = (
    "a Go function BLs the trampoline: SP at entry is 16-byte aligned (Go's arm64 stack pointer always is) and "
    "X30 holds the return address (entry.x30): any user-space code address, 4-byte aligned, not in the null "
    "page, the trampoline's code, a callee, the stack or a runtime region",
    "0(RSP) at entry is the caller's saved-LR slot and entry RSP-8 holds the caller's saved frame pointer "
    "(Go's arm64 frame layout): both are the caller's; the argument and result words start at entry RSP+8 "
    "(init.stack+0x8, ...), then the rest of the caller's frame (contents unknown)",
    "R28 is the current g in ABI0 and ABIInternal code alike (the assembler's `g`): the caller expects R28, "
    "R29 (the frame pointer) and SP back as they were; every other register and NZCV is an unconstrained "
    "symbolic value unless the case binds it below",
    "the word at SP - 8 holds the running function's saved frame pointer, which nothing overwrites (Go runs "
    "signal handlers on the signal stack, and an injected asyncPreempt call keeps SP - 8: runtime's arm64 "
    "pushCall); below that, memory below the current SP is volatile: a read there sees a fresh value "
    "below-rsp#<k>",
    f"the stack region spans entry SP - {STACK_RESERVE:#x} up to {CALLER_FRAME:#x} bytes above the caller's "
    "argument words and overlaps no other region",
)


@dataclass(frozen=True)
class GoArm64Call(GoCallConvention):
    """A BL from Go code on arm64 (see the comment above)."""

    def preconditions(self, regs) -> list[claripy.ast.Bool]:
        sp = regs.stack_pointer
        return [sp & 0xF == 0, claripy.UGE(sp, LOWEST_STACK + STACK_RESERVE), claripy.ULE(sp, HIGHEST_STACK)]

    def split(self, state, regs) -> list[tuple[str, object]]:
        return [("", state)]  # one situation: Go keeps SP 16-byte aligned on arm64

    def return_address(self, regs, taken) -> list[claripy.ast.Bool]:
        return super().return_address(regs, taken) + [regs.return_address & 3 == 0]

    def caller_window(self, stack_args: int) -> int:
        return 8 + stack_args + CALLER_FRAME

    def prepare(self, state, regs, stack, image, params: EntryConvention) -> list[claripy.ast.Bool]:
        state.regs.sp = regs.stack_pointer
        for offset in range(8, 8 + params.stack_args, 8):
            write_initial(state, stack, offset, claripy.BVS(f"init.stack+{offset:#x}", 64, explicit_name=True))
        state.globals[GO_ENTRY] = GoEntry(self.go_abi, padded(params.stack_args), saved_fp_below=8,
                                          stack=params.stack)
        return []


GO_ABI0_ARM64_CALL = GoArm64Call(
    name="go-abi0-arm64-call",
    doc="A Go function BLs the trampoline with ABI0 on arm64: arguments and results at 8(RSP) and up.",
    assumptions=_ARM64 + ("ABI0: the caller expects SP, R29 and R28 (g) back",),
    home_area=0,
    red_zone=8,
    go_abi="abi0",
)

GO_ABIINTERNAL_ARM64_CALL = GoArm64Call(
    name="go-abiinternal-arm64-call",
    doc="A Go function BLs the trampoline with ABIInternal on arm64: arguments in R0-R15 and F0-F15, R28 = g.",
    assumptions=_ARM64 + ("ABIInternal: arguments in R0-R15 and F0-F15 (case-bound with `registers` when the "
                          "code dereferences them); the caller expects SP, R29 and R28 (g) back",),
    home_area=0,
    red_zone=8,
    go_abi="abiinternal",
)

for _c in (GO_ABI0_CALL, GO_ABIINTERNAL_CALL, GO_ABI0_ARM64_CALL, GO_ABIINTERNAL_ARM64_CALL):
    ENTRY_CONVENTIONS.setdefault(_c.name, _c)  # importing this module registers the conventions
