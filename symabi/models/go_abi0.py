"""Callee models: what a call from the trampoline into Go may do to the machine state."""

from __future__ import annotations

from dataclasses import dataclass

import claripy

from symabi.casefile import CalleeSpec
from symabi.engine.registers import ARITH_FLAGS_MASK, CC_OP_COPY, GPRS, XMMS


@dataclass(frozen=True)
class CallEvent:
    """One call into Go on a path, as the contract and reports need it."""

    callee: str
    ordinal: int  # 1 for the first call to this callee on the path, 2 for the second, ...
    site: int | None  # address of the CALL (or JMP) instruction
    df_set: claripy.ast.Bool  # DF at the moment control entered the callee
    rsp: claripy.ast.BV  # RSP on entry to the callee (pointing at its return address)
    frame: tuple[claripy.ast.BV, ...]  # the callee's argument words as passed
    registers: dict[str, claripy.ast.BV]  # every GPR and XMM register at the call
    memory: tuple  # (Access, value) for each word written so far outside the trampoline's own frame
    pointees: dict[int, tuple[claripy.ast.BV, ...]]  # argument offset -> the words it points to


def fresh(callee: str, ordinal: int, what: str, bits: int) -> claripy.ast.BV:
    """A callee output, named by (callee, ordinal) so every version of a trampoline sees the same one."""
    return claripy.BVS(f"{callee}#{ordinal}.{what}", bits, explicit_name=True)


@dataclass(frozen=True)
class CalleeModel:
    name: str
    doc: str
    assumptions: tuple[str, ...]

    def apply(self, state, spec: CalleeSpec, ordinal: int) -> None:
        """Turn ``state`` (at the callee's first instruction) into the state after it returns."""
        frame_bytes = spec.args + spec.results
        sp = state.regs.rsp
        # Read the pointers before the frame words are overwritten: the callee received the originals.
        targets = [
            (w, state.memory.load(sp + 8 + w.pointer_at, 8, endness="Iend_LE")) for w in spec.writes
        ]
        for reg in GPRS:
            if reg != "rsp":
                state.registers.store(reg, fresh(spec.name, ordinal, reg, 64))
        for reg in XMMS:
            state.registers.store(reg, fresh(spec.name, ordinal, reg, 128))
        state.regs.cc_op = CC_OP_COPY
        state.regs.cc_dep1 = fresh(spec.name, ordinal, "rflags", 64) & ARITH_FLAGS_MASK
        state.regs.cc_dep2 = 0
        state.regs.cc_ndep = 0
        state.regs.d = 1
        for offset in range(0, frame_bytes, 8):
            size = min(8, frame_bytes - offset)
            word = fresh(spec.name, ordinal, f"frame+{offset:#x}", size * 8)
            state.memory.store(sp + 8 + offset, word, size=size, endness="Iend_LE")
        for w, pointer in targets:
            word = fresh(spec.name, ordinal, f"*frame+{w.pointer_at:#x}+{w.offset:#x}", w.size * 8)
            state.memory.store(pointer + w.offset, word, size=w.size, endness="Iend_LE")
        state.regs.rip = state.memory.load(sp, 8, endness="Iend_LE")
        state.regs.rsp = sp + 8


GO_ABI0 = CalleeModel(
    name="go-abi0",
    doc="A Go function called with ABI0: arguments and results in stack words above the return address.",
    assumptions=(
        "may clobber every general-purpose register except RSP (BP included: it is caller-save in ABI0)",
        "may clobber XMM0-XMM15 (all 128 bits) and the arithmetic flags",
        "expects DF clear on entry and returns with DF clear",
        "leaves MXCSR and the x87 control word as it found them",
        "returns to the address on top of the stack, with RSP restored to the value at the call + 8",
        "overwrites its own argument and result words (sizes declared per callee in the case file) "
        "with fresh values, and the words the case declares it writes through a pointer argument; "
        "it writes no other memory, runtime structures and the TLS slot included",
        "its outputs are fresh values named by (callee, call ordinal), shared by every version",
        "a callee declared noreturn ends the path (an abort: no return obligations apply)",
    ),
)

CALLEE_MODELS: dict[str, CalleeModel] = {GO_ABI0.name: GO_ABI0}
