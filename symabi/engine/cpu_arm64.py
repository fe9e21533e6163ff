"""AArch64 behaviour that VEX's model of the instructions leaves out, and that a verdict can depend on.

* MRS Xt, TPIDRRO_EL0 (the read-only thread pointer darwin's TLS hangs from, ``WORD $0xd53bd060`` in
  runtime/tls_arm64.h): VEX lifts it as a no-op, leaving Xt unchanged. Here Xt receives the thread
  pointer: the world's TLS base when the port's TLS hangs from TPIDRRO_EL0 and the case declares
  one, else a fresh input ``entry.tpidrro_el0`` (any value: the OS sets it).
* SP alignment: Linux, the BSDs, darwin and Windows run user code with SCTLR_EL1.SA0 set, so a load
  or store whose base register is SP faults unless SP is 16-byte aligned. VEX does not check. The
  check reads SP as the instruction starts (the base value, before any write-back).
* MRS of DCZID_EL0, CTR_EL0 and FPSR: VEX lifts the first two as one CPU's constants and FPSR as its QC
  bit alone (the cumulative exception bits read as 0), where real CPUs and earlier code differ. A path
  that executes one is UNKNOWN (``UNMODELLED_MRS``): one constant would be a silent concretization.
* Every other system instruction VEX lifts as nothing: MRS and MSR of a system register it does not
  know (MIDR_EL1, CNTFRQ_EL0, CurrentEL, PMCCNTR_EL0, TPIDR_EL1, ...: a real CPU reads the register, or
  Linux emulates the read, or it traps with SIGILL at EL0), DC ZVA (zeroes a block of memory), CFINV
  (inverts C), PACIASP / AUTIASP and the other pointer-authentication hints (sign and check X30 where
  the CPU has PAC), MSR DAIFSet, SMSTART. A path that executes one is UNKNOWN (``_lifted_as_nothing``),
  but for the hints that are no-ops for user code (NOP, YIELD, WFE, WFI, SEV, SEVL, DGH, ESB, PSB, TSB,
  CSDB, BTI: ``NO_OP_HINTS``) and SB.
* A store-exclusive (STXR, STLXR and their byte, halfword and pair forms): angr performs every
  store-conditional and reports success, but a real one fails when the exclusive monitor is open (no
  load-exclusive before it, a context switch, another core's store) and may fail spuriously at any time
  (red team 3: STXR with no LDXR, then a branch on the status: qemu took the failure side every run). A
  path that executes one is UNKNOWN (``_store_conditional``): one outcome would be a silent concretization.

A fault ends the path as *faulted*, as in symabi.engine.cpu (the same ``Fault`` records).
"""

from __future__ import annotations

from functools import cache

import archinfo
import capstone
import claripy
import pyvex
from angr.state_plugins.inspect import BP_AFTER, BP_BEFORE

from symabi.engine.cpu import CpuGaps
from symabi.loader import Image

MRS_TPIDRRO_MASK, MRS_TPIDRRO = 0xFFFF_FFE0, 0xD53B_D060  # MRS Xt, TPIDRRO_EL0 (op0=3 op1=3 CRn=13 CRm=0 op2=3)
# MRS Xt, <reg>: the encoding without Rt, for the system registers VEX reduces to constants (module doc)
UNMODELLED_MRS = {0xD53B_00E0: "DCZID_EL0", 0xD53B_0020: "CTR_EL0", 0xD53B_4420: "FPSR"}
SYSTEM_MASK, SYSTEM = 0xFFC0_0000, 0xD500_0000  # the system instruction class: hints, barriers, SYS, MSR, MRS
HINT_MASK, HINT = 0xFFFF_F01F, 0xD503_201F  # HINT #imm (imm = CRm:op2, bits 11:5)
NO_OP_HINTS = frozenset({0, 1, 2, 3, 4, 5, 6, 16, 17, 18, 20, 32, 34, 36, 38})  # NOP ... CSDB, the four BTIs
SB = 0xD503_30FF
THREAD_POINTER = "tpidrro_el0"  # the state.globals key holding TPIDRRO_EL0's value


def thread_pointer(state) -> claripy.ast.BV:
    """TPIDRRO_EL0 on a path: what the world set, or the entry input."""
    value = state.globals.get(THREAD_POINTER)
    if value is None:
        value = claripy.BVS(f"entry.{THREAD_POINTER}", 64, explicit_name=True)
        state.globals[THREAD_POINTER] = value
    return value


class Arm64CpuGaps(CpuGaps):
    def __init__(self, image: Image):  # not super().__init__: it would disassemble the bytes as x86
        md = capstone.Cs(capstone.CS_ARCH_ARM64, capstone.CS_MODE_ARM)
        md.detail = True
        self.tpidrro: dict[int, str] = {}  # instruction -> the X register it writes
        self.sp_based: set[int] = set()  # loads and stores whose base register is SP
        self.unmodelled: dict[int, str] = {}  # instruction -> why what it does is not modelled
        for located in image.instructions.values():
            word = int.from_bytes(image.code[located.address - image.base:][:4], "little")
            if word & ~31 in UNMODELLED_MRS:
                self.unmodelled[located.address] = (
                    f"MRS of {UNMODELLED_MRS[word & ~31]}, which VEX reads as a constant where CPUs and earlier code "
                    "differ: what the register holds is not modelled")
            elif _store_conditional(word):
                self.unmodelled[located.address] = (
                    "a store-exclusive, which angr always performs and reports as succeeded: a real CPU may fail "
                    "it (always when no load-exclusive opened the monitor), which path runs is not modelled")
            elif _lifted_as_nothing(word) and word & MRS_TPIDRRO_MASK != MRS_TPIDRRO:
                self.unmodelled[located.address] = (
                    f"{_system_instruction(word)}, which VEX lifts as a no-op: what a real CPU does there "
                    "(or whether it traps in user mode) is not modelled")
            if word & MRS_TPIDRRO_MASK == MRS_TPIDRRO and word & 31 != 31:
                self.tpidrro[located.address] = f"x{word & 31}"
            for ins in md.disasm(image.code[located.address - image.base:][:4], located.address, 1):
                if any(op.type == capstone.arm64.ARM64_OP_MEM and op.mem.base == capstone.arm64.ARM64_REG_SP
                       for op in ins.operands):
                    self.sp_based.add(ins.address)

    def block_limit(self, instruction_addrs) -> int | None:
        for index, addr in enumerate(instruction_addrs):
            if addr in self.tpidrro and index + 1 < len(instruction_addrs):
                return index + 1
        return None

    def install(self, state) -> None:
        state.inspect.b("instruction", when=BP_BEFORE, action=self._before)
        state.inspect.b("instruction", when=BP_AFTER, action=self._after)
        state.globals["faults"] = ()
        state.globals["executing"] = None

    def _before(self, state) -> None:
        addr = self._entering(state)
        if addr in self.sp_based:
            self._may_fault(state, addr, state.regs.sp & 0xF != 0,
                            "a load or store based on SP while SP is not 16-byte aligned (SP alignment fault)")

    def _after(self, state) -> None:
        executing = state.globals.get("executing")
        if executing in self.tpidrro:
            state.registers.store(self.tpidrro[executing], thread_pointer(state))
        state.globals["executing"] = None

    def alignment(self, state, ins_addr, address, size: int = 8) -> None:
        """Memory operands need no alignment in user mode (SCTLR_EL1.A clear) but SP's, checked above."""


@cache
def _lifted_as_nothing(word: int) -> bool:
    """Whether ``word`` is a system instruction that VEX lifts to no statement at all, and not one that does
    nothing for user code."""
    if word & SYSTEM_MASK != SYSTEM or word == SB:
        return False
    if word & HINT_MASK == HINT and (word >> 5) & 0x7F in NO_OP_HINTS:
        return False
    irsb = pyvex.lift(word.to_bytes(4, "little"), 0, archinfo.ArchAArch64(), max_inst=1)
    return irsb.size == 4 and not any(not isinstance(st, (pyvex.stmt.IMark, pyvex.stmt.NoOp))
                                      for st in irsb.statements)


@cache
def _store_conditional(word: int) -> bool:
    """Whether VEX lifts ``word`` to a store-conditional (an LLSC statement with data to store)."""
    if word & 0x3F40_0000 != 0x0800_0000:  # load/store exclusive class with L = 0: the stores
        return False
    irsb = pyvex.lift(word.to_bytes(4, "little"), 0, archinfo.ArchAArch64(), max_inst=1)
    return any(isinstance(st, pyvex.stmt.LLSC) and st.storedata is not None for st in irsb.statements)


def _system_instruction(word: int) -> str:
    md = capstone.Cs(capstone.CS_ARCH_ARM64, capstone.CS_MODE_ARM)
    ins = next(md.disasm(word.to_bytes(4, "little"), 0, 1), None)
    return f"{ins.mnemonic.upper()} {ins.op_str}".strip() if ins else f"the system instruction {word:#010x}"


_GAPS: dict[tuple, CpuGaps] = {}
_GAPS_KEPT = 8  # a gate worker proves one assembled file's entry points one after another


def gaps_for(image: Image) -> CpuGaps:
    """The CPU module of the image's architecture. It reads nothing but the image's architecture, bytes,
    base and instruction addresses (and the constant tables of engine.cpu and this module), and is never
    changed once made, so an image equal in those shares the one made for it (decoding a whole runtime
    file took ~15 ms of every proof of one of its entry points)."""
    key = (image.arch.name, image.base, image.code, tuple(image.instructions))
    gaps = _GAPS.get(key)
    if gaps is None:
        gaps = Arm64CpuGaps(image) if image.arch.name == "arm64" else CpuGaps(image)
        if len(_GAPS) >= _GAPS_KEPT:
            del _GAPS[next(iter(_GAPS))]
        _GAPS[key] = gaps
    return gaps
