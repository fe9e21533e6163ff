"""Terminal rendering: greppable ``file:line: error:`` lines, then a table per version."""

from __future__ import annotations

from symabi.verdicts import CaseResult, VersionResult

MARKS = {"holds": "ok", "violated": "FAIL", "unknown": "?", "n/a": "-"}


def _grouped(items, key):
    """Group findings that say the same thing at the same place; keep the first as the example."""
    groups: dict = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return groups.values()


def _paths_text(items) -> str:
    indexes = [str(i.path) for i in items]
    return f"path {indexes[0]}" if len(indexes) == 1 else f"paths {', '.join(indexes)}"


def _errors(v: VersionResult) -> list[str]:
    out = []
    for group in _grouped(v.violations, lambda x: (x.obligation, x.site, x.detail)):
        x = group[0]
        where = x.site.location if x.site else v.source
        shown = [f"{k} {val}" for k, val in (("entry", x.entry), ("exit", x.exit)) if val is not None]
        values = f" ({', '.join(shown)})" if shown else ""
        out.append(f"{where}: error: [{v.name}] {x.obligation}: {x.detail} on {_paths_text(group)}{values}")
        for bad in (y for y in group if y.replay and y.replay != "confirmed"):
            out.append(f"{where}: BUG: [{v.name}] the counterexample for {bad.obligation} on path {bad.path} did not "
                       f"replay concretely ({bad.replay}); this is a bug in symabi, please report it")
    for group in _grouped(v.unknowns, lambda u: (u.obligation, u.site, u.reason)):
        u = group[0]
        where = u.site.location if u.site else v.source
        out.append(f"{where}: unknown: [{v.name}] {u.obligation}: {u.reason} on {_paths_text(group)}")
    if v.error:
        out.append(f"{v.source}: unknown: [{v.name}] {v.error}")
    return out


def _table(v: VersionResult) -> list[str]:
    if not v.paths:
        return []
    obligations = list(v.paths[0].statuses)
    witness = {(x.obligation, x.path): x for x in v.violations}
    width = max(len(o) for o in obligations) + 2
    header = "  " + "obligation".ljust(width) + "".join(f"path {p.index}".ljust(9) for p in v.paths) + "counterexample"
    rows = [header]
    for ob in obligations:
        marks = "".join(MARKS[p.statuses.get(ob, "n/a")].ljust(9) for p in v.paths)
        example = next((f"path {p.index}: entry {w.entry} exit {w.exit}" for p in v.paths
                        if (w := witness.get((ob, p.index))) and (w.entry or w.exit)), "")
        rows.append("  " + ob.ljust(width) + marks + example)
    return rows


def _paths(v: VersionResult, verbose: bool) -> list[str]:
    out = []
    for p in v.paths:
        reason = f" — {p.reason}" if p.reason and p.reason not in p.label else ""
        out.append(f"  path {p.index}: {p.label}{reason} ({len(p.lines)} instructions)")
        if verbose:
            out.extend(f"      {line}" for line in p.lines)
    return out


def render(result: CaseResult, verbose: bool = False) -> str:
    lines = []
    for v in result.versions:
        lines.extend(_errors(v))
    lines.append("")
    lines.append(f"{result.case}: {result.summary}")
    lines.append(f"contract {result.contract} · entry {result.entry} · {result.toolchain}")
    for v in result.versions:
        lines.append("")
        lines.append(f"version {v.name}: {v.verdict.value.upper()}   ({v.revision})")
        for d in v.deviations:
            lines.append(f"  deviation: {d}")
        lines.extend(_paths(v, verbose))
        lines.extend(_table(v))
        for group in _grouped(v.violations, lambda x: (x.obligation, x.site, x.detail)):
            x = group[0]
            lines.append(f"  {x.obligation} on {_paths_text(group)}: {x.detail}")
            if x.site:
                lines.append(f"    at {x.site}")
            replayed = f"  [replay: {x.replay}]" if x.replay else ""
            lines.append(f"    entry {x.entry}  exit {x.exit}  (path {x.path}){replayed}")
            if verbose and x.inputs:
                lines.append("    inputs: " + ", ".join(f"{k}={val}" for k, val in x.inputs.items()))
    lines.append("")
    if (eq := result.equivalence) is not None:
        lines.append("")
        lines.append(f"equivalence {eq.old} ≡ {eq.new}: {eq.verdict.value.upper()}"
                     + ("" if eq.verdict.value != "proved" or not eq.differences else " (apart from the differences below)"))
        for d in eq.differences:
            values = f" (old {d.old}, new {d.new})" if d.old is not None or d.new is not None else ""
            lines.append(f"  [{d.kind}] {d.detail}{values}")
        if eq.reason:
            lines.append(f"  not decided: {eq.reason}")
    lines.append("")
    lines.append("assumed:")
    for section, statements in result.assumptions.items():
        lines.append(f"  {section}:")
        lines.extend(f"    - {s}" for s in statements)
    judged = result.judged
    lines.append("")
    lines.append(f"verdict ({judged.name}): {judged.verdict.value.upper()}")
    return "\n".join(lines)
