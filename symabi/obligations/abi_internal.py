"""abiinternal-call: Go's register ABI (ABIInternal) fixes registers on entry; checked at every call to
such a callee (src/cmd/compile/abi-internal.md: amd64 X15 = 0 and R14 = g, arm64 R28 = g)."""

from __future__ import annotations

from symabi.obligations.definition import AT_EVERY_ABIINTERNAL_CALL, Obligation, RegisterIsG, RegisterZero, define
from symabi.ports.arch import Architecture

X15_AT_CALL = define("x15-zero-at-abiinternal-call", "xmm15", "abiinternal-call",
                     "X15 is zero on every call into Go with ABIInternal", AT_EVERY_ABIINTERNAL_CALL,
                     RegisterZero("xmm15", 128))
R14_AT_CALL = define("r14-g-at-abiinternal-call", "r14", "abiinternal-call",
                     "R14 holds the current g (0 only on a thread without one) on every call into Go with ABIInternal",
                     AT_EVERY_ABIINTERNAL_CALL, RegisterIsG("r14"))
R28_AT_CALL = define("x28-g-at-abiinternal-call", "x28", "abiinternal-call",
                     "R28 holds the current g (0 only on a thread without one) on every call into Go with ABIInternal (and, in symabi "
                     "check, with ABI0: arm64 Go code reads g from R28 in both)",
                     AT_EVERY_ABIINTERNAL_CALL, RegisterIsG("x28"))


def abi_internal(arch: Architecture) -> tuple[Obligation, ...]:
    return (X15_AT_CALL, R14_AT_CALL) if arch.name == "amd64" else (R28_AT_CALL,)
