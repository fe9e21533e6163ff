"""The engine's conventions, restated so that replay never imports angr or claripy.

Each value here must equal the one in the module named beside it; ``tests/test_replay.py`` checks
that they do, so a change on the symbolic side cannot silently drift away from the concrete one.
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

# symabi.contracts.windows_x64 (its callee-saved registers: the Windows x64 ABI's, symabi.ports)
NONVOLATILE_GPRS = tuple(c.register for c in WINDOWS_X64.callee_saved if c.bits == 64)
NONVOLATILE_XMMS = tuple(c.register for c in WINDOWS_X64.callee_saved if c.bits == 128)
# (obligation id, location), in the contract's order
OBLIGATIONS = (
    *((f"preserve-{r}", r) for r in NONVOLATILE_GPRS + NONVOLATILE_XMMS),
    ("restore-rsp", "rsp"),
    ("return-to-caller", "return_address"),
    ("df-clear-at-return", "df"),
    ("df-clear-at-call", "df"),
    ("stack-writes-in-frame", "stack"),
    ("writes-owned-memory", "memory"),
    ("x15-zero-at-abiinternal-call", "xmm15"),
    ("r14-g-at-abiinternal-call", "r14"),
    ("no-fault", "fault"),
)
# obligations that apply on a path that aborts (calls a noreturn callee, traps), not only on returns
APPLIES_ON_ABORT = frozenset({"df-clear-at-call", "stack-writes-in-frame", "writes-owned-memory", "x15-zero-at-abiinternal-call",
                              "r14-g-at-abiinternal-call", "no-fault"})
# obligations replay does not model (which calls are ABIInternal, and the current g, are not replayed):
# a counterexample of one is left unreplayed (Violation.replay == ""), never "not reproduced"
NOT_REPLAYED = frozenset({"x15-zero-at-abiinternal-call", "r14-g-at-abiinternal-call"})


# symabi.contracts.go_to_host (home-area-at-call holds trivially where the host ABI has no home area)
GO_TO_HOST_OBLIGATIONS = (
    ("host-stack-aligned-at-call", "rsp"),
    ("home-area-at-call", "stack"),
    ("df-clear-at-call", "df"),
    ("restore-rsp", "rsp"),
    ("return-to-caller", "return_address"),
    ("preserve-rbp", "rbp"),
    ("df-clear-at-return", "df"),
    ("x15-zero-at-return", "xmm15"),
    ("r14-g-at-return", "r14"),
    ("stack-writes-in-go-frame", "stack"),
    ("no-fault", "fault"),
)


def obligations_for(contract: str) -> tuple[tuple[str, str], ...]:
    """(obligation id, location) of a contract replay checks, from its host ABI's data (symabi.ports):
    windows-x64's are OBLIGATIONS; sysv-amd64 has its own callee-saved set and no home area."""
    from symabi.ports import HOST_ABIS

    if contract == "go-to-host":
        return GO_TO_HOST_OBLIGATIONS
    abi = HOST_ABIS[contract]
    stack = "stack-writes-in-frame" if abi.home_area else "stack-writes-below-entry-rsp"
    return (*((f"preserve-{r}", r) for r in abi.callee_saved_registers),
            *(ob for ob in OBLIGATIONS if not ob[0].startswith(("preserve-", "stack-writes"))),
            (stack, "stack"))


def width(register: str) -> int:
    return 128 if register.startswith("xmm") else 64
