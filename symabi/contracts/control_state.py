"""The x87 control word and MXCSR: callee-saved control state of the System V AMD64 ABI.

symabi's machine model does not track either register (VEX keeps only MXCSR's rounding mode, and no
x87 state is modelled), so the obligation is judged from the code itself: a path that executes no
instruction able to change them leaves them as the host set them (the Go callees are assumed to leave
them alone: a stated assumption of the callee models). A path that does execute one (FLDCW, FNINIT,
LDMXCSR, FXRSTOR, ...) is UNKNOWN, naming the instruction: whether the trampoline restores the value
is not modelled. The instructions are found with capstone over the assembled bytes, not from the
assembler's text.

The obligations are defined in ``symabi.obligations.direction_flag`` (``ControlStateKept`` claims) and
the scan lives in ``symabi.obligations.code_scan``; this module keeps the names it has always had.
"""

from __future__ import annotations

from symabi.obligations.code_scan import X86_WRITERS as WRITERS
from symabi.obligations.code_scan import x86_writers
from symabi.obligations.direction_flag import CONTROL_STATE as FAMILY
from symabi.obligations.direction_flag import control_state as obligations

__all__ = ["FAMILY", "WRITERS", "executed_writers", "obligations"]


def executed_writers(path, image, state: str) -> list[int]:
    """Addresses of instructions that write ``state`` and that the path may have executed."""
    return x86_writers(path.blocks, image, state)
