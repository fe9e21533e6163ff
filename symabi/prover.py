"""The pipeline for one case: assemble → load → explore → check the contract → verdicts.

Each stage is a plain function of the previous stage's output; this module only wires them together
and turns engine objects into the plain data of ``symabi.verdicts``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import claripy

from symabi.casefile import Case, VersionSpec
from symabi.contracts import CONTRACTS
from symabi.contracts.base import CheckContext, Finding
from symabi.contracts import host_calls, signal_handler
from symabi.contracts.solver import ENTRY_CONSTRAINTS, EntrySolvers
from symabi import startup
from symabi.engine import z3_setup
from symabi.engine.cpu import CpuGaps
from symabi.engine.cpu_arm64 import gaps_for
from symabi.engine.explore import Explorer, Limits, PathOutcome, initial_state, input_callees
from symabi.engine.isolation import isolated
from symabi.engine import prefixes
from symabi.engine.memory import STACK_SHADOW, Access, FixedRegion, MemoryGuard, SymbolicRegion
from symabi.engine.registers import RegisterFile
from symabi.equivalence import TracedPath, VersionTrace, compare_versions
from symabi.errors import CaseError
from symabi.frontend import Listing, assemble, request_for
from symabi.loader import STUB_BASE, STUB_SLOT, Image, UnsupportedRelocation, build_project, lay_out_for
from symabi.models import CALLEE_MODELS, ENTRY_CONVENTIONS, host_callee
from symabi.models.entry import STACK_RESERVE
from symabi.models.go_abiinternal import entry_facts
from symabi.models.go_arm64 import for_arch
from symabi.models.world import Configuration, WorldModel
from symabi.ports import PORTS
from symabi.toolchain import GoToolchain
from symabi.verdicts import (
    CONFIRMED,
    CaseResult,
    ListingRow,
    ObligationInfo,
    PathSummary,
    SourceLine,
    Unknown,
    Verdict,
    VersionResult,
    Violation,
    combine,
    format_value,
)

SOLVER_TIMEOUT_MS = 30_000
z3_setup.install()


@dataclass(frozen=True)
class Options:
    timeout_s: float | None = None  # the whole run
    limits: Limits = field(default_factory=Limits)
    solver_timeout_ms: int = SOLVER_TIMEOUT_MS


def _models(case: Case):
    port = PORTS[case.port]
    callee_model = host_callee.for_port(case.callee_model, port)  # "host": the port's host ABI
    signal_handler.lookup(CONTRACTS, case.contract)  # signal-handler+host-calls(...), as a case file may name it
    host_calls.lookup(CONTRACTS, case.contract)  # <host ABI>+host-calls(...): made from its name in any process
    for kind, table, key in (
        ("case.contract", CONTRACTS, case.contract),
        ("case.callee_model", CALLEE_MODELS, callee_model),
        ("entry_convention.name", ENTRY_CONVENTIONS, case.entry_convention.name),
    ):
        if key not in table:
            raise CaseError(f"case {case.name}: field `{kind}` names {key!r}; known: {', '.join(sorted(table))}")
    contract = CONTRACTS[case.contract]
    if hasattr(contract, "for_port"):  # a contract over the port's host ABI (go-to-host)
        contract = contract.for_port(port)
    return contract, for_arch(CALLEE_MODELS[callee_model], port.goarch), ENTRY_CONVENTIONS[case.entry_convention.name]


def assumptions(case: Case) -> dict[str, tuple[str, ...]]:
    contract, callee_model, convention = _models(case)
    world = _world(case).assumptions()
    callees = tuple(
        f"{c.name}: " + ("does not return" if c.noreturn else f"{c.args} bytes of arguments, {c.results} of results")
        + "".join(f"; writes {w.size} bytes at *({w.register.upper() or f'frame+{w.pointer_at:#x}'})+{w.offset:#x}"
                  for w in c.writes)
        + ("; sets g (R28) from the thread's TLS slot" if c.sets_g else "")
        + (f"; modelled as {c.model}, not as {case.callee_model}" if c.model else "")
        + (f"; changes only {', '.join(r.upper() for r in c.clobbers) or 'no register'} ({c.clobbers_reason})"
           if c.clobbers is not None else "")
        + (f" ({c.doc})" if c.doc else "")
        for c in case.callees.values()
    )
    sections = {f"contract {contract.name}": contract.assumptions} if getattr(contract, "assumptions", ()) else {}
    sections |= {
        f"entry convention {convention.name}": convention.describe(case.entry_convention),
        f"callee model {callee_model.name}": callee_model.assumptions,
        "callees (from the case file)": callees,
    }
    world += tuple(f"{d.symbol} (data the code reads) holds "
                   + (d.value or f"any value (the input init.{d.symbol}+0x0)") + (f" — {d.doc}" if d.doc else "")
                   for d in case.world.data)
    if world:
        sections["runtime world (from the case file)"] = world
    return sections


def display_path(path: Path) -> str:
    """Paths in reports are relative to the working directory when they can be, so editors can jump."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


class _Lines:
    """Source lines of the instructions a path executed, from the assembler's listing."""

    def __init__(self, explorer: Explorer, image: Image, folder: str):
        self.explorer, self.image, self.folder = explorer, image, folder

    def at(self, address: int | None) -> SourceLine | None:
        located = self.image.instruction_at(address) if address is not None else None
        if located is None:
            return None
        return SourceLine(located.address, f"{self.folder}/{located.location}", located.text)

    def path(self, blocks: tuple[int, ...]) -> tuple[SourceLine, ...]:
        lines = []
        for block in blocks:
            if not self.image.in_code(block):
                continue
            lines.extend(line for a in self.explorer.block_instructions(block) if (line := self.at(a)))
        return tuple(lines)


_ENDINGS = {"returned": "returns to the caller", "aborted": "aborts", "faulted": "faults", "escaped": "escapes",
            "unknown": "analysis stopped"}


def _call_sites(path: PathOutcome, origin: tuple[str, ...], lines: _Lines) -> dict[str, SourceLine]:
    """The CALL of each callee output the failing value is made of (``runtime.mstart#1.rbx``: the 1st call)."""
    sites = {f"{c.callee}#{c.ordinal}": c.site for c in path.calls}
    keys = [callee + "#" + rest.split(".", 1)[0] for callee, _, rest in (name.partition("#") for name in origin)]
    return {key: line for key in keys if key in sites and (line := lines.at(sites[key])) is not None}


def _summarize(path: PathOutcome, label: str, findings: list[Finding], lines: _Lines):
    path_lines = lines.path(path.blocks)
    violations, unknowns = [], []
    for f in findings:
        ob = f.obligation
        if f.status == "violated":
            violations.append(Violation(
                obligation=ob.id, location=ob.location, path=path.index,
                entry=format_value(f.entry, ob.location), exit=format_value(f.exit, ob.location),
                detail=f.detail or ob.doc, site=lines.at(f.site), path_lines=path_lines,
                inputs={k: hex(v) for k, v in sorted(f.inputs.items())},
                origin=f.origin, origin_exact=f.origin_exact, call_sites=_call_sites(path, f.origin, lines),
                saved_at=lines.at(path.state.globals.get("saves", {}).get(f"entry.{ob.location}")),
            ))
        elif f.status == "unknown":
            unknowns.append(Unknown(ob.id, path.index, f.detail, lines.at(f.site)))
    summary = PathSummary(path.index, path.kind, label, path.reason, path_lines,
                          {f.obligation.id: f.status for f in findings})
    return summary, violations, unknowns


def _explore_worlds(case: Case, setup: _Setup, explorer: Explorer, entry: str, regs: RegisterFile, convention):
    """Run every world configuration, skipping one whose execution is already known, and taking from the
    first configuration explored on each stack every step another one would repeat (``_Moved``).

    An execution is determined by the values it reads; if a configuration agrees with an explored one
    on every field that the explored one's paths read, it would repeat those paths exactly.
    """
    done: list[tuple[Configuration, frozenset[tuple[str, int]], frozenset[str]]] = []
    recorded: dict[str, tuple[Configuration, list]] = {}  # running_on -> (configuration, [(situation, tree)])
    configurations = setup.world.configurations()
    share = SHARE_PREFIXES and len(configurations) > 1  # with one configuration nobody takes a recorded step
    for config in configurations:
        if any(_repeats(config, prev, fields, touched) for prev, fields, touched in done):
            continue
        reference = recorded.get(config.running_on) if share else None
        moved = _Moved(setup, reference[0], config) if reference else None
        if moved is not None and moved.agrees(prefixes.touched(tree.source for _, tree in reference[1])):
            # the start states differ only in fields nothing has read: this configuration's are the recorded
            # ones, with its own values in those fields (made by the run, from the tree, where it needs them)
            runs = [(situation, None, prefixes.Reuse(tree, moved.agrees, moved.moved))
                    for situation, tree in reference[1]]
        else:
            state = _start(case, setup, entry, config, regs, convention)
            # a convention may split the entry into situations reality allows (Go's RSP 0 or 8 mod 16)
            starts = convention.split(state, regs) if hasattr(convention, "split") else [("", state)]
            runs = [(situation, start, None) for situation, start in starts]
        fields: set[tuple[str, int]] = set()
        touched_regions: set[str] = set()
        trees = []
        for situation, start, reuse in runs:
            if start is not None:
                start.globals["situation"] = situation
                start.globals[ENTRY_CONSTRAINTS] = tuple(start.solver.constraints)  # its paths share its solver
            exploration = explorer.run(start, record=share and reference is None, reuse=reuse)
            trees.append((situation, exploration.tree))
            for path in exploration.paths:
                read = setup.world.fields_read(config, path.state.globals["reads"])
                fields.update((c.region, c.offset) for c in read)
                touched_regions.update(a.region for a in (*path.state.globals["reads"], *path.state.globals["writes"]))
                yield path, read, config
        if share and reference is None:
            recorded[config.running_on] = (config, trees)
        done.append((config, frozenset(fields), frozenset(touched_regions)))


SHARE_PREFIXES = True  # False: every configuration explored from its own start (the long way, for tests)


class _Moved:
    """How ``config`` differs from the ``reference`` configuration: the fields where their values differ,
    each with its address and ``config``'s value (a field in the stack the two run on is not in memory)."""

    def __init__(self, setup: _Setup, reference: Configuration, config: Configuration):
        self.changes = []
        for ours, theirs in zip(config.choices, reference.choices):
            assert (ours.region, ours.offset) == (theirs.region, theirs.offset)
            if ours.text == theirs.text:
                continue
            address = None
            if ours.region != config.running_on:
                address = setup.guard.address_of(Access(ours.region, ours.offset, ours.field.size, None))
            value = setup.world.value(ours.text, "world.fields")[ours.field.size * 8 - 1:0]
            self.changes.append((ours.region, ours.offset, ours.field.size, address, value))

    def agrees(self, words) -> bool:
        """Whether no (region, offset, size) word in ``words`` overlaps a field the configurations differ in."""
        return not any(region == r and offset < o + s and o < offset + size
                       for region, offset, size, _, _ in self.changes for r, o, s in words)

    def moved(self, state):
        """A copy of a state of the reference configuration, with this configuration's field values."""
        state = state.copy()
        for _, _, _, address, value in self.changes:
            if address is not None:
                state.memory.store(address, value, endness="Iend_LE", inspect=False)
        return state


def _repeats(config: Configuration, prev: Configuration, fields, touched) -> bool:
    """Whether exploring ``config`` would repeat ``prev``'s paths: the same value in every field they
    read; and when only ``config`` is entered on a world stack (``running_on``), ``prev``'s paths never
    touched that region, so the only difference is ``config``'s placement constraint, which removes
    executions and adds none. The other way round ``prev`` had fewer executions: never a repeat."""
    if config.running_on != prev.running_on and (prev.running_on or config.running_on in touched):
        return False
    return config.agrees_on(prev, fields)


def _label(entry: str, many_entries: bool, words: str, path: PathOutcome) -> str:
    ending = _ENDINGS[path.kind]
    if path.kind in ("aborted", "faulted"):
        ending = path.reason
    words = [w for w in (entry if many_entries else "", words) if w]
    return (", ".join(words) + ": " if words else "") + ending


@dataclass
class _Setup:
    """Everything one version's exploration needs, built once from the image and the case."""

    project: object
    image: Image
    stack: SymbolicRegion
    guard: MemoryGuard
    world: WorldModel
    cpu: CpuGaps
    data: tuple = ()  # (DataSpec, address): the world's values of data symbols the code reads
    shared: dict = field(default_factory=dict)  # the start constraints, by the stack a configuration runs on
    starts: dict = field(default_factory=dict)  # the solvers of the start states' shared constraints (_constrain)


def _world(case: Case) -> WorldModel:
    """The case's world, its ``tls`` on the segment register the case's port reaches TLS through."""
    tls = PORTS[case.port].tls
    return WorldModel(case.world, str(case.directory / "case.toml"), tls.segment if tls else "gs")


def _setup(case: Case, image: Image, regs: RegisterFile, convention) -> _Setup:
    world = _world(case)
    reserve = convention.stack_reserve(case.entry_convention)
    stack = SymbolicRegion("stack", regs.stack_pointer, -reserve,
                           convention.caller_window(case.entry_convention.stack_args), STACK_SHADOW,
                           doc=f"a goroutine stack: Go promises a NOSPLIT function {reserve} bytes below its entry SP"
                           if reserve < STACK_RESERVE else "the thread's stack, addressed relative to the entry RSP")
    data = tuple(
        FixedRegion(name, image.symbols[name], image.sizes[name], writable=kind != "SRODATA", doc="data symbol")
        for name, kind in image.kinds.items() if kind != "STEXT"
    )
    code = FixedRegion("code", image.base, len(image.code), writable=False, doc="the assembled symbols")
    # World data the code reads but the file does not define (e.g. runtime.tls_g) lives at its stub address.
    world_data = tuple((d, image.symbols.get(d.symbol, image.stub_for(d.symbol))) for d in case.world.data)
    world_data = tuple((d, address) for d, address in world_data if address is not None)
    external = tuple(FixedRegion(d.symbol, address, d.size, writable=False, doc=d.doc or "world data")
                     for d, address in world_data if d.symbol not in image.symbols)
    guard = MemoryGuard((stack, *world.regions()), (*data, code, *external))
    cpu = gaps_for(image)
    guard.address_checks.append(cpu.alignment)
    guard.red_zone = convention.red_zone
    guard.caller_floor = image.arch.return_slot
    return _Setup(build_project(image), image, stack, guard, world, cpu, world_data)


def _code_spans(setup: _Setup) -> list[tuple[int, int]]:
    """(start, size) of the code image (data symbols included) and of the callee stubs."""
    image = setup.image
    return [(image.base, len(image.code)), (STUB_BASE, STUB_SLOT * max(len(image.stubs), 1))] + \
        [(r.start, r.size) for r in setup.guard.fixed if not image.base <= r.start < image.end]


def _taken(setup: _Setup) -> list[tuple]:
    """Every span of the address space that is not host code: where the host's return address is not."""
    return [(claripy.BVV(start, 64), size) for start, size in _code_spans(setup)] + \
        [(r.base + r.low, r.high - r.low) for r in setup.guard.symbolic]


def _c_pointers(case: Case, image) -> list:
    """A C function pointer a data word holds (world data with no value, called as ``entry.<symbol>+0x0``) is
    nil or C code: never the trampoline's own code nor one of the Go functions the case names as callees."""
    out = []
    named = [claripy.BVV(address, 64) for address, name in image.stubs.items() if name in case.callees]
    for d in case.world.data:
        if d.value or f"entry.{d.symbol}+0x0" not in case.callees:
            continue
        word = claripy.BVS(f"init.{d.symbol}+0x0", 64, explicit_name=True)  # the word as memory names it
        out += [word != f for f in named]
        out.append(claripy.Or(claripy.ULT(word, image.base), claripy.UGE(word, image.end)))
    return out


def _shared_constraints(case: Case, setup: _Setup, config: Configuration, regs: RegisterFile, convention) -> tuple:
    """The start constraints the configuration's own choices do not decide: the convention's, the return
    address's and the placement's. Of the configuration, the placement reads only which stack it runs on,
    so they are built once per version and stack (``_Setup.shared``)."""
    if config.running_on not in setup.shared:
        stack = setup.stack
        constraints = list(convention.preconditions(regs)) + convention.return_address(regs, _taken(setup))
        # a callee is entered at its first instruction, never at the instruction after the caller's CALL
        constraints += [regs.return_address != f for f in input_callees(case.callees, regs.values)]
        constraints += _c_pointers(case, setup.image)
        constraints += setup.world.placement(regs.stack_pointer, stack.base + stack.low, stack.high - stack.low,
                                             _code_spans(setup), config)
        setup.shared[config.running_on] = tuple(constraints)
    return setup.shared[config.running_on]


def _start(case: Case, setup: _Setup, entry: str, config: Configuration, regs: RegisterFile, convention):
    params = case.entry_convention
    shared = _shared_constraints(case, setup, config, regs, convention)
    constraints = list(shared)
    bound, held = {}, []
    for reg, text in params.registers.items():
        if reg not in regs.values:
            raise CaseError(f"case {case.name}: field `entry_convention.registers` names unknown register {reg!r}")
        bound[reg], choice = setup.world.held(text, config, f"entry_convention.registers.{reg}")
        held += [choice] if choice else []
        constraints.append(regs[reg] == bound[reg])
    state = initial_state(setup.project, setup.image, setup.image.symbols[entry], regs, setup.guard, setup.cpu)
    # a register holding a field's value ("*g+0x10") reads that field: configurations differing there differ
    state.globals["reads"] += tuple(Access(c.region, c.offset, c.field.size, None) for c in held)
    for reg, value in bound.items():  # the code sees the world's expression (addresses stay region-relative)
        state.registers.store(reg, value)
    state.globals["hidden_regions"] = (config.running_on,) if config.running_on else ()
    setup.world.apply(state, config, setup.guard)
    for d, address in (x for x in setup.data if x[0].value):  # a data word without a value is an input
        value = setup.world.value(d.value, f"world.data.{d.symbol}.value")[d.size * 8 - 1:0]
        state.memory.store(address, value, endness="Iend_LE", inspect=False)
        setup.guard.touch(state, address, d.size)
    for key, fact in entry_facts(case.callee_model, case.callees, state, setup.image, setup.guard,
                                 PORTS[case.port].tls).items():
        state.globals[key] = fact
    constraints += convention.prepare(state, regs, setup.stack, setup.image, params)
    _constrain(setup, state, shared, constraints[len(shared):])
    if not state.satisfiable():
        raise CaseError(f"case {case.name}: the entry convention and the world contradict each other in the "
                        f"situation {config.label or '(no world)'!r}; no execution satisfies them, so nothing "
                        "could be checked")
    return state


def _constrain(setup: _Setup, state, shared: tuple, own: list) -> None:
    """Add the entry's constraints to a start state: ``shared`` (the same for many configurations: the
    convention's, the return address's, the placement's) and then ``own``, in that order, as one list.

    The shared ones are asked of one solver, built and solved once per distinct list (``_Setup.starts``,
    keyed by the constraints' identities, which the entry keeps alive): the start state's solver is a
    copy of it, which asks it with the state's own constraints as assumptions (engine/z3_setup), so each
    configuration's start, and every path from it, shares what Z3 learnt about the placement. The
    constraints are the same either way; a state that already has some is constrained the plain way."""
    if state.solver.constraints:
        state.add_constraints(*shared, *own)
        return
    key = tuple(id(c) for c in shared)
    if key not in setup.starts:
        base = state.copy()
        base.add_constraints(*shared)
        base.satisfiable()  # solved once here; its copies below ask this solver
        setup.starts[key] = (shared, base)
    state.solver._stored_solver = setup.starts[key][1].solver._solver.branch()
    if own:
        state.add_constraints(*own)


def _replay(case: Case, image: Image, violations: list[Violation], keys: list[tuple[str, str]],
            states: list) -> list[Violation]:
    """Confirm each counterexample by running the bytes concretely (unicorn), independently of angr.
    ``states``: each path's final state, whose reads through host-chosen addresses the witness must lay out.
    The violations of a path that share a witness (``symbolic.shared_witnesses``) share its runs: each is
    judged on every run, and gets the status its own runs would give it (``confirm_all``)."""
    if not violations:
        return []
    # the concrete oracle (unicorn), imported only when there is a refutation to replay
    from symabi.replay.confirm import failed, setups_for_case

    why = "the concrete replay has no setup for this case"
    try:
        setups = {(s.entry_name, ", ".join(s.facts)): s for s in setups_for_case(case, image)}
    except Exception as exc:  # noqa: BLE001 — no replay, no confirmation
        setups = {}
        why = f"the concrete replay could not be set up ({type(exc).__name__}: {exc})"
    shared: dict[tuple, list[int]] = {}  # (path, witness) -> the violations that have it
    for n, v in enumerate(violations):
        shared.setdefault((v.path, tuple(sorted(v.inputs.items()))), []).append(n)
    statuses: dict[int, str] = {}
    for members in shared.values():
        first = violations[members[0]]
        setup = setups.get(keys[first.path])
        try:
            if setup is None:
                found = [f"not reproduced: {why if not setups else 'no replay setup for this path'}"] * len(members)
            else:
                found = setup.confirm_all(_laid_out([violations[n] for n in members], states[first.path]))
        except Exception as exc:  # noqa: BLE001 — a replay that cannot judge confirms nothing
            found = [failed(exc)] * len(members)
        statuses.update(zip(members, found))
    return [replace(v, replay=statuses[n]) for n, v in enumerate(violations)]


def _laid_out(violations: list[Violation], state) -> list[Violation]:
    """Violations of one path with one witness, the witness given the memory the path's reads through
    host-chosen addresses need (``witness_memory``)."""
    if state is None or not state.globals.get("host_reads"):
        return violations
    from symabi.replay.host_reads import witness_memory

    inputs = violations[0].inputs
    extra = witness_memory(inputs, state.globals["host_reads"], state.solver.constraints)
    return [replace(v, inputs={**inputs, **extra}) for v in violations]


def _demote_unconfirmed(violations: list[Violation], unknowns: list[Unknown], paths: list[PathSummary]):
    """A refutation is real only when its witness replays: one that does not is UNKNOWN ("not
    reproduced concretely"), on its path too. Obligations replay does not model (``replay == ""``)
    keep their refutation, which rests on the solver alone."""
    kept, demoted = [], []
    for v in violations:
        (kept if v.replay in ("", CONFIRMED) else demoted).append(v)
    unknowns = unknowns + [Unknown(v.obligation, v.path, f"a counterexample was found but not reproduced "
                                   f"concretely ({v.replay})", v.site) for v in demoted]
    by_path = {}
    for v in demoted:
        by_path.setdefault(v.path, set()).add(v.obligation)
    paths = [replace(p, statuses={ob: ("unknown" if ob in by_path.get(p.index, ()) and st == "violated" else st)
                                  for ob, st in p.statuses.items()}) for p in paths]
    return kept, unknowns, paths, len(demoted)


def prove_version(case: Case, version: VersionSpec, toolchain: GoToolchain, regs: RegisterFile,
                  options: Options) -> VersionResult:
    return _prove_version(case, version, toolchain, regs, options)[0]


def _prove_version(case: Case, version: VersionSpec, toolchain: GoToolchain, regs: RegisterFile,
                   options: Options, listing: Listing | None = None) -> tuple[VersionResult, VersionTrace | None]:
    contract, callee_model, convention = _models(case)
    timings: dict[str, float] = {}
    began = time.monotonic()
    if listing is None:  # else the caller assembled the source itself (the gate: with the Go build's flags)
        listing = assemble(toolchain, request_for(case, version))
    timings["assemble"] = time.monotonic() - began
    base = dict(name=version.name, revision=version.revision, source=display_path(version.source),
                deviations=version.deviations)

    began = time.monotonic()
    try:
        port = PORTS[case.port]
        image = lay_out_for(listing, port)
    except UnsupportedRelocation as exc:
        return VersionResult(verdict=Verdict.UNKNOWN, error=f"loader: {exc}", timings=timings, **base), None
    missing = [e for e in case.entries if e not in image.symbols]
    if missing:
        known = ", ".join(s.name for s in listing.text_symbols())
        raise CaseError(f"case {case.name}: entry symbol {missing[0]!r} is not in {version.source.name} "
                        f"(its TEXT symbols: {known})")
    setup = _setup(case, image, regs, convention)
    folder = display_path(version.source.parent)
    base["listing"] = tuple(
        ListingRow(i.address, i.symbol, f"{folder}/{i.location}", i.text, image.code[i.address - image.base:][: i.size])
        for i in sorted(image.instructions.values(), key=lambda i: i.address)
    )
    timings["load"] = time.monotonic() - began

    began = time.monotonic()
    explorer = Explorer(setup.project, image, case.callees, callee_model, options.limits, setup.guard, setup.cpu,
                        regs)
    explored: list[tuple[PathOutcome, str]] = []
    traced: list[TracedPath] = []
    replay_keys: list[tuple[str, str]] = []  # (entry, full world label) of each path, to replay it in
    for entry in case.entries:
        for path, read, config in _explore_worlds(case, setup, explorer, entry, regs, convention):
            path.index = len(explored)
            words = ", ".join(w for w in (path.state.globals.get("situation", ""), config.label_for(read)) if w)
            explored.append((path, _label(entry, len(case.entries) > 1, words, path)))
            traced.append(TracedPath(path, entry, {(c.region, c.offset): c.text for c in read}, {}))
            replay_keys.append((entry, config.label))
    timings["explore"] = time.monotonic() - began

    began = time.monotonic()
    other_stacks = {r.name: r.free_below for r in setup.world.regions() if r.free_below}
    caller_frame = convention.caller_frame(case.entry_convention.stack_args)
    ctx = CheckContext(regs, image, options.solver_timeout_ms, other_stacks, caller_frame,
                       EntrySolvers(options.solver_timeout_ms))
    lines = _Lines(explorer, image, folder)
    paths, violations, unknowns = [], [], []
    for (path, label), trace in zip(explored, traced):
        findings = contract.check(path, ctx)
        trace.findings.update({f.obligation.id: f.status for f in findings})
        summary, v, u = _summarize(path, label, findings, lines)
        paths.append(summary)
        violations.extend(v)
        unknowns.extend(u)
    timings["solve"] = time.monotonic() - began

    began = time.monotonic()
    violations = _replay(case, image, violations, replay_keys, [path.state for path, _ in explored])
    violations, unknowns, paths, _ = _demote_unconfirmed(violations, unknowns, paths)
    timings["replay"] = time.monotonic() - began
    statuses = [st for p in paths for st in p.statuses.values()]
    host_reads = tuple(dict.fromkeys(r.describe() for path, _ in explored if path.state is not None
                                     for r in path.state.globals.get("host_reads", ())))
    result = VersionResult(verdict=combine(statuses), violations=tuple(violations), unknowns=tuple(unknowns),
                           paths=tuple(paths), timings=timings, host_reads=host_reads, **base)
    return result, VersionTrace(version.name, traced, setup.guard)


def prove_case(case: Case, toolchain: GoToolchain, versions: list[str] | None = None,
               options: Options = Options(), listings: dict[str, Listing] | None = None) -> CaseResult:
    """``listings``: already assembled versions, by version name (the others are assembled here). The
    proof runs with solver state of its own (engine.isolation): its counterexamples are those it finds
    alone, whatever this process proved before."""
    return isolated(_prove_case, case, toolchain, versions, options, listings)


def _prove_case(case: Case, toolchain: GoToolchain, versions: list[str] | None, options: Options,
                listings: dict[str, Listing] | None) -> CaseResult:
    contract, _, _ = _models(case)
    chosen = [case.version(v) for v in versions] if versions else list(case.versions)
    if options.timeout_s is not None:
        deadline = time.monotonic() + options.timeout_s
        options = replace(options, limits=replace(options.limits, deadline=deadline))
    regs = RegisterFile.fresh(arch=PORTS[case.port].arch)
    proved = [_prove_version(case, v, toolchain, regs, options, (listings or {}).get(v.name)) for v in chosen]
    results = tuple(r for r, _ in proved)
    equivalence = None
    if len(proved) >= 2:
        began = time.monotonic()
        (_, old), (_, new) = proved[0], proved[-1]
        equivalence = compare_versions(case, regs, old, new, options.solver_timeout_ms,
                                       names=(chosen[0].name, chosen[-1].name))
        results[-1].timings["equivalence"] = time.monotonic() - began
    stated = assumptions(case)
    for r in results:
        if r.host_reads:  # made by the paths themselves: printed with the case's own
            stated[f"memory the host's values point to ({r.name})"] = r.host_reads
    return CaseResult(
        case=case.name, summary=case.summary, entry=case.entry, contract=contract.name, contract_doc=contract.doc,
        obligations=tuple(ObligationInfo(o.id, o.location, o.family, o.doc) for o in contract.obligations),
        assumptions=stated, versions=results, toolchain=toolchain.version, equivalence=equivalence,
        arch=PORTS[case.port].arch.name,
    )


startup.engine_imported()  # the engine is imported: usual garbage collection from here on
