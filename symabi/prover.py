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
from symabi.engine.explore import Explorer, Limits, PathOutcome, initial_state
from symabi.engine.memory import STACK_SHADOW, FixedRegion, MemoryGuard, SymbolicRegion, write_initial
from symabi.engine.registers import RegisterFile
from symabi.errors import CaseError
from symabi.frontend import AssembleRequest, assemble
from symabi.loader import Image, UnsupportedRelocation, build_project, lay_out
from symabi.models import CALLEE_MODELS, ENTRY_CONVENTIONS
from symabi.models.entry import STACK_RESERVE
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
)

SOLVER_TIMEOUT_MS = 30_000


@dataclass(frozen=True)
class Options:
    timeout_s: float | None = None  # the whole run
    limits: Limits = field(default_factory=Limits)
    solver_timeout_ms: int = SOLVER_TIMEOUT_MS


def _models(case: Case):
    for kind, table, key in (
        ("contract", CONTRACTS, case.contract),
        ("callee_model", CALLEE_MODELS, case.callee_model),
        ("entry_convention.name", ENTRY_CONVENTIONS, case.entry_convention.name),
    ):
        if key not in table:
            raise CaseError(f"case {case.name}: field `{kind}` names {key!r}; known: {', '.join(sorted(table))}")
    return CONTRACTS[case.contract], CALLEE_MODELS[case.callee_model], ENTRY_CONVENTIONS[case.entry_convention.name]


def assumptions(case: Case) -> dict[str, tuple[str, ...]]:
    _, callee_model, convention = _models(case)
    callees = tuple(
        f"{c.name}: " + ("does not return" if c.noreturn else f"{c.args} bytes of arguments, {c.results} of results")
        + (f" ({c.doc})" if c.doc else "")
        for c in case.callees.values()
    )
    return {
        f"entry convention {convention.name}": convention.assumptions,
        f"callee model {callee_model.name}": callee_model.assumptions,
        "callees (from the case file)": callees,
    }


def display_path(path: Path) -> str:
    """Paths in reports are relative to the working directory when they can be, so editors can jump."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _hex(value: int | None, location: str) -> str | None:
    if value is None:
        return None
    if location == "df":
        return "set" if value else "clear"
    if location == "stack":
        return f"{value:+#x}"
    digits = 32 if location.startswith("xmm") else 16
    return f"0x{value:0{digits}x}"


class _Lines:
    """Source lines of the instructions a path executed, from the assembler's listing."""

    def __init__(self, project, image: Image, folder: str):
        self.project, self.image, self.folder, self._cache = project, image, folder, {}

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
            if block not in self._cache:
                self._cache[block] = self.project.factory.block(block).instruction_addrs
            lines.extend(line for a in self._cache[block] if (line := self.at(a)))
        return tuple(lines)


def _summarize(path: PathOutcome, findings: list[Finding], lines: _Lines):
    path_lines = lines.path(path.blocks)
    violations, unknowns = [], []
    for f in findings:
        ob = f.obligation
        if f.status == "violated":
            violations.append(Violation(
                obligation=ob.id, location=ob.location, path=path.index,
                entry=_hex(f.entry, ob.location), exit=_hex(f.exit, ob.location),
                detail=f.detail or ob.doc, site=lines.at(f.site), path_lines=path_lines,
                inputs={k: hex(v) for k, v in sorted(f.inputs.items())},
            ))
        elif f.status == "unknown":
            unknowns.append(Unknown(ob.id, path.index, f.detail, lines.at(f.site)))
    label = {"returned": "returns to the caller", "aborted": path.reason, "escaped": path.reason,
             "unknown": "analysis stopped"}[path.kind]
    summary = PathSummary(path.index, path.kind, label, path.reason, path_lines,
                          {f.obligation.id: f.status for f in findings})
    return summary, violations, unknowns


def prove_version(case: Case, version: VersionSpec, toolchain: GoToolchain, regs: RegisterFile,
                  options: Options) -> VersionResult:
    contract, callee_model, convention = _models(case)
    timings: dict[str, float] = {}
    began = time.monotonic()
    listing = assemble(toolchain, AssembleRequest(version.source, version.include_dirs, case.defines, case.package))
    timings["assemble"] = time.monotonic() - began
    base = dict(name=version.name, revision=version.revision, source=display_path(version.source),
                deviations=version.deviations)

    began = time.monotonic()
    try:
        image = lay_out(listing)
    except UnsupportedRelocation as exc:
        return VersionResult(verdict=Verdict.UNKNOWN, error=f"loader: {exc}", timings=timings, **base)
    if case.entry not in image.symbols:
        known = ", ".join(s.name for s in listing.text_symbols())
        raise CaseError(f"case {case.name}: entry symbol {case.entry!r} is not in {version.source.name} "
                        f"(its TEXT symbols: {known})")
    project = build_project(image)
    folder = display_path(version.source.parent)
    base["listing"] = tuple(
        ListingRow(i.address, i.symbol, f"{folder}/{i.location}", i.text, image.code[i.address - image.base:][: i.size])
        for i in sorted(image.instructions.values(), key=lambda i: i.address)
    )
    stack = SymbolicRegion("stack", regs["rsp"], -STACK_RESERVE,
                           convention.caller_window(case.entry_convention.stack_args), STACK_SHADOW,
                           doc="the thread's stack, addressed relative to the entry RSP")
    code = FixedRegion("code", image.base, len(image.code), writable=False, doc="the assembled symbols")
    guard = MemoryGuard((stack,), (code,))
    state = initial_state(project, image, image.symbols[case.entry], regs, guard, convention.preconditions(regs))
    write_initial(state, stack, 0, claripy.BVV(image.caller_return, 64))
    timings["load"] = time.monotonic() - began

    began = time.monotonic()
    limits = options.limits
    explorer = Explorer(project, image, case.callees, callee_model, limits)
    exploration = explorer.run(state)
    timings["explore"] = time.monotonic() - began

    began = time.monotonic()
    ctx = CheckContext(regs, image, options.solver_timeout_ms)
    lines = _Lines(project, image, folder)
    paths, violations, unknowns, statuses = [], [], [], []
    for path in exploration.paths:
        findings = contract.check(path, ctx)
        statuses.extend(f.status for f in findings)
        summary, v, u = _summarize(path, findings, lines)
        paths.append(summary)
        violations.extend(v)
        unknowns.extend(u)
    timings["solve"] = time.monotonic() - began
    return VersionResult(verdict=combine(statuses), violations=tuple(violations), unknowns=tuple(unknowns),
                         paths=tuple(paths), timings=timings, **base)


def prove_case(case: Case, toolchain: GoToolchain, versions: list[str] | None = None,
               options: Options = Options()) -> CaseResult:
    contract, _, _ = _models(case)
    chosen = [case.version(v) for v in versions] if versions else list(case.versions)
    if options.timeout_s is not None:
        deadline = time.monotonic() + options.timeout_s
        options = replace(options, limits=replace(options.limits, deadline=deadline))
    regs = RegisterFile.fresh()
    results = tuple(prove_version(case, v, toolchain, regs, options) for v in chosen)
    return CaseResult(
        case=case.name, summary=case.summary, entry=case.entry, contract=contract.name, contract_doc=contract.doc,
        obligations=tuple(ObligationInfo(o.id, o.location, o.family, o.doc) for o in contract.obligations),
        assumptions=assumptions(case), versions=results, toolchain=toolchain.version,
    )
