"""The gate: prove every registered entry point a Go tree has, run the shipped cases, judge both
against a baseline.

Items and what they must be:

* ``tree/<GOOS>/<GOARCH>/<entry>``: a registry entry point as the tree's Go build for that port assembles
  it. Must be PROVED, unless
  the baseline accepts its current verdict (a REFUTED with a reason, failing no other obligation).
* ``case/<case>/<version>``: a shipped case written for one of the checked ports. Its newest version is
  judged like a tree entry point; an older version's verdict (and failing obligations) must equal the
  baseline's.

A regression (exit 1) is an item that is not what it must be. A registry symbol the tree lacks is
reported as absent, never as a regression or an error.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from symabi.casefile import Case, default_cases_dir, list_cases, parse_case
from symabi.check import callees
from symabi.errors import AssemblerError, CaseError
from symabi.frontend import Listing
from symabi.gate import build, jobs, registry
from symabi.gate import ports as gate_ports
from symabi.gate.baseline import Accepted, Baseline
from symabi.ports import DEFAULT_PORT, PORTS, Port
from symabi.toolchain import GoToolchain, find_toolchain
from symabi.verdicts import CaseResult, Verdict, VersionResult

if TYPE_CHECKING:
    from symabi.prover import Options
    from symabi.realrun.records import RealRun

OK, ACCEPTED, IMPROVED, REGRESSION, ABSENT, UNCHECKED = "ok", "accepted", "improved", "regression", "absent", "unchecked"


class Progress(Protocol):
    def start(self, what: str) -> None: ...

    def done(self, outcome: str) -> None: ...


class Quiet:
    def start(self, what: str) -> None:
        pass

    def done(self, outcome: str) -> None:
        pass


@dataclass
class Item:
    key: str  # "tree/sigtramp", "case/sigtramp/old"
    kind: str  # "tree" | "case"
    name: str  # registry entry or case name
    version: str  # "tree" for an entry point, else the case version
    gated: bool  # must be PROVED (or the baseline's accepted verdict); else must equal the baseline
    source: str  # the assembly file, for people
    result: CaseResult | None = None
    note: str = ""  # why it is absent, which entry symbols the tree lacks, why it was not proved
    unknown_reason: str = ""  # set when the entry point is UNKNOWN before any path ran
    status: str = ""
    message: str = ""
    accepted: Accepted | None = None
    port: str = DEFAULT_PORT  # GOOS/GOARCH the item was assembled and judged for
    real_run: RealRun | None = None  # with --real-run, for an entry point with a harness

    @property
    def outcome(self) -> VersionResult | None:
        if self.result is None:
            return None
        return next(v for v in self.result.versions if v.name == self.version)

    @property
    def verdict(self) -> Verdict | None:
        if self.unknown_reason:
            return Verdict.UNKNOWN
        return self.outcome.verdict if self.outcome else None

    @property
    def failing(self) -> tuple[str, ...]:
        return tuple(sorted({v.obligation for v in self.outcome.violations})) if self.outcome else ()


@dataclass
class GateResult:
    goroot: Path
    toolchain: str  # the tree's Go version
    items: list[Item]
    baseline: Path | None
    timings: dict[str, float] = field(default_factory=dict)
    ports: tuple[str, ...] = (DEFAULT_PORT,)  # the ports whose entry points were checked
    port_notes: dict[str, str] = field(default_factory=dict)  # a port not checked -> why
    cases_elsewhere: dict[str, str] = field(default_factory=dict)  # a case not run -> its port (not checked)
    cases_checked: bool = True  # False: --no-cases

    @property
    def regressions(self) -> list[Item]:
        return [i for i in self.items if i.status == REGRESSION]

    @property
    def exit_code(self) -> int:
        if any(i.real_run is not None for i in self.items):
            from symabi.realrun.gate import contradictions

            if contradictions(self.items):  # PROVED, yet the real run lost a register: a symabi bug
                return 2
        return 1 if self.regressions else 0


def judge(item: Item, accepted: Accepted | None) -> tuple[str, str]:
    """(status, message) of one item against its baseline entry."""
    verdict = item.verdict
    if verdict is None:
        return ABSENT, item.note
    if accepted is None:
        if verdict is Verdict.PROVED:
            return OK, ""
        if item.gated:
            return REGRESSION, f"{verdict.value.upper()}, and no baseline entry accepts it"
        return UNCHECKED, "no baseline entry for this version"
    failing, allowed = set(item.failing), set(accepted.obligations)
    matches = failing <= allowed if item.gated else failing == allowed
    if accepted.verdict is verdict and (verdict is not Verdict.REFUTED or matches):
        return (OK if verdict is Verdict.PROVED else ACCEPTED), accepted.reason
    if item.gated and verdict is Verdict.PROVED:
        return IMPROVED, f"PROVED; the baseline accepted {accepted.verdict.value.upper()} (it can be updated)"
    message = f"{verdict.value.upper()} where the baseline has {accepted.verdict.value.upper()}"
    if accepted.verdict is verdict:
        new, gone = sorted(failing - allowed), sorted(allowed - failing)
        message = "REFUTED on other obligations than the baseline's" + (f": now also {', '.join(new)}" if new else "") \
            + (f"; no longer {', '.join(gone)}" if gone else "")
    return REGRESSION, message


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


class _Timer:
    def __init__(self, progress: Progress, what: str):
        self.progress, self.what = progress, what

    def __enter__(self):
        self.began = time.monotonic()
        self.progress.start(self.what)
        return self

    def __exit__(self, kind, exc, tb):
        self.seconds = time.monotonic() - self.began
        if kind is not None:
            self.progress.done(f"failed ({self.seconds:.1f} s)")

    def done(self, outcome: str) -> float:
        self.seconds = time.monotonic() - self.began
        self.progress.done(f"{outcome} ({self.seconds:.1f} s)")
        return self.seconds


def _tree_items(goroot: Path, fallback: GoToolchain, entries: list[registry.Entry], port: Port,
                options: Options | None, progress: Progress, timings: dict[str, float], scratch: Path,
                registry_path: Path, workers: int = 1, use_cache: bool = True) -> tuple[list[Item], str]:
    """A port's entry points, proved (``_tree_jobs``, then ``jobs.run``)."""
    items, todo, version = _tree_jobs(goroot, fallback, entries, port, progress, timings, scratch, registry_path)
    jobs.run([job for job, _ in todo], options, use_cache, workers, progress, timings)
    for job, item in todo:
        item.result = job.result
    return items, version


def _tree_jobs(goroot: Path, fallback: GoToolchain, entries: list[registry.Entry], port: Port, progress: Progress,
               timings: dict[str, float], scratch: Path,
               registry_path: Path) -> tuple[list[Item], list[tuple[jobs.Job, Item]], str]:
    """A port's items, and the proofs they need: planned and assembled as the tree's Go build does."""
    entries = [e for e in entries if port.name in e.ports]
    packages = tuple(sorted({e.package for e in entries if (goroot / "src" / e.package).is_dir()}))
    race = tuple(sorted({e.package for e in entries if e.race and (goroot / "src" / e.package).is_dir()}))
    with _Timer(progress, f"planning the {port.name} build of {', '.join(packages)} (go build -n)") as t:
        tree = build.open_tree(goroot, fallback.go, packages, scratch / port.name.replace("/", "_"), port, race)
        timings[f"plan {port.name}"] = t.done(tree.toolchain.version)
    listings: dict[tuple[str, str, bool], Listing | str] = {}
    items, todo = [], []
    chosen = registry.for_tree(entries, tree.toolchain.version)
    for index, (entry, described) in enumerate(chosen, 1):
        item = Item(f"tree/{port.name}/{entry.name}", "tree", entry.name, registry.TREE_VERSION, True,
                    f"src/{entry.package}/{entry.file}", port=port.name)
        items.append(item)
        if not described:  # never silently missing: the registry says which releases it describes
            spans = "; ".join(e.releases for e in entries if e.name == entry.name)
            item.unknown_reason = (f"the registry describes {entry.name} on {port.name} for {spans}, "
                                   f"not {tree.toolchain.version}")
            continue
        command = _command(item, entry, tree, port)
        if command is None:
            continue
        item.source = f"src/{entry.package}/{command.source}"
        if entry.unstated:
            item.unknown_reason = f"the registry cannot state the world of {entry.name} on {port.name}: {entry.unstated}"
            continue
        key = (entry.package, command.source, entry.race)
        if key not in listings:
            listings[key] = _assemble(tree, command, item.source, progress, timings)
        if isinstance(listings[key], str):
            item.unknown_reason = listings[key]
            continue
        listing = listings[key]
        have = [s.name for s in listing.text_symbols()]
        if entry.family:  # one entry point per TEXT symbol its pattern matches
            members = entry.members(have)
            if not members:
                item.note = f"the tree's {item.source} has no TEXT symbol matching {', '.join(entry.symbols)}"
                continue
            items.pop()
            for symbol in members:
                name = f"{entry.name}/{symbol.rpartition('.')[2]}"  # "libc/mmap_trampoline"
                member = Item(f"tree/{port.name}/{name}", "tree", name, registry.TREE_VERSION, True, item.source,
                              port=port.name)
                items.append(member)
                _add_job(todo, member, entry, tree, command, [symbol], registry_path, listing, f"{index}/{len(chosen)}")
            continue
        present = [s for s in entry.symbols if s in have]
        missing = [s for s in entry.symbols if s not in have]
        if not present:
            item.note = f"the tree's {item.source} has no {', '.join(entry.symbols)}"
            continue
        if missing:
            item.note = f"the tree's {item.source} lacks {', '.join(missing)} (checked: {', '.join(present)})"
        _add_job(todo, item, entry, tree, command, present, registry_path, listing, f"{index}/{len(chosen)}")
    return items, todo, tree.toolchain.version


def _add_job(todo: list, item: Item, entry: registry.Entry, tree: build.Tree, command: build.AsmCommand,
             symbols: list[str], registry_path: Path, listing: Listing, where: str) -> None:
    """The proof of ``item``, unless it cannot have one (its unknown reason then says why)."""
    called = list(dict.fromkeys(c for s in symbols for c in callees.called(listing, s)))
    why = registry.callees_for(entry.table.get("callees", {}), called)[1]
    if why:
        item.unknown_reason = f"the registry cannot state the world of {item.name} on {tree.port.name}: {why}"
        return
    case = _entry_case(item, entry, tree, command, symbols, registry_path, called)
    if case is not None:
        todo.append((jobs.Job(f"[{where}] {item.key}", item.key, case, tree.toolchain,
                              {registry.TREE_VERSION: listing}), item))


def _command(item: Item, entry: registry.Entry, tree: build.Tree, port: Port) -> build.AsmCommand | None:
    """The plan's command for the entry's file, or None with the item's note saying why there is none."""
    build_kind = "-race build" if entry.race else "build"
    if entry.race and tree.race_commands is None:
        item.note = f"the tree's {port.name} toolchain has no -race build ({tree.race_error or 'no plan'})"
        return None
    source = entry.source_for(tree.files(entry.package, entry.race))
    if source is None:
        item.note = f"the tree's {port.name} {build_kind} of {entry.package} assembles no {entry.file}"
        return None
    return tree.command(entry.package, source, entry.race)


def _assemble(tree: build.Tree, command: build.AsmCommand, source: str, progress: Progress,
              timings: dict[str, float]) -> Listing | str:
    """The file as the tree's build assembles it, after generating its package's go_asm.h if it needs one."""
    if build.needs_go_asm_h(command) and command.package not in tree.headers:
        with _Timer(progress, f"go_asm.h of {command.package} for {tree.port.name}") as t:
            _, cached = build.generate_header(tree, command.package)
            timings[f"go_asm.h {tree.port.name} {command.package}"] = t.done(
                "from the cache" if cached else f"generated (go build -a {command.package})")
    with _Timer(progress, f"assembling {source} for {tree.port.name}") as t:
        try:
            listing = build.assemble_file(tree, command)
        except AssemblerError as exc:  # every entry point in the file is UNKNOWN, with the assembler's words
            t.done("does not assemble")
            return f"{source} does not assemble for {tree.port.name}: {exc}"
        timings[f"assemble {tree.port.name} {source}"] = t.done("assembled")
    return listing


def _entry_case(item: Item, entry: registry.Entry, tree: build.Tree, command: build.AsmCommand,
                symbols: list[str], registry_path: Path, called: list[str] | None = None) -> Case | None:
    """The registry's case for the entry point, with the tree's constants; None (and the item UNKNOWN) when
    the tree lacks one."""
    try:
        case = registry.case_for(entry, command.path, f"{tree.toolchain.version} at {tree.goroot}",
                                 build.constants(tree, command, tuple(tree.goroot / "src" / f for f in
                                                                      entry.constants_from)),
                                 symbols, registry_path, tree.port, tree.toolchain.version, called)
    except registry.MissingConstant as exc:
        where = ", ".join((f"{entry.package}'s go_asm.h", command.source, *entry.constants_from))
        item.unknown_reason = (f"the tree defines no {exc.args[0]} (in {where}), which the registry's world "
                               f"for {entry.name} uses")
        return None
    except CaseError as exc:
        raise CaseError(f"registry entry {entry.name}: {exc}") from None
    return case


def _cases_of(cases_dir: Path, toolchain: GoToolchain, ports: set[str]) -> tuple[list[jobs.Job], dict[str, str]]:
    """The proofs of the cases written for one of ``ports``, and the port of each other case (not run: a
    case judges symabi on its port's code, which a gate of other ports does not check; one CI job per port
    then proves each case once)."""
    run, elsewhere = [], {}
    for name in list_cases(cases_dir):
        case = parse_case(cases_dir / name)
        if case.port in ports:
            run.append(jobs.Job(f"case {name}", f"case/{name}", case, toolchain, name_versions=True))
        else:
            elsewhere[name] = case.port
    return run, elsewhere


def _case_items(job: jobs.Job) -> list[Item]:
    """A shipped case's items, one a version; the newest is gated."""
    result, name = job.result, job.case.name
    return [Item(f"case/{name}/{v.name}", "case", name, v.name, v is result.versions[-1], v.source, result,
                 port=job.case.port) for v in result.versions]


def run_gate(goroot: Path | None = None, go: str | None = None, cases_dir: Path | None = None,
             baseline: Baseline = Baseline(None), progress: Progress = Quiet(),
             options: Options | None = None, registry_path: Path = registry.REGISTRY,
             ports: tuple[str, ...] = (DEFAULT_PORT,), real_run: bool = False, workers: int = 1,
             use_cache: bool = True, with_cases: bool = True) -> GateResult:
    """Raises SymabiError for bad input or a broken environment (the CLI's exit 2). ``ports``: GOOS/GOARCH
    names, or ("all",): every amd64 port the tree's toolchain lists (``go tool dist list``). ``workers``:
    processes proving at once (``symabi.gate.jobs``); ``use_cache``: answer unchanged ones from the
    verdict cache; ``with_cases``: the shipped cases of the checked ports too. Options other than the
    defaults are never stored in the cache."""
    began = time.monotonic()
    toolchain = find_toolchain(go)
    goroot = build.require_tree(goroot or toolchain.goroot)
    entries = registry.load(registry_path)
    if real_run:
        from symabi.realrun.gate import preflight

        preflight([e.name for e in entries])
    timings: dict[str, float] = {}
    chosen, port_notes = gate_ports.choose(ports, goroot, toolchain)
    cases, elsewhere = _cases_of(cases_dir or default_cases_dir(), toolchain, {p.name for p in chosen}) \
        if with_cases else ([], {})
    items, todo, version = [], [], toolchain.version
    with jobs.Runner(options, use_cache, workers, progress, timings) as runner, \
            tempfile.TemporaryDirectory(prefix="symabi-gate-") as scratch:
        runner.submit(cases)  # proved while the ports' builds are planned
        for port in chosen:
            port_items, port_jobs, version = _tree_jobs(goroot, toolchain, entries, port, progress, timings,
                                                        Path(scratch), registry_path)
            items += port_items
            todo += port_jobs
            runner.submit([job for job, _ in port_jobs])
        runner.finish()
    for job, item in todo:
        item.result = job.result
    for job in cases:
        items += _case_items(job)
    for item in items:
        item.accepted = baseline.get(item.key)
        if item.accepted is None and item.port == DEFAULT_PORT and item.kind == "tree":
            item.accepted = baseline.get(f"tree/{item.name}")  # a baseline written before keys named the port
        item.status, item.message = judge(item, item.accepted)
    if real_run:
        from symabi.realrun.gate import attach

        attach(items, goroot, toolchain.go, version, progress, timings)
    timings["total"] = time.monotonic() - began
    return GateResult(goroot, version, items, baseline.path, timings, tuple(p.name for p in chosen), port_notes,
                      elsewhere, with_cases)


def _checked(result: GateResult, key: str) -> bool:
    """Whether the run judged the baseline key's port or case (so that its entry is the run's to write)."""
    kind, _, rest = key.partition("/")
    if kind == "case":
        return result.cases_checked and rest.partition("/")[0] not in result.cases_elsewhere
    port = "/".join(rest.split("/")[:2])
    return kind != "tree" or (port if port in PORTS else DEFAULT_PORT) in result.ports  # "tree/<name>": before ports


def accepted_now(result: GateResult, previous: Baseline) -> dict[str, Accepted]:
    """The baseline that accepts the run's verdicts (keeping the reasons of unchanged entries, and the
    entries of the ports and cases the run did not check)."""
    out = {key: accepted for key, accepted in previous.entries.items() if not _checked(result, key)}
    for item in result.items:
        if item.verdict is None:
            continue
        old = previous.get(item.key)
        failing = item.failing if item.verdict is Verdict.REFUTED else ()
        if old is not None and old.verdict is item.verdict and set(old.obligations) == set(failing):
            reason = old.reason
        elif item.verdict is Verdict.PROVED:
            reason = ""
        else:
            why = item.unknown_reason or next((v.detail for v in item.outcome.violations), "") or next(
                (u.reason for u in item.outcome.unknowns), item.outcome.error)
            reason = f"accepted by symabi gate --write-baseline ({why}); replace with why this is acceptable"
        out[item.key] = Accepted(item.verdict, failing, reason)
    return out
