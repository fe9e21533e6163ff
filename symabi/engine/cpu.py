"""x86 behaviour that VEX's model of the instructions leaves out, and that a verdict can depend on.

* PUSHFQ: RFLAGS bit 1 is reserved and always reads as 1, and IF (bit 9) is always set in user
  mode (POPFQ there cannot clear it); VEX pushes both as 0. A trampoline that mistakenly restores a
  register from the saved-flags slot, or branches on those bits, would see the wrong value.
* CPUID: VEX answers as one fixed, old CPU. Real CPUs differ, so each CPUID on a path returns fresh
  values (``cpuid#<n>.eax`` ... for the n-th CPUID on the path): a branch on a feature bit sees
  every CPU.
* 16-byte SSE memory operands: MOVAPS, MOVO (MOVDQA) and every legacy-SSE instruction with a 128-bit
  memory operand other than the explicitly unaligned moves raise #GP on an address that is not
  16-byte aligned; VEX does not check. The memory guard asks ``alignment`` for each access.
* DIV / IDIV: a zero divisor or a quotient that does not fit raises #DE. VEX computes some quotient
  and carries on, so a path that always faults could be reported as returning.
* POPFQ: a popped word with TF (bit 8) set makes the CPU trap after the next instruction; VEX
  ignores TF. One with AC (bit 18) set turns alignment checking on (Linux and Windows run user code
  with CR0.AM set): a 2-, 4- or 8-byte access that is not aligned to its size then raises #AC (red team
  3: a real run died of SIGBUS); VEX ignores AC. The SDM's table of alignments by data type (Vol. 3A,
  "Interrupt 17") asks 8 of an x87 80-bit operand (a real run: FLDT at 4 mod 8 under AC died of SIGBUS;
  VEX's loadF80le helper makes such a path UNKNOWN anyway) and of wider data; a 16- or 32-byte SSE/AVX
  access that is exempt from #GP (MOVUPS, MOVDQU, LDDQU, VEX forms) "may or may not" raise #AC off an
  8-byte boundary "depending on processor implementation" (the CPU here did not): that path is UNKNOWN.
  Checked once the code may have set AC itself; AC set at entry is a printed assumption of every amd64
  entry convention (``AC_AT_ENTRY``): the ABIs say nothing of AC, but a host running with it set could
  not run its own C code, whose compilers emit unaligned accesses by design (modelled, it refuted every
  load through a pointer the host passes, whose alignment the host chooses too: docs/redteam.md, stop 23).
* STMXCSR, FNSTCW, FXSAVE, XSAVE and their kin: VEX stores only the rounding mode it tracks, and the
  rest of the word (MXCSR's exception status and masks, FZ and DAZ; the x87 control word's masks) as
  constants, where a real CPU stores what earlier code and the caller left there. A path that executes
  one is UNKNOWN (``UNMODELLED_STORES``): one constant would be a silent concretization.
* FNSTSW / FSTSW: VEX stores the x87 status word from TOP and C0-C3 alone; the exception flags (IE, ZE,
  PE, ...), SF, ES and B come back 0, where a real CPU sets PE after an inexact FDIV and IE|SF on a
  register-stack overflow (sticky until FNCLEX or FNINIT). UNKNOWN as well (``UNMODELLED_STATUS``).
* XBEGIN: VEX aborts the transaction at once (to the fallback, EAX an abort status), where a CPU with
  RTM runs the transaction and commits it at XEND: that path is never explored, so a path through
  XBEGIN is UNKNOWN.

The checks need the architectural registers exactly as they are at the instruction, which VEX only
guarantees at block boundaries (its optimiser defers register writes inside a block), so the explorer
ends a block right before a DIV or POPFQ and right after a PUSHFQ (``block_limit``).

A fault ends the path as *faulted*: the instruction's breakpoint records the condition under which it
faults and constrains the path to go on only where it does not. The explorer turns each recorded
condition into its own faulted path, on which the no-fault obligation fails (only INT $3 and a callee
that never returns are deliberate ends).
"""

from __future__ import annotations

from dataclasses import dataclass

import capstone
import claripy
from angr.state_plugins.inspect import BP_AFTER, BP_BEFORE

from symabi.engine.faults import may_fault
from symabi.loader import Image

TF_BIT = 8
AC_ENTRY = "entry_ac"  # state.globals: AC as it was at entry
AC_WIDEST = 8  # #AC asks natural alignment up to 8 bytes, and 8 of wider data (SDM Vol. 3A, Table 6-7)
AC_AT_ENTRY = ("alignment checking (#AC) is judged wherever the code itself may have set EFLAGS.AC (POPFQ); AC set "
               "at entry is assumed not to happen: the host ABIs say nothing of AC, but a host running with it set "
               "could not run its own C code (compilers and libc access unaligned data by design)")
RESERVED_BIT_1 = 0x2
IF_BIT = 0x200
USER_MODE_FLAGS = RESERVED_BIT_1 | IF_BIT  # always set in an RFLAGS image taken in user mode
CPUID_REGISTERS = ("eax", "ebx", "ecx", "edx")
# Moves with a 16-byte (or wider) memory operand that fault unless it is aligned to its size, whatever
# their encoding; any other legacy-SSE (non-VEX) instruction with a 16-byte memory operand faults too,
# except these explicitly unaligned ones.
_ALIGNED_MOVES = frozenset({"movaps", "movapd", "movdqa", "movntps", "movntpd", "movntdq", "movntdqa",
                            "vmovaps", "vmovapd", "vmovdqa", "vmovntps", "vmovntpd", "vmovntdq", "vmovntdqa"})
_UNALIGNED_SSE = frozenset({"movups", "movupd", "movdqu", "lddqu", "maskmovdqu"})


# instructions that store control and status state VEX reduces to a rounding mode (see the module doc)
UNMODELLED_STORES = frozenset({"stmxcsr", "vstmxcsr", "fnstcw", "fstcw", "fnstenv", "fstenv", "fnsave", "fsave",
                               "fxsave", "fxsave64", "xsave", "xsave64", "xsaveopt", "xsaveopt64", "xsavec",
                               "xsavec64", "xsaves", "xsaves64"})

# instructions that store the x87 status word, whose exception flags VEX does not keep
UNMODELLED_STATUS = frozenset({"fnstsw", "fstsw"})


class UnmodelledFault(Exception):
    """An instruction whose behaviour (whether it faults, what it stores) symabi does not model: the path is
    UNKNOWN."""

    def __init__(self, ins_addr: int, why: str):
        self.ins_addr = ins_addr
        super().__init__(why)


@dataclass(frozen=True)
class _Division:
    signed: bool
    width: int  # operand bytes
    register: str | None  # None: a memory operand


class CpuGaps:
    def __init__(self, image: Image):
        md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
        md.detail = True
        self.pushf: set[int] = set()
        self.popf: set[int] = set()
        self.cpuid: set[int] = set()
        self.aligned: dict[int, int] = {}  # instruction -> the alignment its memory operand needs
        self.divisions: dict[int, _Division] = {}
        self.unmodelled: dict[int, str] = {}  # instruction -> why what it does is not modelled
        for located in image.instructions.values():
            # up to the longest x86 instruction, not the listed size: bytes the assembler emitted as BYTE or LONG
            # directives are listed one by one, yet run as the instruction they spell from their first address
            code = image.code[located.address - image.base:][:15]
            for ins in md.disasm(code, located.address, 1):
                if (need := _alignment(ins)) is not None:
                    self.aligned[ins.address] = need
                if ins.mnemonic in UNMODELLED_STORES:
                    self.unmodelled[ins.address] = (
                        f"{ins.mnemonic.upper()} stores control and status bits VEX does not track (it keeps only the "
                        "rounding mode): what the CPU stores is not modelled")
                elif ins.mnemonic == "xbegin":
                    self.unmodelled[ins.address] = (
                        "XBEGIN, which VEX lifts as an immediate abort: the transaction a CPU with RTM runs is not "
                        "explored")
                elif ins.mnemonic in UNMODELLED_STATUS:
                    self.unmodelled[ins.address] = (
                        f"{ins.mnemonic.upper()} stores the x87 status word, whose exception flags VEX does not "
                        "track (it keeps only TOP and C0-C3): what the CPU stores is not modelled")
                if ins.mnemonic == "pushfq":
                    self.pushf.add(ins.address)
                elif ins.mnemonic == "cpuid":
                    self.cpuid.add(ins.address)
                elif ins.mnemonic == "popfq":
                    self.popf.add(ins.address)
                elif ins.mnemonic in ("div", "idiv") and ins.operands:
                    op = ins.operands[0]
                    reg = ins.reg_name(op.reg) if op.type == capstone.x86.X86_OP_REG else None
                    self.divisions[ins.address] = _Division(ins.mnemonic == "idiv", op.size, reg)

    def block_limit(self, instruction_addrs) -> int | None:
        """How many instructions of a block to run so that no checked instruction sits inside it."""
        for index, addr in enumerate(instruction_addrs):
            if index and (addr in self.popf or addr in self.divisions):
                return index
            if (addr in self.pushf or addr in self.cpuid or addr in self.popf) and index + 1 < len(instruction_addrs):
                return index + 1
        return None

    def install(self, state) -> None:
        state.inspect.b("instruction", when=BP_BEFORE, action=self._before)
        state.inspect.b("instruction", when=BP_AFTER, action=self._after)
        state.globals["faults"] = ()
        state.globals["executing"] = None
        state.globals["cpuid"] = 0  # how many CPUIDs the path has executed
        state.globals[AC_ENTRY] = state.regs.ac
        state.globals["popf"] = False  # whether the path has executed a POPFQ (which may set AC)

    def _entering(self, state) -> int:
        """The instruction about to run, recorded; an instruction this module does not model ends the path."""
        addr = state.inspect.instruction
        state.globals["executing"] = addr
        if addr in self.unmodelled:
            raise UnmodelledFault(addr, self.unmodelled[addr])
        return addr

    def _before(self, state) -> None:
        addr = self._entering(state)
        if addr in self.divisions:
            self._division(state, addr, self.divisions[addr])
        elif addr in self.popf:
            word = state.memory.load(state.regs.rsp, 8, endness="Iend_LE")
            self._may_fault(state, addr, word[TF_BIT] == 1, "POPFQ sets the trap flag: the CPU traps (#DB)")
            state.globals["popf"] = True

    def _after(self, state) -> None:
        executing = state.globals.get("executing")
        if executing in self.pushf:
            slot = state.regs.rsp
            state.memory.store(slot, state.memory.load(slot, 8, endness="Iend_LE") | USER_MODE_FLAGS,
                               endness="Iend_LE")
        elif executing in self.cpuid:
            state.globals["cpuid"] += 1
            for reg in CPUID_REGISTERS:
                value = claripy.BVS(f"cpuid#{state.globals['cpuid']}.{reg}", 32, explicit_name=True)
                state.registers.store("r" + reg[1:], value.zero_extend(32))
        state.globals["executing"] = None

    def alignment(self, state, ins_addr: int | None, address, size: int = 8) -> None:
        """Called by the memory guard for every access: a misaligned SSE operand faults (#GP); with AC set by
        the code, a misaligned 2-, 4- or 8-byte access faults (#AC)."""
        need = self.aligned.get(ins_addr)
        if state.globals.get("popf") and size > 1:
            self._alignment_check(state, ins_addr, address, size, sse_exempt=need is None and size > AC_WIDEST)
        if need is not None:
            self._may_fault(state, ins_addr, address & (need - 1) != 0,
                            f"a {need}-byte SSE memory operand that is not {need}-byte aligned (#GP)")

    def _alignment_check(self, state, ins_addr, address, size: int, sse_exempt: bool) -> None:
        """#AC with AC set by the code: an access off its data type's boundary (``size`` up to 8, 8 beyond)
        faults; a wide SSE/AVX access exempt from #GP may or may not (the processor's choice): UNKNOWN."""
        ac_on = claripy.And(state.regs.ac != 0, state.globals[AC_ENTRY] == 0)
        boundary = min(size, AC_WIDEST)
        off = claripy.And(ac_on, address & (boundary - 1) != 0)
        if sse_exempt:
            if state.solver.satisfiable(extra_constraints=[off]):
                raise UnmodelledFault(ins_addr, f"a {size}-byte SSE/AVX access that may not be 8-byte aligned while "
                                      "the code set AC: whether it raises #AC depends on the processor (SDM Vol. "
                                      "3A, Interrupt 17)")
            return
        self._may_fault(state, ins_addr, off, f"a {size}-byte access that is not {boundary}-byte aligned while the "
                        "code set AC: the CPU checks alignment (#AC)")

    def _division(self, state, addr: int, div: _Division) -> None:
        bits = div.width * 8
        if div.register is None:
            raise UnmodelledFault(addr, "a division by a memory operand: whether it faults (#DE) is not modelled")
        divisor = state.registers.load(div.register)
        low, high = _dividend(state, div.width)
        if div.signed:
            dividend = claripy.Concat(high, low)
            wide_divisor = divisor.sign_extend(bits)
            quotient = dividend.SDiv(claripy.If(divisor == 0, claripy.BVV(1, 2 * bits), wide_divisor))
            limit = 1 << (bits - 1)
            overflow = claripy.Or(claripy.SGT(quotient, limit - 1), claripy.SLT(quotient, -limit))
        else:
            overflow = claripy.UGE(high, divisor)  # the quotient needs more than `bits` bits
        self._may_fault(state, addr, claripy.Or(divisor == 0, overflow), "division fault (#DE)")

    _may_fault = staticmethod(may_fault)


def _alignment(ins) -> int | None:
    """The alignment an instruction's memory operand needs, or None."""
    import capstone.x86 as x86

    memory = [op for op in ins.operands if op.type == x86.X86_OP_MEM]
    if not memory:
        return None
    size = max(op.size for op in memory)
    if ins.mnemonic.startswith(("fxsave", "fxrstor")):
        return 16
    if ins.mnemonic.startswith(("xsave", "xrstor")):
        return 64
    if ins.mnemonic in _ALIGNED_MOVES:
        return size
    legacy_sse = not ins.mnemonic.startswith("v") and ins.mnemonic not in _UNALIGNED_SSE
    if legacy_sse and size == 16 and any(ins.reg_name(op.reg).startswith("xmm") for op in ins.operands
                                         if op.type == x86.X86_OP_REG):
        return 16
    return None


def _dividend(state, width: int):
    names = {1: ("al", "ah"), 2: ("ax", "dx"), 4: ("eax", "edx"), 8: ("rax", "rdx")}[width]
    return state.registers.load(names[0]), state.registers.load(names[1])
