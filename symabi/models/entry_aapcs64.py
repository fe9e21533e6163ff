"""Entry conventions of the arm64 ports (AAPCS64: linux and the BSDs, darwin, windows).

The host enters with BL (or BLR): the return address is in X30 (``entry.x30``, the contract's return
address), SP is 16-byte aligned and points at the caller's outgoing stack arguments (nothing is
pushed), and every byte at or above it is the caller's. A signal handler, a thread start routine or a
library initialiser is entered the same way as far as the machine state goes; the case binds the
argument registers when the code dereferences them.
"""

from __future__ import annotations

from dataclasses import dataclass

import claripy

from symabi.models.entry import CALLER_FRAME, ENTRY_CONVENTIONS, HIGHEST_STACK, LOWEST_STACK, STACK_RESERVE, \
    EntryConventionModel
from symabi.ports import AAPCS64, ANDROID_ARM64, DARWIN_ARM64, WINDOWS_ARM64, HostAbi
from symabi.obligations.stack_writes import caller_frame

_COMMON = (
    "SP at entry is 16-byte aligned (AAPCS64's public-interface rule) and points at the caller's stack "
    "arguments: every byte at or above it is the caller's",
    "X30 (LR) holds the return address (entry.x30): any user-space code address a BL can leave, 4-byte "
    "aligned, not in the null page, the trampoline's code, a callee, the stack or a runtime region",
    "every other register, NZCV included, is an unconstrained symbolic value (unless the case binds it below)",
    f"the stack region spans entry SP - {STACK_RESERVE:#x} up to {CALLER_FRAME:#x} bytes above the caller's "
    "stack arguments (the caller's frame, contents unknown) and overlaps no other region",
)


def _stack_rule(abi: HostAbi) -> str:
    if abi.red_zone:
        return (f"the {abi.red_zone} bytes below SP are a red zone the OS keeps; below that memory is volatile "
                "(a read there sees a fresh value below-rsp#<k>)")
    return "memory below SP is volatile (a signal frame may be built there at any time): a read there sees a " \
           "fresh value below-rsp#<k>"


@dataclass(frozen=True)
class Aapcs64Call(EntryConventionModel):
    """A BL from the host: nothing on the stack, the return address in X30."""

    def preconditions(self, regs) -> list[claripy.ast.Bool]:
        sp = regs.stack_pointer
        return [sp & 0xF == 0, claripy.UGE(sp, LOWEST_STACK + STACK_RESERVE), claripy.ULE(sp, HIGHEST_STACK)]

    def return_address(self, regs, taken) -> list[claripy.ast.Bool]:
        return super().return_address(regs, taken) + [regs.return_address & 3 == 0]

    def caller_frame(self, stack_args: int) -> int:
        return caller_frame(0, self.home_area, stack_args)  # the return address is in X30, not on the stack

    def prepare(self, state, regs, stack, image, params) -> list[claripy.ast.Bool]:
        state.regs.sp = regs.stack_pointer
        return []


def _convention(name: str, abi: HostAbi, doc: str) -> Aapcs64Call:
    return Aapcs64Call(name=name, doc=doc, assumptions=(*_COMMON, _stack_rule(abi)), red_zone=abi.red_zone,
                       home_area=0)


AAPCS64_CALL = _convention("aapcs64-call", AAPCS64, "An AAPCS64 caller (C, the OS) BLs the trampoline (linux, the BSDs).")
DARWIN_ARM64_CALL = _convention("darwin-arm64-call", DARWIN_ARM64,
                                "An Apple arm64 caller BLs the trampoline (X18 is the platform's).")
WINDOWS_ARM64_CALL = _convention("windows-arm64-call", WINDOWS_ARM64,
                                 "A Windows arm64 caller BLs the trampoline (X18 points at the TEB).")
ANDROID_ARM64_CALL = _convention("android-arm64-call", ANDROID_ARM64,
                                 "An Android arm64 caller BLs the trampoline (X18 is ShadowCallStack's).")

for _c in (AAPCS64_CALL, DARWIN_ARM64_CALL, WINDOWS_ARM64_CALL, ANDROID_ARM64_CALL):
    ENTRY_CONVENTIONS.setdefault(_c.name, _c)  # importing this module registers the conventions
