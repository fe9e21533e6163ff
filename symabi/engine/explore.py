"""Explore every path of a trampoline and account for how each one ends.

A path ends in exactly one of these ways, and none is ever dropped:

    returned  control reached the caller's return address (the symbol ``entry.return_address``)
    aborted   a deliberate end: a callee the case declares noreturn was called, or INT $3 executed
    faulted   an instruction can fault (#DE, #DB, #GP, a page fault): the no-fault obligation fails
    escaped   control went somewhere the inputs choose, or to an address that is neither code, a
              callee, nor the caller (a violation of the return obligation, never a silent drop)
    unknown   the analysis could not continue: a lifting error, an unsupported instruction, an
              uncovered memory access, an undeclared callee, a bound or a deadline; or a store
              through an address the host chooses (``wild_write``: writes-owned-memory judges it)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import angr
import claripy
import pyvex
from angr import options as o

from symabi.casefile import CalleeSpec
from symabi.engine import addresses
from symabi.engine.cpu import CpuGaps, UnmodelledFault
from symabi.engine.cpu_arm64 import gaps_for
from symabi.engine.memory import NULL_PAGES, CertainFault, HostChosenWrite, MemoryGuard, UncoveredAccess, \
    UnmodelledCallee, WildWrite
from symabi.engine.prefixes import Node, Reuse, touched
from symabi.engine.registers import CC_OP_COPY, FLAG_MASKS, RegisterFile, df_is_set, x87_in_use
from symabi.loader import Image
from symabi.models.go_abi0 import CalleeModel, CallEvent

RETURNED, ABORTED, FAULTED, ESCAPED, UNKNOWN = "returned", "aborted", "faulted", "escaped", "unknown"
# Exits VEX itself takes where the CPU faults
_CPU_FAULTS = {
    "Ijk_SigSEGV": "the CPU faults here (#GP or a page fault: VEX's own check, e.g. a misaligned SSE operand)",
    "Ijk_SigBUS": "the CPU faults here (an alignment check)",
    "Ijk_SigILL": "the instruction is invalid here (#UD)",
    "Ijk_SigFPE_IntDiv": "division fault (#DE)",
    "Ijk_SigFPE_IntOvf": "overflow trap (#OF)",
}


@dataclass(frozen=True)
class Limits:
    max_blocks_per_path: int = 400
    max_paths: int = 256
    deadline: float | None = None  # time.monotonic() value after which exploration stops


@dataclass
class PathOutcome:
    kind: str
    state: object | None  # the angr state at the end (None when none could be kept)
    blocks: tuple[int, ...]
    calls: tuple[CallEvent, ...] = ()
    reason: str = ""
    target: claripy.ast.BV | None = None  # where an escaped path went
    ins_addr: int | None = None  # the instruction where the path ended or failed
    index: int = 0
    wild_write: WildWrite | None = None  # the store through a host-chosen address the path stopped at


@dataclass
class Exploration:
    paths: list[PathOutcome] = field(default_factory=list)
    tree: Node | None = None  # with ``record``: what each advance did (symabi.engine.prefixes)


# What stepping a block may raise; each ends the path (``Explorer._failed``). angr raises both hierarchies
# (SimIRSBNoDecodeError is a SimError).
_STEP_ERRORS = (UncoveredAccess, UnmodelledFault, CertainFault, HostChosenWrite, angr.errors.AngrError,
                angr.errors.SimError, claripy.errors.ClaripyError, pyvex.PyVEXError)

_OPTIONS_ADD = {
    o.SYMBOL_FILL_UNCONSTRAINED_MEMORY,
    o.SYMBOL_FILL_UNCONSTRAINED_REGISTERS,
    o.NO_SYMBOLIC_JUMP_RESOLUTION,  # a symbolic jump target comes back to us, not concretized
}
_OPTIONS_REMOVE = {o.LAZY_SOLVES, o.SIMPLIFY_MEMORY_READS}


def initial_state(project, image: Image, entry: int, regs: RegisterFile, guard: MemoryGuard,
                  cpu: CpuGaps | None = None):
    """The entry state: the shared register file, DF clear (amd64), the guard and CPU checks installed.
    Entry preconditions and the world are laid on by the caller (the prover)."""
    state = project.factory.blank_state(addr=entry, add_options=_OPTIONS_ADD, remove_options=_OPTIONS_REMOVE)
    # No strategy may turn a symbolic address into a concrete one: the guard resolves every address
    # first, and anything reaching angr's concretizer is an error, not a guess.
    state.memory.read_strategies = []
    state.memory.write_strategies = []
    arch = image.arch
    for reg in arch.gprs + arch.vectors:
        state.registers.store(reg, regs[reg])
    state.regs.cc_op = CC_OP_COPY
    state.regs.cc_dep1 = regs.rflags & FLAG_MASKS[arch.flags]
    state.regs.cc_dep2 = 0
    state.regs.cc_ndep = 0
    if arch.direction_flag:
        state.regs.d = 1  # DF clear at entry: every host ABI requires it at a call
    if arch.x87_tags:  # the x87 stack empty at entry: x87 mode at every call (System V, Go's ABIs)
        state.registers.store(arch.x87_tags, claripy.BVV(0, state.arch.registers[arch.x87_tags][1] * 8))
    if regs.ac is not None:
        # AC and ID are the host's to set: any value (VEX keeps each as 0 or 1 in a register of its own).
        state.regs.ac = regs.ac.zero_extend(63)
        state.regs.id = regs.id.zero_extend(63)
    guard.install(state)
    (cpu or gaps_for(image)).install(state)
    state.globals["calls"] = ()
    state.globals["stubs"] = image.stubs  # address -> external symbol: which function a callee's pointer argument is
    return state


def entry_input(name: str, registers: dict) -> claripy.ast.BV | None:
    """An entry input by name: a register (``rcx``), or a word as it was at entry on the stack
    (``stack+0x8``: a Go ABI0 argument) or in a world region (``info+0x0``), named as memory nobody wrote
    is (``init.stack+0x8``, ``init.info+0x0``)."""
    if name in registers:
        return registers[name]
    region, plus, offset = name.partition("+0x")
    if plus and region and all(c in "0123456789abcdef" for c in offset):
        return claripy.BVS(f"init.{name}", 64, explicit_name=True)
    return None


def input_callees(callees, registers: dict) -> list[claripy.ast.BV]:
    """The entry values of the callees a case declares by the input that holds them (``entry.rcx``)."""
    values = (entry_input(n.removeprefix("entry."), registers) for n in callees if n.startswith("entry."))
    return [v for v in values if v is not None]


class Explorer:
    def __init__(
        self,
        project,
        image: Image,
        callees: dict[str, CalleeSpec],
        callee_model: CalleeModel,
        limits: Limits,
        guard: MemoryGuard,
        cpu: CpuGaps | None = None,
        regs=None,
    ):
        self.project, self.image, self.callees, self.model, self.limits = project, image, callees, callee_model, limits
        self.guard = guard
        self.return_address = regs.return_address  # the host's return address: reaching it is "returned"
        self.inputs = regs.values  # entry registers, for callees the case declares by the input holding them
        self.cpu = cpu or gaps_for(image)
        self._block_cache: dict[int, tuple[int, ...]] = {}
        # of the last advance, for a recorded run: every state angr's step made (the reads of the block are in
        # them), and whether the advance raised (its reads went with the state angr was stepping)
        self._stepped: tuple = ()
        self._opaque = False

    def run(self, start, record: bool = False, reuse: Reuse | None = None) -> Exploration:
        """Every path from ``start``. ``record``: keep what each advance did (``Exploration.tree``);
        ``reuse`` (``start`` None): start where a recorded run of another world configuration started and
        take what it did wherever this one would do the same (symabi.engine.prefixes). Either way the
        paths, their order and the limits are those of the plain run from this configuration's start."""
        result = Exploration()
        if record:
            result.tree = Node(start)
        # (state, the node recording it, the recorded node it may take); a state is made only when needed
        work = [(start, result.tree, reuse.root if reuse else None)]
        while work:
            state, node, recorded = work.pop()
            stop = self._stop(result, work)
            if state is None and (stop or not reuse.takes(recorded)):
                state = reuse.moved(recorded.source)
            if stop:
                result.paths.append(self._end(state, UNKNOWN, stop))
                continue
            if state is None:  # the recorded advance is this configuration's too
                result.paths.extend(replace(p, state=reuse.moved(p.state) if p.state is not None else None)
                                    for p in recorded.ended)
                work.extend((None, None, child) for child in recorded.children)
                continue
            if node is not None:
                node.before = state.copy()
            self._stepped, self._opaque = (), False
            ended, successors = self._advance(state)
            result.paths.extend(ended)
            if node is not None:
                node.ended, node.opaque = ended, self._opaque
                node.children = [Node(s) for s in successors]
                node.touched = touched([state, *self._stepped, *successors,
                                        *(p.state for p in ended if p.state is not None)])
            children = node.children if node is not None else [None] * len(successors)
            work.extend((s, child, None) for s, child in zip(successors, children))
        for index, path in enumerate(result.paths):
            path.index = index
        return result

    def _stop(self, result: Exploration, work: list) -> str:
        """Why the next path must end before it is advanced ("" when it need not)."""
        if self._out_of_time():
            return "time limit reached before this path ended"
        if len(result.paths) + len(work) >= self.limits.max_paths:
            return f"path limit ({self.limits.max_paths}) reached"
        return ""

    def _out_of_time(self) -> bool:
        return self.limits.deadline is not None and time.monotonic() > self.limits.deadline

    @staticmethod
    def _blocks(state) -> tuple[int, ...]:
        return tuple(state.history.bbl_addrs)

    def _end(self, state, kind: str, reason: str = "", **extra) -> PathOutcome:
        return PathOutcome(
            kind=kind, state=state, blocks=self._blocks(state), calls=state.globals["calls"], reason=reason, **extra
        )

    def _advance(self, state) -> tuple[list[PathOutcome], list]:
        addr = state.addr
        if addr in self.image.stubs:
            return self._call(state, self.image.stubs[addr])
        if not self.image.in_code(addr):
            return [self._left_code(state, addr)], []
        if state.history.block_count >= self.limits.max_blocks_per_path:
            return [self._end(state, UNKNOWN, f"path bound: more than {self.limits.max_blocks_per_path} blocks "
                              "(a loop the analysis cannot bound)")], []
        return self._step(state)

    def _left_code(self, state, addr: int) -> PathOutcome:
        """A path whose control reached a fixed address that is not the code's. In the first 64 KiB, which
        no OS maps, the next fetch faults: the path never returns (escaped). Anywhere else, what runs there
        (another function of the binary, a library, padding, or nothing) depends on how the program was
        linked and loaded, which nothing here models: UNKNOWN, not a verdict."""
        site = self._last_instruction(state)
        if addr < NULL_PAGES:
            return self._end(state, ESCAPED, f"control reached {addr:#x}, which is not code (no OS maps the "
                             "first 64 KiB)", target=state.regs.ip, ins_addr=site)
        return self._end(state, UNKNOWN, f"control reached {addr:#x}, a fixed address outside the code: what runs "
                         "there depends on the program's layout, which is not modelled", ins_addr=site)

    def _step(self, state) -> tuple[list[PathOutcome], list]:
        try:
            # opt_level 0: every register write happens at its instruction, so the guard's reads of RSP
            # (what is below the stack pointer) see the architectural value mid-block.
            succ = self.project.factory.successors(state, num_inst=len(self.block_instructions(state.addr)),
                                                   opt_level=0)
        except _STEP_ERRORS as exc:
            self._opaque = True  # the reads the block made went with the state angr was stepping
            return self._failed(state, exc), []
        self._stepped = tuple(succ.all_successors)
        ended, successors = self._faults(state, succ), []
        for s in succ.flat_successors:
            jumpkind = s.history.jumpkind
            if jumpkind in ("Ijk_Boring", "Ijk_Call", "Ijk_Ret"):
                successors.append(s)
            elif jumpkind == "Ijk_SigTRAP" or jumpkind == "Ijk_Sys_int" and self._is_int3(s):
                ended.append(self._end(s, ABORTED, "a trap (INT $3) ends the path", ins_addr=self._last_instruction(s)))
            elif jumpkind in _CPU_FAULTS:  # VEX's own checks (a misaligned MOVAPS, a BOUND, UD2)
                ended.append(self._end(s, FAULTED, _CPU_FAULTS[jumpkind], ins_addr=s.scratch.exit_ins_addr))
            elif jumpkind == "Ijk_NoDecode":
                ended.append(self._end(s, UNKNOWN, f"instruction at {s.addr:#x} cannot be decoded", ins_addr=s.addr))
            else:
                ended.append(self._end(s, UNKNOWN, f"unsupported control transfer {jumpkind}"))
        for s in succ.unconstrained_successors:
            ended.extend(self._symbolic_target(s, successors))
        return ended, successors

    def _failed(self, state, exc: Exception) -> list[PathOutcome]:
        """How a path ends when stepping its block raised."""
        if isinstance(exc, UncoveredAccess):
            return self._uncovered(state, exc)
        if isinstance(exc, UnmodelledFault):
            return [self._end(state, UNKNOWN, str(exc), ins_addr=exc.ins_addr)]
        if isinstance(exc, CertainFault):
            return [self._end(state, FAULTED, str(exc), ins_addr=exc.ins_addr)]
        if isinstance(exc, HostChosenWrite):  # where the store lands is the host's choice: the path stops here
            return [self._end(state, UNKNOWN, f"{exc}; what follows is not modelled", ins_addr=exc.wild.ins_addr,
                              wild_write=exc.wild)]
        # angr raises both hierarchies (SimIRSBNoDecodeError is a SimError): all mean "cannot continue".
        where = state.scratch.ins_addr if state.scratch.ins_addr is not None else state.addr
        return [self._end(state, UNKNOWN, f"{type(exc).__name__}: {exc}", ins_addr=where)]

    def _uncovered(self, state, exc: UncoveredAccess) -> list[PathOutcome]:
        """An access the model does not cover is UNKNOWN, except where its address can be null: there
        the path faults (the condition is over inputs, so it holds on the state before the block)."""
        unknown = state
        ended = []
        if exc.fault is not None:
            faulted, unknown = state.copy(), state.copy()
            faulted.add_constraints(exc.fault)
            unknown.add_constraints(claripy.Not(exc.fault))
            ended.append(self._end(faulted, FAULTED, f"a {exc.kind} through {addresses.shown(exc.address)}, "
                                   "which can be null: a page fault", ins_addr=exc.ins_addr))
        ended.append(self._end(unknown, UNKNOWN, f"uncovered memory access: {exc}", ins_addr=exc.ins_addr))
        return ended

    def block_instructions(self, addr: int) -> tuple[int, ...]:
        """The instructions one step from ``addr`` executes: VEX's block, cut where CpuGaps needs a boundary."""
        if addr not in self._block_cache:
            full = tuple(self.project.factory.block(addr).instruction_addrs)
            limit = self.cpu.block_limit(full)
            self._block_cache[addr] = full[:limit] if limit else full
        return self._block_cache[addr]

    def _faults(self, before, succ) -> list[PathOutcome]:
        """An aborted path for each new fault condition an instruction of the block recorded."""
        known = set(before.globals["faults"])
        new = {}
        for s in succ.all_successors:  # unsatisfiable ones too: a certain fault leaves no other
            for fault in s.globals["faults"]:
                if fault not in known:
                    new.setdefault((fault.ins_addr, fault.reason), fault)
        ended = []
        for fault in new.values():
            faulted = before.copy()
            faulted.add_constraints(fault.condition)
            if faulted.satisfiable():
                ended.append(self._end(faulted, FAULTED, fault.reason, ins_addr=fault.ins_addr))
        return ended

    def _symbolic_target(self, state, successors: list) -> list[PathOutcome]:
        """Split a symbolic jump target over where it can go. A RET or JMP may reach the caller's return
        address (returned), a callee whose address the code took (a tail call), or elsewhere (escaped).
        A CALL may reach a declared callee, by its symbol or by the input that holds it
        (``[callees."entry.rcx"]``), and so may a JMP (a tail call); a call that reaches nothing declared is
        UNKNOWN, not a verdict."""
        target = state.regs.ip
        calling = state.history.jumpkind == "Ijk_Call"
        ended, excluded = [], []
        if not calling:
            home = target == self.return_address
            if state.solver.satisfiable(extra_constraints=[home]):
                back = state.copy()
                back.add_constraints(home)
                ended.append(self._end(back, RETURNED, ins_addr=self._last_instruction(state)))
            excluded.append(claripy.Not(home))
        # a CALL, or a JMP (a tail call: asmcgocall_landingpad's JMP AX), may reach an input-declared callee;
        # a RET never does
        for name, value in self._indirect_callees(inputs=state.history.jumpkind != "Ijk_Ret"):
            hit = target == value
            if state.solver.satisfiable(extra_constraints=[hit, *excluded]):
                into = state.copy()
                into.add_constraints(hit, *excluded)
                if value.symbolic:  # the callee is an input: no stub address to jump to
                    done, more = self._call(into, name)
                    ended.extend(done)
                    successors.extend(more)
                else:
                    into.regs.ip = value
                    successors.append(into)
            excluded.append(claripy.Not(hit))
        if state.solver.satisfiable(extra_constraints=excluded):
            state = state.copy()
            state.add_constraints(*excluded)
            site = self._last_instruction(state)
            if calling:
                inputs = sorted(v for v in target.variables if v.startswith("entry."))
                hint = f'declare it as [callees."{inputs[0]}"]' if inputs else "declare the callee it reaches"
                ended.append(self._end(state, UNKNOWN, f"an indirect call through {target} reaches no declared "
                                       f"callee: {hint} (see cases/README.md)", ins_addr=site))
            else:
                ended.append(self._end(state, ESCAPED, "control goes to an address the inputs choose",
                                       target=target, ins_addr=site))
        return ended

    def _indirect_callees(self, inputs: bool = True) -> list[tuple[str, claripy.ast.BV]]:
        """Callees a symbolic target may be: those whose address the code takes, and (``inputs``) inputs
        the case declares as callees (``entry.rcx``: the host passed a Go function there; ``world.fn``: the
        function at the address of the world's region ``fn``, a code pointer the world holds)."""
        out = []
        world = {r.name: r.base for r in self.guard.symbolic}
        for name in self.callees:
            register = name.removeprefix("entry.")
            region = name.removeprefix("world.")
            if register != name and (value := self._input(register)) is not None:
                if inputs:
                    out.append((name, value))
            elif region != name and region in world:
                if inputs:
                    out.append((name, world[region]))
            elif (stub := self.image.stub_for(name)) is not None:
                out.append((name, claripy.BVV(stub, 64)))
        return out

    def _input(self, name: str) -> claripy.ast.BV | None:
        return entry_input(name, self.inputs)

    def _call(self, state, name: str) -> tuple[list[PathOutcome], list]:
        spec = self.callees.get(name)
        if spec is None:
            return [self._end(state, UNKNOWN, f"call to {name}, which the case does not declare",
                              ins_addr=self._last_instruction(state))], []
        calls = state.globals["calls"]
        ordinal = 1 + sum(1 for c in calls if c.callee == name)
        sp = state.regs.sp
        site = self._last_instruction(state)
        try:
            frame = tuple(
                state.memory.load(sp + 8 + off, 8, endness="Iend_LE") for off in range(0, spec.args, 8)
            )
            arch = self.image.arch
            event = CallEvent(name, ordinal, site, df_is_set(state), sp, frame,
                              registers={r: state.registers.load(r) for r in arch.gprs + arch.vectors},
                              memory=self.guard.observable_writes(state),
                              pointees={at: self._words(state, frame[at // 8], size)
                                        for at, size in spec.pointer_args if at // 8 < len(frame)},
                              x87_in_use=x87_in_use(state))
            after = state.copy()
            after.globals["calls"] = calls + (event,)
            if spec.noreturn:
                return [self._end(after, ABORTED, f"{name} does not return", ins_addr=site)], []
            self.model.apply(after, spec, ordinal, self.guard, site)
        except UnmodelledCallee as exc:  # raised before the model touched ``after``: the call is on record
            self._opaque = True  # what the model read before it raised is not on record
            return [self._end(after, UNKNOWN, f"the call to {name}: {exc}", ins_addr=site)], []
        except UncoveredAccess as exc:
            self._opaque = True  # what the model read before it raised is not on record
            return [self._end(state, UNKNOWN, f"uncovered memory access in the call to {name}: {exc}",
                              ins_addr=site)], []
        except HostChosenWrite as exc:  # the callee writes where the host's values say: the path stops here
            self._opaque = True  # what the model read before it raised is not on record
            return [self._end(state, UNKNOWN, f"in the call to {name}, {exc}; what follows is not modelled",
                              ins_addr=site, wild_write=exc.wild)], []
        if after.regs.ip.symbolic:
            # A tail call from the entry (JMP with RSP at the host's return address): the callee returns
            # straight to the host. That is a return, whose obligations apply, not an escape.
            home = after.regs.ip == self.return_address
            if not after.solver.satisfiable(extra_constraints=[claripy.Not(home)]):
                return [self._end(after, RETURNED, ins_addr=site)], []
            # else the callee returned through a word its own call clobbered
            site = self._last_instruction(state)
            return [self._end(after, ESCAPED, f"{name} returns to an address its call clobbered",
                              target=after.regs.ip, ins_addr=site)], []
        return [], [after]

    @staticmethod
    def _words(state, pointer, size: int) -> tuple:
        return tuple(state.memory.load(pointer + off, 8, endness="Iend_LE") for off in range(0, size, 8))

    def _is_int3(self, state) -> bool:
        """INT $3 as the Go assembler encodes it (CD 03), which VEX lifts as a generic software interrupt."""
        at = self._last_instruction(state)
        return at is not None and self.image.code[at - self.image.base:][:2] == b"\xcd\x03"

    def _last_instruction(self, state) -> int | None:
        """The instruction that brought control here (a CALL, JMP or RET): the last of the previous block."""
        previous = state.history.addr
        if previous is None or not self.image.in_code(previous):
            return None
        return self.block_instructions(previous)[-1]
