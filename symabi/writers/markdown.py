"""Markdown rendering of a CaseResult, to paste into a code review.

It leads with a summary table (one row per version, and one for old ≡ new when it was checked),
then every counterexample with the register values side by side (entry, each version's exit), the
path as source lines, then unknowns with their reasons, the equivalence differences, and last the
assumptions the verdicts rest on.

The counterexample model (``counterexamples``) is shared with the HTML writer.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace

from symabi.verdicts import (
    CaseResult,
    Difference,
    ObligationInfo,
    PathSummary,
    SourceLine,
    Verdict,
    VersionResult,
    Violation,
)
from symabi.writers import findings, origin

FOLD_DIFFERENCES = 12  # longer difference tables are folded into <details>
VERDICT_MARK = {Verdict.PROVED: "✅", Verdict.REFUTED: "❌", Verdict.UNKNOWN: "⚠️"}


# ---------------------------------------------------------------------------------------------------
# The shared model: what a counterexample shows, independent of the output format.


@dataclass(frozen=True)
class ExitCell:
    """One version's exit value in a counterexample row."""

    text: str  # the value (hex, clear/set, …) or a word: holds, unknown, not checked, n/a
    violated: bool = False  # this version's value breaks the obligation
    value: bool = False  # text is a value (render it as code), not a word
    note: str = ""  # e.g. "holds" next to the value, or "own witness: entry …"


@dataclass(frozen=True)
class WitnessRow:
    labels: tuple[str, ...]  # "new · path 0" (several when versions agree on the same witness)
    entry: str | None
    exits: tuple[ExitCell, ...]  # one per version of the result, in its order


@dataclass(frozen=True)
class Counterexample:
    obligation: str
    location: str
    doc: str
    rows: tuple[WitnessRow, ...]
    cases: tuple[tuple[VersionResult, Violation], ...]  # every violation, for sites, paths and witnesses

    @property
    def versions(self) -> tuple[str, ...]:
        seen: list[str] = []
        for v, _ in self.cases:
            if v.name not in seen:
                seen.append(v.name)
        return tuple(seen)


def _statuses(v: VersionResult, obligation: str) -> list[str]:
    return [s for p in v.paths if (s := p.statuses.get(obligation)) not in (None, "n/a")]


def _other_exit(v: VersionResult, ob: ObligationInfo | None, obligation: str, entry: str | None) -> ExitCell:
    """What another version does with the obligation another version violated."""
    if not v.paths:
        return ExitCell("not checked" + (f" ({v.error})" if v.error else ""))
    statuses = _statuses(v, obligation)
    if not statuses:
        return ExitCell("n/a")
    if "violated" in statuses:
        own = next(x for x in v.violations if x.obligation == obligation)
        if own.exit is None:
            return ExitCell("violated", violated=True)
        note = "" if own.entry == entry else f"its own witness: entry {own.entry}"
        return ExitCell(own.exit, violated=True, value=True, note=note)
    if "unknown" in statuses:
        return ExitCell("unknown")
    if ob is not None and ob.family == "callee-saved" and entry is not None:
        return ExitCell(entry, value=True, note="holds on every path")
    return ExitCell("holds")


def counterexamples(result: CaseResult) -> tuple[Counterexample, ...]:
    """Every violated obligation, with one row per distinct witness and every version's exit beside it."""
    obligations = {o.id: o for o in result.obligations}
    order: list[str] = []
    found: dict[str, list[tuple[VersionResult, Violation]]] = {}
    for v in result.versions:
        for x in v.violations:
            if x.obligation not in found:
                order.append(x.obligation)
                found[x.obligation] = []
            found[x.obligation].append((v, x))
    out = []
    for ob_id in order:
        ob = obligations.get(ob_id)
        rows: list[WitnessRow] = []
        for v, x in found[ob_id]:
            exits = tuple(
                ExitCell(x.exit if x.exit is not None else "violated", violated=True, value=x.exit is not None)
                if other.name == v.name else _other_exit(other, ob, ob_id, x.entry)
                for other in result.versions
            )
            label = f"{v.name} · path {x.path}"
            same = next((i for i, r in enumerate(rows) if r.entry == x.entry and r.exits == exits), None)
            if same is None:
                rows.append(WitnessRow((label,), x.entry, exits))
            else:
                rows[same] = WitnessRow(rows[same].labels + (label,), x.entry, exits)
        first = found[ob_id][0][1]
        out.append(Counterexample(ob_id, first.location, first.detail or (ob.doc if ob else ""), tuple(rows),
                                  tuple(found[ob_id])))
    return tuple(out)


def table_rows(cxs: tuple[Counterexample, ...]) -> list[tuple[tuple[Counterexample, ...], WitnessRow]]:
    """Counterexample table rows; obligations that fail the same way on the same paths share one row."""
    out: list[tuple[tuple[Counterexample, ...], WitnessRow]] = []
    for cx in cxs:
        for row in cx.rows:
            if out and len(cx.rows) == 1 and len(out[-1][0][-1].rows) == 1 and out[-1][1] == row:
                out[-1] = (out[-1][0] + (cx,), row)
            else:
                out.append(((cx,), row))
    return out


@dataclass(frozen=True)
class FailingPath:
    """One path of one version with the obligations it violates (each with its own witness)."""

    version: VersionResult
    index: int
    path: PathSummary | None
    violations: tuple[Violation, ...]

    @property
    def label(self) -> str:
        return self.path.label if self.path is not None else ""

    @property
    def lines(self) -> tuple[SourceLine, ...]:
        if self.path is not None and self.path.lines:
            return self.path.lines
        return next((x.path_lines for x in self.violations if x.path_lines), ())

    @property
    def sites(self) -> tuple[SourceLine, ...]:
        seen: dict[int, SourceLine] = {}
        for x in self.violations:
            if x.site is not None:
                seen.setdefault(x.site.address, x.site)
        return tuple(seen.values())


def failing_paths(result: CaseResult) -> tuple[FailingPath, ...]:
    out = []
    for v in result.versions:
        by_path: dict[int, list[Violation]] = {}
        for x in v.violations:
            by_path.setdefault(x.path, []).append(x)
        for index, xs in by_path.items():
            path = next((p for p in v.paths if p.index == index), None)
            out.append(FailingPath(v, index, path, tuple(xs)))
    return tuple(out)


def compact_labels(labels: tuple[str, ...]) -> str:
    """``old · path 2``, ``old · path 3`` → ``old · paths 2, 3``."""
    groups: dict[str, list[str]] = {}
    for label in labels:
        version, _, rest = label.partition(" · path ")
        groups.setdefault(version, []).append(rest)
    return "; ".join(f"{v} · path{'s' if len(ps) > 1 else ''} {', '.join(ps)}" for v, ps in groups.items())


def difference_counts(differences) -> str:
    kinds: dict[str, int] = {}
    for d in differences:
        kinds[d.kind] = kinds.get(d.kind, 0) + 1
    return ", ".join(f"{n} {k}" for k, n in kinds.items())


def common_folder(lines: tuple[SourceLine, ...] | list) -> str:
    """The folder every line's location shares (``cases/crosscall2/new/``), to print it once."""
    folders = {os.path.dirname(line.location) for line in lines}
    if len(folders) != 1:
        return ""
    (folder,) = folders
    return folder + "/" if folder else ""


def short_location(location: str, folder: str) -> str:
    return location[len(folder):] if folder and location.startswith(folder) else location


def difference_detail(d: Difference) -> str:
    extra = f" (they differ by the stack-relative constant {d.stack_delta:+#x})" if d.stack_delta is not None else ""
    return d.detail + extra


def replay_of(x: Violation) -> str:
    return getattr(x, "replay", "") or ""


def version_counts(v: VersionResult) -> str:
    kinds: dict[str, int] = {}
    for p in v.paths:
        kinds[p.kind] = kinds.get(p.kind, 0) + 1
    return ", ".join(f"{n} {k}" for k, n in kinds.items()) or "none"


# ---------------------------------------------------------------------------------------------------
# Markdown text.

_SPECIAL = re.compile(r"([\\`*_\[\]<>|#$~])")


def text(s: object) -> str:
    """Prose in Markdown: every character that could start markup (or GitHub math) escaped."""
    return _SPECIAL.sub(r"\\\1", str(s)).replace("\n", " ")


def code(s: object, in_table: bool = False) -> str:
    """An inline code span that survives any backticks (and pipes, inside a table) in ``s``."""
    s = str(s).replace("\n", " ")
    longest = max((len(m) for m in re.findall(r"`+", s)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if s.startswith("`") or s.endswith("`") or longest else ""
    out = f"{fence}{pad}{s}{pad}{fence}"
    return out.replace("|", "\\|") if in_table else out


def _block(lines: list[str], info: str = "") -> list[str]:
    longest = max((len(m) for line in lines for m in re.findall(r"`{3,}", line)), default=2)
    fence = "`" * max(3, longest + 1)
    return [fence + info, *lines, fence]


def _verdict(verdict: Verdict) -> str:
    return f"{VERDICT_MARK[verdict]} **{verdict.value.upper()}**"


def _summary(result: CaseResult) -> list[str]:
    judged = result.judged
    out = [
        "| version | verdict | violations | unknowns | paths | revision |",
        "| --- | --- | ---: | ---: | --- | --- |",
    ]
    for v in result.versions:
        name = f"**{text(v.name)}** (judged)" if v is judged else text(v.name)
        unknowns = len(v.unknowns) + (1 if v.error else 0)
        out.append(f"| {name} | {_verdict(v.verdict)} | {len(v.violations)} | {unknowns} | "
                   f"{text(version_counts(v))} | {text(v.revision)} |")
    eq = getattr(result, "equivalence", None)
    if eq is not None:
        out.append(f"| {text(eq.old)} ≡ {text(eq.new)} | {_verdict(eq.verdict)} | "
                   f"{len(eq.differences)} difference{'s' if len(eq.differences) != 1 else ''} | | | "
                   f"{text(eq.reason)} |")
    return out


def _exit_cell(cell: ExitCell) -> str:
    if not cell.value:
        return f"**{text(cell.text)}**" if cell.violated else text(cell.text)
    value = code(cell.text, in_table=True)
    value = f"**{value}** ✗" if cell.violated else value
    return value + (f" ({text(cell.note)})" if cell.note else "")


def _path_lines(lines: tuple[SourceLine, ...], sites: tuple[SourceLine, ...]) -> list[str]:
    folder = common_folder(lines)
    width = max((len(short_location(line.location, folder)) for line in lines), default=0)
    body = []
    for line in lines:
        mark = "  ← fails here" if any(line.address == site.address for site in sites) else ""
        body.append(f"{short_location(line.location, folder).ljust(width)}  {line.text}{mark}")
    head = f"in {code(folder)}:" if folder else ""
    return ([head, ""] if head else []) + _block(body, "asm")


def _counterexamples(result: CaseResult, cxs: tuple[Counterexample, ...]) -> list[str]:
    names = [v.name for v in result.versions]
    header = ["obligation", "witness", "entry"] + [f"{n} exit" for n in names]
    out = ["| " + " | ".join(text(h) for h in header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    for group, row in table_rows(cxs):
        what = code(findings.obligation_ids([cx.obligation for cx in group]), True)
        if len(group) == 1:
            what += f"<br>{text(group[0].doc)}"
        cells = [what, text(compact_labels(row.labels)), code(row.entry, True) if row.entry is not None else "—"]
        cells += [_exit_cell(c) for c in row.exits]
        out.append("| " + " | ".join(cells) + " |")
    out.append("")
    for fp in failing_paths(result):
        label = f" ({text(fp.label)})" if fp.label else ""
        sites = ", ".join(f"{code(site.location)} {code(site.text)}" for site in fp.sites)
        obligations = code(findings.obligation_ids([x.obligation for x in fp.violations]))
        out.append(f"**{text(fp.version.name)} · path {fp.index}**{label} fails {obligations}"
                   + (f" at {sites}" if sites else "") + ".")
        out.append("")
        out.append(f"<details><summary>witnesses and the path ({len(fp.lines)} instructions)</summary>")
        out.append("")
        for x in fp.violations:
            values = f" (entry {code(x.entry)}, exit {code(x.exit)})" if x.entry is not None or x.exit is not None else ""
            where = f" at {code(x.site.location)} ({x.site.address:#x})" if x.site else ""
            out.append(f"- {code(x.obligation)}: {text(x.detail)}{values}{where}")
            if (said := origin.sentence(x)) is not None:
                out.append(f"  - {text(said)}")
            if x.saved_at is not None:
                out.append(f"  - {text(x.location.upper())}'s entry value is saved at {code(x.saved_at.location)} "
                           f"({code(x.saved_at.text)}) and not restored from there")
            if replay_of(x):
                out.append(f"  - concrete replay: {text(replay_of(x))}")
            if x.inputs:
                out.append("  - witness: " + ", ".join(f"{code(k)} = {code(val)}" for k, val in x.inputs.items()))
        out.append("")
        if fp.lines:
            out.extend(_path_lines(fp.lines, fp.sites))
            out.append("")
        out.append("</details>")
        out.append("")
    return out


def _unknowns(result: CaseResult) -> list[str]:
    out = []
    for v in result.versions:
        if v.error:
            out.append(f"- **{text(v.name)}**: the whole version: {text(v.error)}")
        every = tuple(v.paths[0].statuses) if v.paths else ()
        for u in findings.unknown_groups(v.unknowns):
            where = f" at {code(u.site.location)} {code(u.site.text)}" if u.site else ""
            said = findings.obligations_text(u.obligations, every)
            which = code(said) if said == findings.obligation_ids(u.obligations) else text(said)
            out.append(f"- **{text(v.name)}** {which} on "
                       f"{findings.paths_text(u.paths)}{where}: {text(u.reason)}")
    return out


def _equivalence(result: CaseResult) -> list[str]:
    eq = getattr(result, "equivalence", None)
    if eq is None:
        return []
    out = [f"## {text(eq.old)} ≡ {text(eq.new)}: {_verdict(eq.verdict)}", ""]
    if eq.reason:
        out += [text(eq.reason), ""]
    if eq.differences:
        out += [f"{len(eq.differences)} difference{'s' if len(eq.differences) != 1 else ''}: "
                f"{text(difference_counts(eq.differences))}.", ""]
        folded = len(eq.differences) > FOLD_DIFFERENCES
        if folded:
            out += ["<details><summary>every difference</summary>", ""]
        out.append(f"| kind | what | {text(eq.old)} | {text(eq.new)} | detail |")
        out.append("| --- | --- | --- | --- | --- |")
        groups = findings.difference_groups(eq.differences)
        for d, registers in groups:
            old = code(d.old, True) if d.old is not None else "—"
            new = code(d.new, True) if d.new is not None else "—"
            detail = difference_detail(replace(d, detail=findings.difference_text(d, registers)))
            out.append(f"| {text(d.kind)} | {text(findings.difference_what(d, registers))} | {old} | {new} | "
                       f"{text(detail)} |")
        out.append("")
        for i, (d, registers) in enumerate(groups, 1):
            if d.inputs:
                out.append(f"- difference {i} ({text(d.what)}), witness: "
                           + ", ".join(f"{code(k)} = {code(val)}" for k, val in d.inputs.items()))
        out.append("")
        if folded:
            out += ["</details>", ""]
    return out


def _assumptions(result: CaseResult) -> list[str]:
    out = ["## Assumptions", "",
           f"**Contract {code(result.contract)}**: {text(result.contract_doc)}", ""]
    if result.obligations:
        out.append(f"<details><summary>{len(result.obligations)} obligations</summary>")
        out.append("")
        out.append("| obligation | location | family | what |")
        out.append("| --- | --- | --- | --- |")
        for o in result.obligations:
            out.append(f"| {code(o.id, True)} | {code(o.location, True)} | {text(o.family)} | {text(o.doc)} |")
        out.append("")
        out.append("</details>")
        out.append("")
    for section, statements in result.assumptions.items():
        out.append(f"**{text(section)}**")
        out.append("")
        out.extend(f"- {text(s)}" for s in statements)
        out.append("")
    if any(v.deviations for v in result.versions):
        out.append("**Deviations** (how each copy differs from what the historic toolchain emitted)")
        out.append("")
        for v in result.versions:
            out.extend(f"- {text(v.name)}: {text(d)}" for d in v.deviations)
        out.append("")
    return out


def render(result: CaseResult) -> str:
    judged = result.judged
    out = [
        f"## symabi: {code(result.case)} — {_verdict(judged.verdict)} ({text(judged.name)})",
        "",
    ]
    if result.summary:
        out += [f"> {text(result.summary)}", ""]
    out += [f"contract {code(result.contract)} · entry {code(result.entry)}"
            + (f" · {text(result.toolchain)}" if result.toolchain else ""), ""]
    out += _summary(result) + [""]

    cxs = counterexamples(result)
    if cxs:
        n = sum(len(v.violations) for v in result.versions)
        out += [f"## Counterexamples ({n} violation{'s' if n != 1 else ''})", ""]
        out += _counterexamples(result, cxs)
    unknowns = _unknowns(result)
    if unknowns:
        out += ["## Unknowns", "", *unknowns, ""]
    out += _equivalence(result)
    out += _assumptions(result)
    return "\n".join(out).rstrip() + "\n"
