"""direction-flag and control-state: DF as the host and Go expect it, the x87 unit in x87 mode with its stack
empty, and the floating-point control state a callee must leave as it found it (the x87 control word, MXCSR,
arm64's FPCR)."""

from __future__ import annotations

from symabi.obligations.definition import AT_EVERY_CALL, AT_EVERY_HOST_CALL, AT_RETURN, ControlStateKept, FlagClear, \
    Obligation, X87Empty, define
from symabi.ports import HostAbi

DF_AT_RETURN = define("df-clear-at-return", "df", "direction-flag", "DF is clear when control returns to the caller",
                      AT_RETURN, FlagClear("df"))
DF_AT_CALL = define("df-clear-at-call", "df", "direction-flag", "DF is clear on every call into Go", AT_EVERY_CALL,
                    FlagClear("df"))

# System V psABI 3.2.1: "The CPU shall be in x87 mode upon entry to a function", every function that uses MMX
# registers issues EMMS "before returning or calling another function", and a C function may push all eight x87
# registers; Go's abi-internal.md ("Flags"): "At calls and returns, the CPU is in x87 mode (not MMX technology
# mode)", following the platform conventions so that calls into C need no transition
X87_AT_HOST_CALL = define("x87-empty-at-call", "x87", "x87-mode",
                          "the x87 register stack is empty (x87 mode, no MMX state) on every call into host code",
                          AT_EVERY_HOST_CALL, X87Empty())
X87_AT_CALL = define("x87-empty-at-call", "x87", "x87-mode",
                     "the x87 register stack is empty (x87 mode, no MMX state) on every call", AT_EVERY_CALL, X87Empty())
X87_AT_RETURN = define("x87-empty-at-return", "x87", "x87-mode",
                       "the x87 register stack is empty (x87 mode, no MMX state) when control returns to the caller",
                       AT_RETURN, X87Empty())


def x87_mode(abi: HostAbi) -> tuple[Obligation, ...]:
    """The x87 stack empty at return and at every call, where the host ABI says so (System V)."""
    return (X87_AT_RETURN, X87_AT_CALL) if abi.x87_empty and abi.arch.x87_tags else ()


CONTROL_STATE = "control-state"
_NAMES = {"x87-control-word": "the x87 control word", "mxcsr": "MXCSR"}


def direction_flag(abi: HostAbi) -> tuple[Obligation, ...]:
    """DF clear at return (where the ABI says so) and at every call into Go (where the CPU has a DF)."""
    if abi.arch.direction_flag is None:
        return ()
    return (DF_AT_RETURN, DF_AT_CALL) if abi.df_clear_at_return else (DF_AT_CALL,)


def control_state(abi: HostAbi) -> tuple[Obligation, ...]:
    """preserve-<state> for each piece of control state the ABI makes callee-saved."""
    return tuple(
        define(f"preserve-{state}", state, CONTROL_STATE,
               f"{_NAMES[state]} at return is as at entry (the code executes no instruction that changes it, "
               "or the verdict is UNKNOWN)", AT_RETURN, ControlStateKept(state, _NAMES[state]))
        for state in abi.control_state
    )


FPCR = define("preserve-fpcr", "fpcr", CONTROL_STATE,
              "FPCR at return is as at entry (the code executes no MSR FPCR, or the verdict is UNKNOWN)", AT_RETURN,
              ControlStateKept("fpcr", "FPCR"))
