"""Go's side of a call on arm64: the ABI0 and ABIInternal callee models (src/cmd/compile/abi-internal.md,
"arm64 architecture").

A Go function is entered by BL: the return address is in X30 (LR), SP is unchanged, and ABI0 arguments
and results are the stack words from 8(RSP) up (0(RSP) is the caller's own saved-LR slot; the callee
builds its frame, saved LR and frame pointer below its entry SP). It returns with RET, to the X30 of
the call, with SP as at the call.

The effect of a call is what ``go-abi0`` models on amd64 (``CalleeModel.apply``, which reads the link
register from the architecture), with the arm64 register set: every X register but SP and X18 and
every V register is clobbered. X18 is kept: Go code never writes it (the assembler names it
R18_PLATFORM and the compiler never allocates it, because darwin and windows reserve it).

ABIInternal adds the caller's duty at the call: R28 holds the current g (abi-internal.md: "R28: current
goroutine", fixed on entry and return). The aapcs64 contracts check it at every call to a callee of that
model, from the facts ``symabi.models.go_abiinternal.entry_facts`` records (the g slot is the port's:
symabi.ports). ZR needs no check: it is not a register the code can set.
"""

from __future__ import annotations

from symabi.models.go_abi0 import CALLEE_MODELS, GO_ABI0, CalleeModel
from symabi.models.go_abiinternal import GO_ABIINTERNAL

_COMMON = (
    "is entered by BL with the return address in X30, and returns to it (RET) with SP as at the call",
    "may clobber X0-X17, X19-X27, X29 and X30 (R29, the frame pointer, included: conservatively) and "
    "V0-V31 (all 128 bits) and NZCV",
    "returns with R28 = g as at the call (Go keeps the current goroutine in R28 in ABI0 and ABIInternal code "
    "alike), except a callee the case declares `sets_g` (runtime·load_g): it loads R28 from the thread's TLS "
    "g slot, which is the world's value at entry when the case states one and a fresh value otherwise",
    "never writes X18 (R18_PLATFORM: the Go toolchain never allocates it, darwin and windows reserve it)",
    "overwrites its own argument and result words at 8(RSP) and up (sizes declared per callee in the case "
    "file) with fresh values; it never writes 0(RSP), the caller's saved-LR slot",
    "leaves fresh values in every byte below its entry SP - 8 (its frame, saved LR and frame pointer, and "
    "whatever it calls); the word at entry SP - 8 is its caller's: the caller saved its frame pointer there "
    "(abi-internal.md's arm64 stack layout: R29 is saved at -8(RSP); cmd/internal/obj/arm64 allocates those "
    "8 bytes on top of every frame)",
    "may write anything each pointer argument reaches, up to the end of the region it points into, and what "
    "the pointers stored there reach (transitively), unless the case narrows that to declared words with a reason; it writes no other modelled memory",
    "leaves FPCR as it found it",
    "its outputs are fresh values named by (callee, call ordinal), shared by every version",
    "a callee declared noreturn ends the path (an abort: no return obligations apply)",
)

GO_ARM64_ABI0 = CalleeModel(
    name="go-abi0-arm64",
    doc="A Go function called with ABI0 on arm64: arguments and results in stack words from 8(RSP).",
    assumptions=(
        "R28 at a call is no obligation under this model (a case's or the registry's runtime callees), an "
        "assumption read from the runtime's code: runtime·load_g and runtime·cgocallback load g from the TLS "
        "slot themselves, runtime·libInit is nosplit and runs before any g exists (g = nil is the thread's), "
        "runtime·save_g and runtime·mstart get the m.g0 the entry has just put in R28; symabi check's Go "
        "callees, which read g from R28 (their stack check), are judged (x28-g-at-abiinternal-call)",
        *_COMMON,
    ),
    kept=("x18",),
    reserved_below=8,
    g_register="x28",
)

GO_ARM64_ABIINTERNAL = CalleeModel(
    name="go-abiinternal-arm64",
    doc="A Go function called with ABIInternal on arm64: arguments and results in R0-R15 and F0-F15, R28 = g.",
    assumptions=(
        "takes its arguments and returns its results in R0-R15 and F0-F15; the case's `args` are the bytes "
        "of its spill area and stack arguments from 8(RSP)",
        "expects R28 = the current g at the call (an obligation of the contract); the current g is the "
        "port's TLS g slot as the world holds it at entry",
        *_COMMON,
    ),
    kept=("x18",),
    reserved_below=8,
    g_register="x28",
)

for _m in (GO_ARM64_ABI0, GO_ARM64_ABIINTERNAL):
    CALLEE_MODELS.setdefault(_m.name, _m)

ON_ARM64 = {GO_ABI0.name: GO_ARM64_ABI0, GO_ABIINTERNAL.name: GO_ARM64_ABIINTERNAL}


def for_arch(model: CalleeModel, arch: str) -> CalleeModel:
    """A case names the Go convention (``go-abi0``); on arm64 its model is the arm64 one."""
    return ON_ARM64.get(model.name, model) if arch == "arm64" else model
