"""stack-pointer and return: the caller's stack pointer comes back, and so does control."""

from __future__ import annotations

from symabi.obligations.definition import AT_RETURN, Obligation, ReturnsToCaller, StackPointerRestored, define
from symabi.ports.arch import Architecture


def restore_sp(arch: Architecture) -> Obligation:
    """restore-rsp (a RET pops the return address) or restore-sp (a link register: SP as at entry)."""
    sp, popped = arch.stack_pointer, arch.return_slot
    name = sp.upper()
    doc = (f"{name} at return equals entry {name} + {popped} (the return address popped)" if popped
           else f"{name} at return equals {name} at entry")
    return define(f"restore-{sp}", sp, "stack-pointer", doc, AT_RETURN, StackPointerRestored(sp, popped))


RETURN = define("return-to-caller", "return_address", "return", "control returns to the caller's return address",
                AT_RETURN, ReturnsToCaller())
