"""Terminal rendering: greppable ``file:line: error:`` lines, then what each version did.

Only the judged (newest checked) version's findings are ``error:`` lines; an older version's are
``note:`` lines, since the exit code is not about it. What fails together is said once
(writers/findings.py). The obligation table appears where something failed, with the rows that did
not hold; ``--verbose`` shows every row, every path's source lines and every witness.
"""

from __future__ import annotations

from symabi.verdicts import CaseResult, Verdict, VersionResult
from symabi.writers import findings
from symabi.writers.findings import paths_text

MARKS = {"holds": "ok", "violated": "FAIL", "unknown": "?", "n/a": "-"}


def _rows(v: VersionResult, verbose: bool) -> list[tuple[tuple[str, ...], str]]:
    """(obligations, marks) rows: every obligation with --verbose, else those that did not hold,
    obligations with the same marks on every path in one row."""
    rows: dict[str, tuple[list[str], str]] = {}
    for ob in v.paths[0].statuses:
        marks = "".join(MARKS[p.statuses.get(ob, "n/a")].ljust(9) for p in v.paths)
        if verbose or any(p.statuses.get(ob) in ("violated", "unknown") for p in v.paths):
            rows.setdefault(ob if verbose else marks, ([], marks))[0].append(ob)
    return [(tuple(obs), marks) for obs, marks in rows.values()]


def _table(v: VersionResult, verbose: bool) -> list[str]:
    if not v.paths or (v.verdict is Verdict.PROVED and not verbose):
        return []
    rows = _rows(v, verbose)
    every = tuple(v.paths[0].statuses)
    labels = [findings.obligations_text(obs, every) for obs, _ in rows]
    width = max([len("obligation"), *map(len, labels)]) + 2
    out = ["  " + "obligation".ljust(width) + "".join(f"path {p.index}".ljust(9) for p in v.paths).rstrip()]
    out += ["  " + label.ljust(width) + marks.rstrip() for label, (_, marks) in zip(labels, rows)]
    if sum(len(obs) for obs, _ in rows) < len(every):
        out.append("  (every other obligation holds wherever it applies; -v shows them all)")
    return out


def _summary(v: VersionResult) -> str:
    endings: dict[str, int] = {}
    for p in v.paths:
        ending = "return to the caller" if p.kind == "returned" else f"{p.kind}: {p.label.rsplit(': ', 1)[-1]}"
        endings[ending] = endings.get(ending, 0) + 1
    ways = "; ".join(f"{n} {what}" for what, n in endings.items())
    count = len(v.paths[0].statuses)
    return f"  every obligation holds on every path it applies to ({count} obligations, {len(v.paths)} path{'s' if len(v.paths) != 1 else ''}: {ways})"


def _paths(v: VersionResult, verbose: bool) -> list[str]:
    out = []
    for p in v.paths:
        reason = f" — {p.reason}" if p.reason and p.reason not in p.label else ""
        out.append(f"  path {p.index}: {p.label}{reason} ({len(p.lines)} instruction{'s' if len(p.lines) != 1 else ''})")
        if verbose:
            out.extend(f"      {line}" for line in p.lines)
    return out


def _violations(v: VersionResult, verbose: bool) -> list[str]:
    out = []
    for g in findings.violation_groups(v.violations):
        x = g.example
        out.append(f"  {g.ids} on {paths_text(g.paths)}: {g.detail}")
        if x.site:
            out.append(f"    at {x.site}")
        for said, paths, _ in g.origins:
            out.append(f"    {'on ' + paths_text(paths) + ': ' if len(g.origins) > 1 else ''}{said}")
        if x.saved_at is not None:
            out.append(f"    {x.location.upper()}'s entry value is saved at {x.saved_at}, and not restored from there")
        replayed = f"  [replay: {x.replay}]" if x.replay else ""
        example = f", e.g. {x.location.upper()}" if len(g.locations) > 1 else ""
        values = g.values.strip(" ()")
        out.append(f"    {values + '  ' if values else ''}(path {x.path}{example}){replayed}")
        if verbose and x.inputs:
            out.append("    inputs: " + ", ".join(f"{k}={val}" for k, val in x.inputs.items()))
    return out


def _version(v: VersionResult, judged: VersionResult, verbose: bool) -> list[str]:
    why = "" if v is judged or v.verdict is Verdict.PROVED else f" — not judged (the exit code is about version {judged.name})"
    lines = ["", f"version {v.name}: {v.verdict.value.upper()}   ({v.revision}){why}"]
    lines += [f"  deviation: {d}" for d in v.deviations]
    if v.verdict is Verdict.PROVED and not verbose:
        return lines + ([_summary(v)] if v.paths else [])
    lines += _paths(v, verbose) + _table(v, verbose) + _violations(v, verbose)
    return lines


def _equivalence(result: CaseResult) -> list[str]:
    eq = result.equivalence
    if eq is None:
        return []
    apart = " (apart from the differences below)" if eq.verdict is Verdict.PROVED and eq.differences else ""
    lines = ["", f"equivalence {eq.old} ≡ {eq.new}: {eq.verdict.value.upper()}{apart}"]
    for d, registers in findings.difference_groups(eq.differences):
        example = f"e.g. {registers[0].upper()}: " if len(registers) > 1 else ""
        values = f" ({example}old {d.old}, new {d.new})" if d.old is not None or d.new is not None else ""
        lines.append(f"  [{d.kind}] {findings.difference_text(d, registers)}{values}")
    if eq.reason:
        lines.append(f"  not decided: {eq.reason}")
    return lines


CACHED_NOTE = ("from the verdict cache: these bytes, this case and this symabi were proved before "
               "(--no-cache proves them again)")


def render(result: CaseResult, verbose: bool = False) -> str:
    judged = result.judged
    lines = []
    for v in result.versions:
        lines.extend(findings.lines(v, v.name, "error" if v is judged else "note"))
    lines += ["", f"{result.case}: {result.summary}" if result.summary else result.case, f"contract {result.contract} · entry {result.entry} · "
              f"{result.toolchain}"]
    if result.cached:
        lines.append(CACHED_NOTE)
    for v in result.versions:
        lines += _version(v, judged, verbose)
    lines += _equivalence(result)
    lines += ["", "assumed:"]
    for section, statements in result.assumptions.items():
        lines.append(f"  {section}:")
        lines.extend(f"    - {s}" for s in statements)
    lines += ["", f"verdict ({judged.name}): {judged.verdict.value.upper()}"]
    return "\n".join(lines)
