"""The engine's conventions, restated so that replay never imports angr or claripy.

Each value here must equal the one in the module named beside it; ``tests/test_replay.py`` checks
that they do, so a change on the symbolic side cannot silently drift away from the concrete one. The
obligations are not restated: both sides read their definitions (``symabi.obligations``).
"""

from __future__ import annotations

from symabi.ports import WINDOWS_X64  # pure data: no angr, no claripy

# symabi.engine.registers
GPRS = ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15")
XMMS = tuple(f"xmm{i}" for i in range(16))
ARITH_FLAGS_MASK = 0x8D5  # CF PF AF ZF SF OF
DF_BIT = 0x400  # RFLAGS.DF
RFLAGS_FIXED = 0x2  # bit 1 of RFLAGS always reads as one

# symabi.engine.memory
STACK_SHADOW = 0x7FF0_0000_0000  # where the engine places the byte at entry RSP + 0

# symabi.models.entry (the home area is the Windows x64 ABI's, symabi.ports)
HOME_AREA = WINDOWS_X64.home_area
STACK_RESERVE = 0x10000
CALLER_FRAME = 0x1000
LOWEST_STACK = 0x1_0000_0000
HIGHEST_STACK = 0x7FFE_FFFF_0000


def width(register: str) -> int:
    return 128 if register.startswith("xmm") else 64
