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
from symabi.engine.cpu import CpuGaps
from symabi.engine.explore import Explorer, Limits, PathOutcome, initial_state
from symabi.engine.memory import STACK_SHADOW, FixedRegion, MemoryGuard, SymbolicRegion
from symabi.engine.registers import RegisterFile
from symabi.equivalence import TracedPath, VersionTrace, compare_versions
from symabi.errors import CaseError
from symabi.frontend import AssembleRequest, Listing, assemble
from symabi.loader import Image, UnsupportedRelocation, build_project, lay_out
from symabi.models import CALLEE_MODELS, ENTRY_CONVENTIONS
from symabi.models.entry import STACK_RESERVE
from symabi.models.go_abiinternal import entry_facts
from symabi.models.world import Configuration, WorldModel
from symabi.ports import PORTS
from symabi.replay.confirm import setups_for_case
from symabi.toolchain import GoToolchain
from symabi.verdicts import (
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


@dataclass(frozen=True)
class Options:
    timeout_s: float | None = None  # the whole run
    limits: Limits = field(default_factory=Limits)
    solver_timeout_ms: int = SOLVER_TIMEOUT_MS


def _models(case: Case):
    for kind, table, key in (
        ("case.contract", CONTRACTS, case.contract),
        ("case.callee_model", CALLEE_MODELS, case.callee_model),
        ("entry_convention.name", ENTRY_CONVENTIONS, case.entry_convention.name),
    ):
        if key not in table:
            raise CaseError(f"case {case.name}: field `{kind}` names {key!r}; known: {', '.join(sorted(table))}")
    return CONTRACTS[case.contract], CALLEE_MODELS[case.callee_model], ENTRY_CONVENTIONS[case.entry_convention.name]


def assumptions(case: Case) -> dict[str, tuple[str, ...]]:
    _, callee_model, convention = _models(case)
    world = _world(case).assumptions()
    callees = tuple(
        f"{c.name}: " + ("does not return" if c.noreturn else f"{c.args} bytes of arguments, {c.results} of results")
        + "".join(f"; writes {w.size} bytes at *(frame+{w.pointer_at:#x})+{w.offset:#x}" for w in c.writes)
        + (f" ({c.doc})" if c.doc else "")
        for c in case.callees.values()
    )
    sections = {
        f"entry convention {convention.name}": convention.describe(case.entry_convention),
        f"callee model {callee_model.name}": callee_model.assumptions,
        "callees (from the case file)": callees,
    }
    world += tuple(f"{d.symbol} (data the code reads) holds {d.value}" + (f" — {d.doc}" if d.doc else "")
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


_ENDINGS = {"returned": "returns to the caller", "aborted": "aborts", "escaped": "escapes", "unknown": "analysis stopped"}


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
            ))
        elif f.status == "unknown":
            unknowns.append(Unknown(ob.id, path.index, f.detail, lines.at(f.site)))
    summary = PathSummary(path.index, path.kind, label, path.reason, path_lines,
                          {f.obligation.id: f.status for f in findings})
    return summary, violations, unknowns


def _explore_worlds(case: Case, setup: _Setup, explorer: Explorer, entry: str, regs: RegisterFile, convention):
    """Run every world configuration, skipping one whose execution is already known.

    An execution is determined by the values it reads; if a configuration agrees with an explored one
    on every field that the explored one's paths read, it would repeat those paths exactly.
    """
    done: list[tuple[Configuration, frozenset[int]]] = []
    for config in setup.world.configurations():
        if any(config.agrees_on(prev, fields) for prev, fields in done):
            continue
        state = _start(case, setup, entry, config, regs, convention)
        fields: set[int] = set()
        for path in explorer.run(state).paths:
            read = setup.world.fields_read(config, path.state.globals["reads"])
            fields.update(c.address for c in read)
            yield path, read, config
        done.append((config, frozenset(fields)))


def _label(entry: str, many_entries: bool, words: str, path: PathOutcome) -> str:
    ending = _ENDINGS[path.kind]
    if path.kind == "aborted":
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


def _world(case: Case) -> WorldModel:
    """The case's world, its ``tls`` on the segment register the case's port reaches TLS through."""
    tls = PORTS[case.port].tls
    return WorldModel(case.world, str(case.directory / "case.toml"), tls.segment if tls else "gs")


def _setup(case: Case, image: Image, regs: RegisterFile, convention) -> _Setup:
    world = _world(case)
    stack = SymbolicRegion("stack", regs["rsp"], -STACK_RESERVE,
                           convention.caller_window(case.entry_convention.stack_args), STACK_SHADOW,
                           doc="the thread's stack, addressed relative to the entry RSP")
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
    guard = MemoryGuard((stack,), (*data, code, *world.regions(), *external))
    return _Setup(build_project(image), image, stack, guard, world, CpuGaps(image), world_data)


def _start(case: Case, setup: _Setup, entry: str, config: Configuration, regs: RegisterFile, convention):
    params = case.entry_convention
    constraints = list(convention.preconditions(regs))
    for reg, text in params.registers.items():
        if reg not in regs.values:
            raise CaseError(f"case {case.name}: field `entry_convention.registers` names unknown register {reg!r}")
        constraints.append(regs[reg] == setup.world.value(text, f"entry_convention.registers.{reg}"))
    state = initial_state(setup.project, setup.image, setup.image.symbols[entry], regs, setup.guard, setup.cpu)
    setup.world.apply(state, config)
    for d, address in setup.data:
        value = setup.world.value(d.value, f"world.data.{d.symbol}.value")
        state.memory.store(address, claripy.BVV(value, d.size * 8), endness="Iend_LE", inspect=False)
    for key, fact in entry_facts(case.callee_model, case.callees, state, setup.image, setup.guard.fixed,
                                 PORTS[case.port].tls).items():
        state.globals[key] = fact
    constraints += convention.prepare(state, regs, setup.stack, setup.image, params)
    for c in constraints:
        state.add_constraints(c)
    return state


def _replay(case: Case, image: Image, violations: list[Violation], keys: list[tuple[str, str]]) -> list[Violation]:
    """Confirm each counterexample by running the bytes concretely (unicorn), independently of angr."""
    setups = {(s.entry_name, ", ".join(s.facts)): s for s in setups_for_case(case, image)}
    confirmed = []
    for v in violations:
        setup = setups.get(keys[v.path])
        status = setup.confirm(v) if setup else "not reproduced: no replay setup for this path"
        confirmed.append(replace(v, replay=status))
    return confirmed


def prove_version(case: Case, version: VersionSpec, toolchain: GoToolchain, regs: RegisterFile,
                  options: Options) -> VersionResult:
    return _prove_version(case, version, toolchain, regs, options)[0]


def _prove_version(case: Case, version: VersionSpec, toolchain: GoToolchain, regs: RegisterFile,
                   options: Options, listing: Listing | None = None) -> tuple[VersionResult, VersionTrace | None]:
    contract, callee_model, convention = _models(case)
    timings: dict[str, float] = {}
    began = time.monotonic()
    if listing is None:  # else the caller assembled the source itself (the gate: with the Go build's flags)
        port = PORTS[case.port]
        listing = assemble(toolchain, AssembleRequest(version.source, version.include_dirs, case.defines,
                                                      case.package, port.goos, port.goarch))
    timings["assemble"] = time.monotonic() - began
    base = dict(name=version.name, revision=version.revision, source=display_path(version.source),
                deviations=version.deviations)

    began = time.monotonic()
    try:
        port = PORTS[case.port]
        image = lay_out(listing, port.tls.g_offset if "R_TLS_LE" in port.relocations else None)
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
    explorer = Explorer(setup.project, image, case.callees, callee_model, options.limits, setup.guard, setup.cpu)
    explored: list[tuple[PathOutcome, str]] = []
    traced: list[TracedPath] = []
    replay_keys: list[tuple[str, str]] = []  # (entry, full world label) of each path, to replay it in
    for entry in case.entries:
        for path, read, config in _explore_worlds(case, setup, explorer, entry, regs, convention):
            path.index = len(explored)
            explored.append((path, _label(entry, len(case.entries) > 1, config.label_for(read), path)))
            traced.append(TracedPath(path, entry, {c.address: c.value for c in read}, {}))
            replay_keys.append((entry, config.label))
    timings["explore"] = time.monotonic() - began

    began = time.monotonic()
    other_stacks = {r.name: r.free_below for r in setup.world.regions() if r.free_below}
    ctx = CheckContext(regs, image, options.solver_timeout_ms, other_stacks)
    lines = _Lines(explorer, image, folder)
    paths, violations, unknowns, statuses = [], [], [], []
    for (path, label), trace in zip(explored, traced):
        findings = contract.check(path, ctx)
        trace.findings.update({f.obligation.id: f.status for f in findings})
        statuses.extend(f.status for f in findings)
        summary, v, u = _summarize(path, label, findings, lines)
        paths.append(summary)
        violations.extend(v)
        unknowns.extend(u)
    timings["solve"] = time.monotonic() - began

    began = time.monotonic()
    violations = _replay(case, image, violations, replay_keys)
    timings["replay"] = time.monotonic() - began
    result = VersionResult(verdict=combine(statuses), violations=tuple(violations), unknowns=tuple(unknowns),
                           paths=tuple(paths), timings=timings, **base)
    return result, VersionTrace(version.name, traced, setup.guard)


def prove_case(case: Case, toolchain: GoToolchain, versions: list[str] | None = None,
               options: Options = Options(), listings: dict[str, Listing] | None = None) -> CaseResult:
    """``listings``: already assembled versions, by version name (the others are assembled here)."""
    contract, _, _ = _models(case)
    chosen = [case.version(v) for v in versions] if versions else list(case.versions)
    if options.timeout_s is not None:
        deadline = time.monotonic() + options.timeout_s
        options = replace(options, limits=replace(options.limits, deadline=deadline))
    regs = RegisterFile.fresh()
    proved = [_prove_version(case, v, toolchain, regs, options, (listings or {}).get(v.name)) for v in chosen]
    results = tuple(r for r, _ in proved)
    equivalence = None
    if len(proved) >= 2:
        began = time.monotonic()
        (_, old), (_, new) = proved[0], proved[-1]
        equivalence = compare_versions(case, regs, old, new, options.solver_timeout_ms,
                                       names=(chosen[0].name, chosen[-1].name))
        results[-1].timings["equivalence"] = time.monotonic() - began
    return CaseResult(
        case=case.name, summary=case.summary, entry=case.entry, contract=contract.name, contract_doc=contract.doc,
        obligations=tuple(ObligationInfo(o.id, o.location, o.family, o.doc) for o in contract.obligations),
        assumptions=assumptions(case), versions=results, toolchain=toolchain.version, equivalence=equivalence,
    )
