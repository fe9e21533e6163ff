"""aapcs64, darwin-arm64, windows-arm64: what a trampoline entered from an arm64 host owes its caller.

The AAPCS64 (Arm's Procedure Call Standard, 6.1.1-6.1.2) makes X19-X28, X29 (the frame pointer), SP and
the low 64 bits of V8-V15 (D8-D15) callee-saved; the caller passes the return address in X30 (LR).
Go ABI0 code may clobber all of them but SP (runtime/cgo/abi_arm64.h's SAVE_R19_TO_R28 and
SAVE_F8_TO_F15 exist for that). Apple reserves X18 for the platform and Windows keeps the TEB in it:
on darwin-arm64 and windows-arm64 X18 must never be written.

Obligation ids:

    preserve-x19 ... preserve-x29      the callee-saved X registers at return
    preserve-d8 ... preserve-d15       the low 64 bits of V8-V15 at return
    restore-sp                         SP at return = entry SP
    return-to-caller                   control returns to the entry X30
    stack-writes-below-entry-sp        no store at or above the entry SP (the caller's)
    x18-untouched                      darwin-arm64, windows-arm64: X18 as at entry at every call and at
                                       return; a path that writes X18 at all is UNKNOWN (what an
                                       asynchronous event sees in between is not modelled)
    preserve-fpcr                      FPCR's control bits (rounding, flush-to-zero: callee-saved in AAPCS64
                                       6.1.2) as at entry: a path that executes MSR FPCR is UNKNOWN (FPCR is not
                                       modelled; the Go callees leave it alone, a stated assumption)
    x28-g-at-abiinternal-call          R28 holds the current g (or 0) at every call into ABIInternal
    no-fault                           no instruction faults (an SP alignment fault, a page fault)

The checks are ``HostAbiContract``'s (symabi.contracts.windows_x64), over an arm64 host ABI's data
(symabi.ports.AAPCS64, DARWIN_ARM64, WINDOWS_ARM64).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import capstone

from symabi.contracts.base import CheckContext, Finding, Obligation
from symabi.contracts.windows_x64 import RETURN, HostAbiContract, _WithSolver
from symabi.contracts import solver
from symabi.engine.explore import RETURNED, UNKNOWN, PathOutcome
from symabi.ports import AAPCS64 as AAPCS64_ABI
from symabi.ports import DARWIN_ARM64 as DARWIN_ARM64_ABI
from symabi.ports import WINDOWS_ARM64 as WINDOWS_ARM64_ABI
from symabi.ports import HostAbi

SP = Obligation("restore-sp", "sp", "stack-pointer", "SP at return equals SP at entry")
STACK_WRITES = Obligation(
    "stack-writes-below-entry-sp", "stack", "stack-writes",
    "stack writes stay below the entry SP: every byte at or above it is the caller's (and, on another stack the "
    "world declares, in its free space)", applies_on_abort=True)
R28_AT_CALL = Obligation("x28-g-at-abiinternal-call", "x28", "abiinternal-call",
                         "R28 holds the current g, or zero, on every call into Go with ABIInternal",
                         applies_on_abort=True)
FPCR = Obligation("preserve-fpcr", "fpcr", "control-state",
                  "FPCR at return is as at entry (the code executes no MSR FPCR, or the verdict is UNKNOWN)")
NO_FAULT = Obligation("no-fault", "fault", "fault",
                      "no instruction faults (an SP alignment fault, a page fault); only BRK and a callee that never "
                      "returns end a path on purpose", applies_on_abort=True)


def preserved(abi: HostAbi) -> tuple[Obligation, ...]:
    def words(c):
        reg = abi.arch.register(c.register)
        return f" (the low {reg.bits} bits of {reg.within.upper()})" if reg.within else ""
    return tuple(Obligation(f"preserve-{c.register}", c.register, "callee-saved",
                            f"{c.register.upper()} at return equals {c.register.upper()} at entry{words(c)}")
                 for c in abi.callee_saved)


def untouched(register: str) -> Obligation:
    return Obligation(f"{register}-untouched", register, "reserved",
                      f"{register.upper()} is the platform's: never written (as at entry at every call and at return)",
                      applies_on_abort=True)


@dataclass(frozen=True)
class Aapcs64Contract(HostAbiContract):
    """The obligations of an arm64 host ABI, checked on a path."""

    def __post_init__(self):
        set_ = object.__setattr__  # frozen: the derived fields are filled in once, here
        set_(self, "name", self.name or self.abi.name)
        set_(self, "stack_writes", STACK_WRITES)
        set_(self, "obligations", (*preserved(self.abi), SP, RETURN, STACK_WRITES,
                                   *(untouched(r) for r in self.abi.reserved), FPCR, R28_AT_CALL, NO_FAULT))

    def check(self, path: PathOutcome, ctx: CheckContext) -> list[Finding]:
        ctx = _WithSolver(ctx, solver.PathSolver(path.state.solver.constraints, ctx.timeout_ms))
        findings = []
        for ob in self.obligations:
            if ob is STACK_WRITES:
                findings.append(self._stack_writes(path, ctx))
            elif ob is R28_AT_CALL:
                findings.append(self._abi_internal(ob, path, ctx))
            elif ob is NO_FAULT:
                findings.append(self._no_fault(path, ctx, NO_FAULT))
            elif ob.family == "reserved":
                findings.append(self._untouched(ob, path, ctx))
            elif ob is FPCR:
                findings.append(self._fpcr(path, ctx))
            elif (ending := self._ending(ob, path, ctx)) is not None:
                findings.append(ending)
            else:
                findings.append(self._at_return(ob, path, ctx))
        return findings

    def _at_return(self, ob: Obligation, path: PathOutcome, ctx: CheckContext) -> Finding:
        assert path.kind == RETURNED
        entry, exit_ = ctx.regs[ob.location], path.state.registers.load(ob.location)
        what = "SP at return is not the entry SP" if ob is SP else f"{ob.location.upper()} is not preserved"
        return self._ask(ob, path, exit_ != entry, {"entry": entry, "exit": exit_}, ctx, path.ins_addr, what)

    def _untouched(self, ob: Obligation, path: PathOutcome, ctx: CheckContext) -> Finding:
        reg, entry = ob.location, ctx.regs[ob.location]
        for event in path.calls:
            value = event.registers[reg]
            finding = self._ask(ob, path, value != entry, {"entry": entry, "exit": value}, ctx, event.site,
                                f"{reg.upper()} is not the platform's at the call to {event.callee}")
            if finding.status != "holds":
                return finding
        if path.kind == RETURNED:
            value = path.state.registers.load(reg)
            finding = self._ask(ob, path, value != entry, {"entry": entry, "exit": value}, ctx, path.ins_addr,
                                f"{reg.upper()} is not the platform's at return")
            if finding.status != "holds":
                return finding
        writers = executed_writers(path, ctx.image, reg)
        if writers:
            located = ctx.image.instruction_at(writers[0])
            return Finding(ob, path.index, "unknown", site=writers[0],
                           detail=f"the path executes {located.text if located else 'an instruction'}, which writes "
                                  f"{reg.upper()}; what an exception or signal taken meanwhile sees is not modelled")
        if path.kind == UNKNOWN:
            return Finding(ob, path.index, "unknown", detail=path.reason, site=path.ins_addr)
        return Finding(ob, path.index, "holds")


    def _fpcr(self, path: PathOutcome, ctx: CheckContext) -> Finding:
        if path.kind == UNKNOWN:
            return Finding(FPCR, path.index, "unknown", detail=path.reason, site=path.ins_addr)
        if path.kind != RETURNED:
            return Finding(FPCR, path.index, "n/a", detail=path.reason or "the path never returns", site=path.ins_addr)
        writers = executed_writers(path, ctx.image, "fpcr")
        if writers:
            located = ctx.image.instruction_at(writers[0])
            return Finding(FPCR, path.index, "unknown", site=writers[0],
                           detail=f"the path executes {located.text if located else 'an instruction'}, which writes "
                                  "FPCR; whether the value at return is the entry value is not modelled")
        return Finding(FPCR, path.index, "holds", site=path.ins_addr)


@lru_cache(maxsize=32)
def _writes(code: bytes, base: int, addresses: tuple[int, ...]) -> dict[int, tuple[frozenset[str], bool]]:
    """address -> (registers the instruction writes, whether it ends a straight-line run)."""
    md = capstone.Cs(capstone.CS_ARCH_ARM64, capstone.CS_MODE_ARM)
    md.detail = True
    out = {}
    for address in addresses:
        ins = next(md.disasm(code[address - base:][:4], address, 1), None)
        if ins is None:
            out[address] = (frozenset(), True)
            continue
        written = frozenset(ins.reg_name(r) for r in ins.regs_access()[1])
        if ins.mnemonic == "msr" and ins.op_str.split(",")[0].strip() == "fpcr":
            written |= {"fpcr"}  # a system register capstone does not list among the written ones
        ends = any(g in (capstone.CS_GRP_JUMP, capstone.CS_GRP_CALL, capstone.CS_GRP_RET) for g in ins.groups)
        out[address] = (written, ends)
    return out


def executed_writers(path: PathOutcome, image, register: str) -> list[int]:
    """Instructions writing ``register`` that the path may have executed: in the straight-line run that one
    of its blocks starts."""
    addresses = tuple(sorted(image.instructions))
    table = _writes(image.code, image.base, addresses)
    hits = set()
    for block in set(path.blocks):
        address = block
        while address in table:
            written, ends = table[address]
            if register in written or register.replace("x", "w", 1) in written:
                hits.add(address)
            if ends:
                break
            address += 4
    return sorted(hits)


AAPCS64 = Aapcs64Contract(AAPCS64_ABI, doc="aapcs64: what a trampoline entered from an AAPCS64 host (linux, the "
                                          "BSDs) owes its caller")
DARWIN_ARM64 = Aapcs64Contract(DARWIN_ARM64_ABI, doc="darwin-arm64: AAPCS64 as Apple amends it (X18 reserved)")
WINDOWS_ARM64 = Aapcs64Contract(WINDOWS_ARM64_ABI, doc="windows-arm64: AAPCS64 as Windows amends it (X18 = TEB)")
