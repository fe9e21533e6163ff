"""A self-contained HTML report of a CaseResult: one file, inline CSS, no script, no network.

It shows the verdicts, every counterexample (entry value and each version's exit side by side),
unknowns, the old ≡ new differences when they were checked, the versions' listings side by side
(source line, the Go assembler's text, the bytes, capstone's reading of the same bytes) with each
path selectable (CSS radio buttons: the path's instructions light up, with their step numbers), and
the assumptions the verdicts rest on. Every piece of text from the case or the result is escaped.
"""

from __future__ import annotations

from dataclasses import replace
from html import escape

from symabi import __version__
from symabi.verdicts import CaseResult, SourceLine, Verdict, VersionResult
from symabi.writers import findings, origin
from symabi.writers.disasm import disassemble, hex_bytes
from symabi.writers.markdown import (
    FOLD_DIFFERENCES,
    Counterexample,
    ExitCell,
    common_folder,
    compact_labels,
    counterexamples,
    difference_counts,
    failing_paths,
    difference_detail,
    replay_of,
    short_location,
    table_rows,
    version_counts,
)


UNFOLDED_WITNESSES = 3  # more witnesses on one path fold into <details>


def e(value: object) -> str:
    return escape(str(value), quote=True)


def _badge(verdict: Verdict) -> str:
    return f'<span class="badge {verdict.value}">{e(verdict.value.upper())}</span>'


def _code(value: object, cls: str = "") -> str:
    return f'<code class="{cls}">{e(value)}</code>' if cls else f"<code>{e(value)}</code>"


CSS = """
:root {
  --fg: #1f2328; --muted: #656d76; --line: #d0d7de; --soft: #f6f8fa;
  --ok: #1a7f37; --ok-bg: #dafbe1; --bad: #cf222e; --bad-bg: #ffebe9; --unk: #9a6700; --unk-bg: #fff8c5;
  --hl: #fff5c4; --hl-edge: #d4a72c; --accent: #0969da;
  --mono: "DejaVu Sans Mono", ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
}
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: #fff; font: 14px/1.5 system-ui, -apple-system, "Segoe UI",
       "DejaVu Sans", "Liberation Sans", sans-serif; }
header.top { padding: 18px 20px 14px; border-bottom: 1px solid var(--line); background: var(--soft); }
header.top h1 code { font-size: 22px; background: transparent; padding: 0; }
header.top h1 { margin: 0 0 4px; font-size: 22px; font-weight: 600; display: flex; align-items: center; gap: 12px; }
header.top .judged { font-size: 14px; font-weight: 400; color: var(--muted); }
header.top p { margin: 2px 0; }
.muted { color: var(--muted); }
main { padding: 8px 20px 40px; }
h2 { font-size: 18px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 18px 0 8px; }
code, .mono { font-family: var(--mono); font-size: 12.5px; }
code { background: var(--soft); border-radius: 4px; padding: 1px 4px; }
table { border-collapse: collapse; }
table.grid { margin: 6px 0 10px; }
table.grid th, table.grid td { border: 1px solid var(--line); padding: 5px 10px; text-align: left; vertical-align: top; }
table.grid th { background: var(--soft); font-weight: 600; }
table.grid td.num { text-align: right; }
.badge { display: inline-block; padding: 1px 9px; border-radius: 999px; font-size: 12px; font-weight: 700;
         letter-spacing: .04em; border: 1px solid currentColor; vertical-align: middle; }
.badge.proved { color: var(--ok); background: var(--ok-bg); }
.badge.refuted { color: var(--bad); background: var(--bad-bg); }
.badge.unknown { color: var(--unk); background: var(--unk-bg); }
header.top h1 .badge { font-size: 14px; padding: 2px 12px; }
td.violated { background: var(--bad-bg); }
td.violated code { background: transparent; color: var(--bad); font-weight: 700; }
td.violated mark, ul.facts mark { background: var(--bad); color: #fff; border-radius: 2px; }
td.holds code { background: transparent; color: var(--ok); }
td.value code { white-space: nowrap; }
.note { display: block; color: var(--muted); font-size: 12px; }
.cx { border: 1px solid var(--line); border-left: 4px solid var(--bad); border-radius: 6px; padding: 2px 16px 6px;
      margin: 10px 0; }
.cx ul.facts li { margin: 2px 0; }
.site { margin: 6px 0; }
ul.facts { margin: 4px 0 8px; padding-left: 20px; }
details { margin: 6px 0; }
details > summary { cursor: pointer; color: var(--accent); }
pre.path { font-family: var(--mono); font-size: 12px; background: var(--soft); border: 1px solid var(--line);
           border-radius: 6px; padding: 8px 12px; overflow-x: auto; margin: 6px 0; }
pre.path .here { color: var(--bad); font-weight: 700; }
.unknowns li { margin: 3px 0; }
td.obs { max-width: 330px; }
td.obs code { display: inline-block; margin: 1px 0; }
.kind { white-space: nowrap; font-size: 12px; font-weight: 600; padding: 1px 7px; border-radius: 4px;
        background: var(--soft); border: 1px solid var(--line); }
.kind.k-behavioural, .kind.k-regression { color: var(--bad); background: var(--bad-bg); border-color: #ffcecb; }
.kind.k-contract-fix { color: var(--ok); background: var(--ok-bg); border-color: #aceebb; }
td.diffnew mark { background: #ffd8b5; color: inherit; border-radius: 2px; }
/* listings */
.panes { display: grid; grid-template-columns: repeat(auto-fit, minmax(600px, 1fr)); gap: 12px; align-items: start; }
.pane { border: 1px solid var(--line); border-radius: 6px; min-width: 0; }
.pane > h3 { margin: 0; padding: 8px 12px; background: var(--soft); border-bottom: 1px solid var(--line);
             display: flex; gap: 10px; align-items: center; }
.pane > h3 .src { font-weight: 400; color: var(--muted); font-size: 12px; overflow: hidden; text-overflow: ellipsis;
                  white-space: nowrap; }
.pane input.pick { position: absolute; opacity: 0; pointer-events: none; }
.chips { padding: 8px 12px 4px; display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
.chips .lead { color: var(--muted); font-size: 12px; margin-right: 2px; }
.chip { display: inline-block; border: 1px solid var(--line); border-radius: 999px; padding: 1px 10px; font-size: 12px;
        cursor: pointer; background: #fff; user-select: none; }
.chip.bad { border-color: var(--bad); color: var(--bad); }
.chip.unk { border-color: var(--unk); color: var(--unk); }
.pathinfo { display: none; padding: 0 12px 6px; font-size: 12px; color: var(--muted); }
.scroll { overflow-x: auto; }
table.listing { width: 100%; font-family: var(--mono); font-size: 11px; line-height: 1.45; }
table.listing th { position: sticky; top: 0; background: #fff; text-align: left; font-weight: 600; color: var(--muted);
                   font-family: system-ui, "DejaVu Sans", sans-serif; font-size: 11px; padding: 4px 6px;
                   border-bottom: 1px solid var(--line); }
table.listing td { padding: 0 4px; white-space: nowrap; border-left: 3px solid transparent; }
table.listing td + td { border-left: 0; }
table.listing td.addr, table.listing td.step { color: var(--muted); }
table.listing td.step { text-align: right; min-width: 2em; }
table.listing td.loc.rep { color: #b6bcc4; }
table.listing td.bytes { color: #6e40c9; word-spacing: -3px; }
table.listing td.asm { white-space: nowrap; }  /* one instruction, one line: never broken mid-word */
table.listing td.cs { color: #0550ae; }
table.listing tr.sym td { padding-top: 6px; font-weight: 700; color: var(--fg); background: #fff; }
table.listing tr.off td { color: #8c959f; }
table.listing tr.off td.bytes, table.listing tr.off td.cs { color: #a8b1bb; }
table.listing tr.site td.asm::after { content: "\\00a0\\00a0\\2717\\00a0" attr(data-why); color: var(--bad);
                                      font-weight: 700; }
table.listing tr.site td:first-child { border-left-color: var(--bad); }
table.listing .s { display: none; }
footer { margin-top: 28px; color: var(--muted); font-size: 12px; }
"""


def _summary(result: CaseResult) -> str:
    judged = result.judged
    rows = []
    for v in result.versions:
        name = f"<strong>{e(v.name)}</strong> <span class=\"muted\">(judged)</span>" if v is judged else e(v.name)
        unknowns = len(v.unknowns) + (1 if v.error else 0)
        rows.append(
            f"<tr><td>{name}</td><td>{_badge(v.verdict)}</td><td class=\"num\">{len(v.violations)}</td>"
            f"<td class=\"num\">{unknowns}</td><td>{e(version_counts(v))}</td>"
            f"<td>{e(v.revision)}<div class=\"note\">{e(v.source)}</div></td></tr>")
    eq = getattr(result, "equivalence", None)
    if eq is not None:
        n = len(eq.differences)
        rows.append(
            f"<tr><td>{e(eq.old)} ≡ {e(eq.new)}</td><td>{_badge(eq.verdict)}</td>"
            f"<td class=\"num\" colspan=\"2\">{n} difference{'s' if n != 1 else ''}</td><td></td>"
            f"<td>{e(eq.reason)}</td></tr>")
    return ('<table class="grid summary"><thead><tr><th>version</th><th>verdict</th><th>violations</th>'
            "<th>unknowns</th><th>paths</th><th>revision</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")


def _marked(value: str, entry: str | None) -> str:
    """``value`` as code, the characters that differ from ``entry`` (same width) marked."""
    if entry is None or len(entry) != len(value) or entry == value:
        return _code(value)
    return "<code>" + "".join(e(c) if c == d else f"<mark>{e(c)}</mark>" for c, d in zip(value, entry)) + "</code>"


def _exit_cell(cell: ExitCell, entry: str | None) -> str:
    cls = "violated" if cell.violated else ("holds" if cell.note.startswith("holds") or cell.text == "holds" else "")
    body = (_marked(cell.text, entry) if cell.violated else _code(cell.text)) if cell.value else e(cell.text)
    if cell.violated and cell.value:
        body += " ✗"
    note = f'<span class="note">{e(cell.note)}</span>' if cell.note else ""
    return f'<td class="{cls} value">{body}{note}</td>'


def _path_pre(lines: tuple[SourceLine, ...], sites: tuple[SourceLine, ...]) -> str:
    folder = common_folder(lines)
    width = max((len(short_location(line.location, folder)) for line in lines), default=0)
    failing = {site.address for site in sites}
    out = []
    for line in lines:
        text = f"{short_location(line.location, folder).ljust(width)}  {line.text}"
        out.append(f'<span class="here">{e(text)}  ← fails here</span>' if line.address in failing else e(text))
    head = f'<div class="note">in {_code(folder)}</div>' if folder else ""
    return head + '<pre class="path">' + "\n".join(out) + "</pre>"


def _fold(index: int, witnesses: str, n_witnesses: int, path: str, n_lines: int) -> str:
    """A few witnesses stay in view; many fold away with the path's source lines."""
    lines = f"path {index} as source lines ({n_lines} instructions)"
    if n_witnesses <= UNFOLDED_WITNESSES:
        return witnesses + (f"<details><summary>{lines}</summary>{path}</details>" if path else "")
    summary = f"{n_witnesses} witnesses" + (f" and {lines}" if path else "")
    return f"<details><summary>{summary}</summary>{witnesses}{path}</details>"


def _counterexamples(result: CaseResult, cxs: tuple[Counterexample, ...], index_of: dict[str, int]) -> str:
    head = "".join(f"<th>{e(v.name)} exit</th>" for v in result.versions)
    rows = []
    for group, row in table_rows(cxs):
        entry = _code(row.entry) if row.entry is not None else "—"
        what = _code(findings.obligation_ids([cx.obligation for cx in group]))
        if len(group) == 1:
            what += f'<span class="note">{e(group[0].doc)}</span>'
        rows.append(f'<tr><td class="obs">{what}</td>'
                    f"<td>{e(compact_labels(row.labels))}</td><td class=\"value\">{entry}</td>"
                    + "".join(_exit_cell(c, row.entry) for c in row.exits) + "</tr>")
    parts = ['<table class="grid cxtable"><thead><tr><th>obligation</th><th>witness</th><th>entry</th>'
             f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"]
    for group in _card_groups(failing_paths(result)):
        parts.append(_card(group, index_of[group[0].version.name]))
    return "".join(parts)


def _card_groups(paths) -> list[list]:
    """Failing paths of one version that fail the same obligations at the same places: one card."""
    groups: dict = {}
    for fp in paths:
        key = (fp.version.name, tuple(x.obligation for x in fp.violations), tuple(s.address for s in fp.sites))
        groups.setdefault(key, []).append(fp)
    return list(groups.values())


def _witness_items(fp) -> str:
    items = []
    for x in fp.violations:
        values = (f" (entry {_code(x.entry)}, exit {_marked(x.exit, x.entry) if x.exit else '—'})"
                  if x.entry is not None or x.exit is not None else "")
        facts = []
        if (said := origin.sentence(x)) is not None:
            facts.append(e(said))
        if x.saved_at is not None:
            facts.append(f"{e(x.location.upper())}'s entry value is saved at {_code(x.saved_at.location)} "
                         f"{_code(x.saved_at.text)}, and not restored from there")
        if replay_of(x):
            facts.append(f"concrete replay: <strong>{e(replay_of(x))}</strong>")
        if x.inputs:
            facts.append("witness: " + ", ".join(f"{_code(k)} = {_code(val)}" for k, val in x.inputs.items()))
        items.append(f"<li>{_code(x.obligation)}: {e(x.detail)}{values}"
                     + "".join(f'<span class="note">{f}</span>' for f in facts) + "</li>")
    return f'<ul class="facts">{"".join(items)}</ul>', len(items)


def _card(group: list, vi: int) -> str:
    """One counterexample card: the paths (each chip selects its path in the listing), what fails, where,
    and per path its witnesses and source lines."""
    fp = group[0]
    chips = " ".join(f'<label for="v{vi}-p{p.index}" class="chip bad" title="{e(p.label)}: highlight it in the '
                     f'listing">path {p.index}</label>' for p in group)
    label = f" ({e(fp.label)})" if fp.label and len(group) == 1 else ""
    sites = ", ".join(f'<a href="#v{vi}-a{site.address:x}">{_code(site.location)}</a> {_code(site.text)} '
                      f'<span class="muted">{site.address:#x}</span>' for site in fp.sites)
    obligations = _code(findings.obligation_ids([x.obligation for x in fp.violations]))
    body = []
    for p in group:
        items, n = _witness_items(p)
        head = f"<h4>path {p.index}: {e(p.label)}</h4>" if len(group) > 1 else ""
        body.append(head + _fold(p.index, items, n, _path_pre(p.lines, p.sites) if p.lines else "", len(p.lines)))
    folded = "".join(body) if len(group) == 1 else (
        f"<details><summary>witnesses and source lines of each path</summary>{''.join(body)}</details>")
    return ('<div class="cx">'
            f'<p class="site"><strong>{e(fp.version.name)}</strong> {chips}{label} fail{"s" if len(group) == 1 else ""} '
            f"{obligations}" + (f" at {sites}" if sites else "")
            + f'. <a class="muted" href="#v{vi}">listing ↓</a></p>' + folded + "</div>")


def _unknowns(result: CaseResult) -> str:
    items = []
    for v in result.versions:
        if v.error:
            items.append(f"<li><strong>{e(v.name)}</strong> {_badge(Verdict.UNKNOWN)} the whole version: {e(v.error)}</li>")
        every = tuple(dict.fromkeys(ob for p in v.paths for ob in p.statuses))
        for g in findings.unknown_groups(v.unknowns):  # one reason on many obligations and paths: one line
            where = f" at {_code(g.site.location)} {_code(g.site.text)}" if g.site else ""
            items.append(f"<li><strong>{e(v.name)}</strong> {e(findings.obligations_text(g.obligations, every))} on "
                         f"{e(findings.paths_text(g.paths))}{where}: {e(g.reason)}</li>")
    if not items:
        return ""
    return '<h2 id="unknowns">Unknowns</h2><ul class="unknowns">' + "".join(items) + "</ul>"


def _equivalence(result: CaseResult) -> str:
    eq = getattr(result, "equivalence", None)
    if eq is None:
        return ""
    out = [f'<h2 id="equivalence">{e(eq.old)} ≡ {e(eq.new)} {_badge(eq.verdict)}</h2>']
    if eq.reason:
        out.append(f"<p>{e(eq.reason)}</p>")
    if eq.differences:
        n = len(eq.differences)
        out.append(f"<p>{n} difference{'s' if n != 1 else ''}: {e(difference_counts(eq.differences))}.</p>")
        rows = []
        for d, registers in findings.difference_groups(eq.differences):
            old = _code(d.old) if d.old is not None else "—"
            new = _marked(d.new, d.old) if d.new is not None else "—"
            witness = ""
            if d.inputs:
                witness = ('<details><summary>witness</summary>'
                           + ", ".join(f"{_code(k)} = {_code(val)}" for k, val in d.inputs.items()) + "</details>")
            detail = difference_detail(replace(d, detail=findings.difference_text(d, registers)))
            example = f'<span class="note">e.g. {e(registers[0].upper())}</span>' if len(registers) > 1 else ""
            rows.append(f'<tr><td><span class="kind k-{e(d.kind)}">{e(d.kind)}</span></td>'
                        f"<td>{e(findings.difference_what(d, registers))}{example}</td><td class=\"value\">{old}</td>"
                        f'<td class="value diffnew">{new}</td><td>{e(detail)}{witness}</td></tr>')
        table = (f'<table class="grid difftable"><thead><tr><th>kind</th><th>what</th><th>{e(eq.old)}</th>'
                   f"<th>{e(eq.new)}</th><th>detail</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")
        out.append(f"<details><summary>every difference</summary>{table}</details>" if n > FOLD_DIFFERENCES else table)
    return "".join(out)


def _steps(v: VersionResult) -> dict[int, dict[int, list[int]]]:
    """address -> path index -> the 1-based steps at which the path executes it."""
    steps: dict[int, dict[int, list[int]]] = {}
    for p in v.paths:
        for n, line in enumerate(p.lines, 1):
            steps.setdefault(line.address, {}).setdefault(p.index, []).append(n)
    return steps


def _pane(v: VersionResult, vi: int, default_path: int | None, arch: str = "amd64") -> tuple[str, list[str]]:
    """One version's listing with its path picker; returns the HTML and the CSS rules for its paths."""
    rules: list[str] = []
    picks, chips, infos = [], [], []
    sites: dict[int, list[str]] = {}
    for x in v.violations:
        if x.site is not None:
            failing = sites.setdefault(x.site.address, [])
            if x.obligation not in failing:
                failing.append(x.obligation)
    bad_paths = {x.path for x in v.violations}
    unknown_paths = {u.path for u in v.unknowns}
    for p in v.paths:
        pid = f"v{vi}-p{p.index}"
        checked = " checked" if p.index == default_path else ""
        picks.append(f'<input type="radio" class="pick" name="v{vi}-path" id="{pid}"{checked}>')
        cls = "bad" if p.index in bad_paths else ("unk" if p.index in unknown_paths or p.kind == "unknown" else "")
        mark = " ✗" if p.index in bad_paths else (" ?" if cls == "unk" else "")
        chips.append(f'<label for="{pid}" class="chip {cls}" title="{e(p.label)}">'
                     f"path {p.index} · {e(p.kind)}{mark}</label>")
        reason = f" — {e(p.reason)}" if p.reason and p.reason != p.label else ""
        infos.append(f'<div class="pathinfo i{p.index}">path {p.index}: {e(p.kind)}, {e(p.label)}{reason} '
                     f"({len(p.lines)} instructions)</div>")
        sel = f"#{pid}:checked ~"
        rules.append(f"{sel} .scroll tr.p{p.index} td {{ background: var(--hl); }}")
        rules.append(f"{sel} .scroll tr.p{p.index} td:first-child {{ border-left-color: var(--hl-edge); }}")
        rules.append(f"{sel} .scroll tr.site.p{p.index} td:first-child {{ border-left-color: var(--bad); }}")
        rules.append(f"{sel} .scroll .s{p.index} {{ display: inline; }}")
        rules.append(f"{sel} .pathinfo.i{p.index} {{ display: block; }}")
        rules.append(f'{sel} .chips label[for="{pid}"] {{ background: var(--fg); color: #fff; border-color: var(--fg); }}')
    if v.paths:
        picks.append(f'<input type="radio" class="pick" name="v{vi}-path" id="v{vi}-none"'
                     f'{" checked" if default_path is None else ""}>')
        chips.append(f'<label for="v{vi}-none" class="chip">none</label>')
        rules.append(f'#v{vi}-none:checked ~ .chips label[for="v{vi}-none"] '
                     "{ background: var(--fg); color: #fff; border-color: var(--fg); }")

    steps = _steps(v)
    on_paths = set(steps)
    folder = common_folder(v.listing)
    files = {r.location.rpartition(":")[0] for r in v.listing}
    single = next(iter(files)) if len(files) == 1 else ""
    rows, symbol, last_loc = [], None, None
    for r in v.listing:
        if r.symbol != symbol:
            symbol = r.symbol
            rows.append(f'<tr class="sym"><td colspan="6">{e(r.symbol)}</td></tr>')
            last_loc = None
        classes = [f"p{i}" for i in steps.get(r.address, {})]
        if r.address not in on_paths:
            classes.append("off")
        why = ""
        if r.address in sites:
            classes.append("site")
            failing = sites[r.address]
            short = ", ".join(failing) if len(failing) <= 2 else f"{len(failing)} obligations"
            why = f' data-why="{e(short)}" title="fails here: {e(", ".join(failing))}"'
        loc = r.location.rpartition(":")[2] if single else short_location(r.location, folder)
        rep = " rep" if loc == last_loc else ""
        last_loc = loc
        step = "".join(f'<span class="s s{i}">{",".join(map(str, ns))}</span>'
                       for i, ns in steps.get(r.address, {}).items())
        rows.append(
            f'<tr id="v{vi}-a{r.address:x}" class="{" ".join(classes)}">'
            f'<td class="addr">{r.address:x}</td><td class="step">{step}</td>'
            f'<td class="loc{rep}" title="{e(r.location)}">{e(loc)}</td>'
            f'<td class="asm"{why}>{e(r.text)}</td>'
            f'<td class="bytes">{e(hex_bytes(r.code))}</td>'
            f'<td class="cs">{e(disassemble(r.code, r.address, arch))}</td></tr>')
    if not v.listing:
        body = f'<p class="muted" style="padding:8px 12px">no listing{": " + e(v.error) if v.error else ""}</p>'
    else:
        body = ('<div class="scroll"><table class="listing"><thead><tr><th>address</th><th>step</th>'
                f'<th>{"line" if single else "source"}</th>'
                "<th>Go assembler</th><th>bytes</th><th>capstone</th></tr></thead><tbody>"
                + "".join(rows) + "</tbody></table></div>")
    chips_html = ('<div class="chips"><span class="lead">highlight</span>' + "".join(chips) + "</div>") if chips else ""
    html = (f'<div class="pane" id="v{vi}"><h3>{e(v.name)} {_badge(v.verdict)}'
            f'<span class="src" title="{e(v.source)}">{e(single or folder or v.source)}</span></h3>'
            + "".join(picks) + chips_html + "".join(infos) + body + "</div>")
    return html, rules


def _assumptions(result: CaseResult) -> str:
    out = ['<h2 id="assumptions">Assumptions</h2>',
           f"<p><strong>Contract {_code(result.contract)}</strong>: {e(result.contract_doc)}</p>"]
    if result.obligations:
        rows = "".join(f"<tr><td>{_code(o.id)}</td><td>{_code(o.location)}</td><td>{e(o.family)}</td>"
                       f"<td>{e(o.doc)}</td></tr>" for o in result.obligations)
        out.append(f"<details><summary>{len(result.obligations)} obligations</summary>"
                   '<table class="grid"><thead><tr><th>obligation</th><th>location</th><th>family</th><th>what</th>'
                   f"</tr></thead><tbody>{rows}</tbody></table></details>")
    for section, statements in result.assumptions.items():
        out.append(f"<h3>{e(section)}</h3><ul>" + "".join(f"<li>{e(s)}</li>" for s in statements) + "</ul>")
    if any(v.deviations for v in result.versions):
        out.append("<h3>deviations (how each copy differs from what the historic toolchain emitted)</h3><ul>")
        for v in result.versions:
            out.extend(f"<li><strong>{e(v.name)}</strong>: {e(d)}</li>" for d in v.deviations)
        out.append("</ul>")
    return "".join(out)


def render(result: CaseResult) -> str:
    judged = result.judged
    index_of = {v.name: i for i, v in enumerate(result.versions)}
    cxs = counterexamples(result)

    panes, rules = [], []
    for vi, v in enumerate(result.versions):
        first_bad = next((x.path for x in v.violations), None)
        first_unknown = next((u.path for u in v.unknowns), None)
        default = next((i for i in (first_bad, first_unknown) if i is not None),
                       v.paths[0].index if v.paths else None)
        html, css = _pane(v, vi, default, result.arch)
        panes.append(html)
        rules.extend(css)

    title = f"symabi: {result.case} — {judged.verdict.value.upper()} ({judged.name})"
    meta = " · ".join(x for x in (f"contract {result.contract}", f"entry {result.entry}", result.toolchain) if x)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title>",
        f"<style>{CSS}\n" + "\n".join(rules) + "</style></head><body>",
        '<header class="top">',
        f"<h1>{_code(result.case)} {_badge(judged.verdict)} "
        f'<span class="judged">judged version: <strong>{e(judged.name)}</strong></span></h1>',
        f"<p>{e(result.summary)}</p>" if result.summary else "",
        f'<p class="muted">{e(meta)}</p>',
        "</header><main>",
        '<h2 id="summary">Summary</h2>',
        _summary(result),
    ]
    if cxs:
        n = sum(len(v.violations) for v in result.versions)
        parts.append(f'<h2 id="counterexamples">Counterexamples <span class="muted">({n} violation'
                     f"{'s' if n != 1 else ''})</span></h2>")
        parts.append(_counterexamples(result, cxs, index_of))
    parts.append(_unknowns(result))
    parts.append(_equivalence(result))
    parts.append('<h2 id="listings">Listings</h2>')
    parts.append('<p class="muted">Each instruction of the laid-out image: its source line, the Go assembler\'s text, '
                 "the bytes, and capstone's independent reading of the same bytes. Pick a path to highlight the "
                 "instructions it executes (with their step numbers); ✗ marks where an obligation fails.</p>")
    parts.append('<div class="panes">' + "".join(panes) + "</div>")
    parts.append(_assumptions(result))
    timings = "; ".join(
        f"{v.name}: " + ", ".join(f"{k} {s:.2f}s" for k, s in v.timings.items()) for v in result.versions if v.timings)
    parts.append(f'<footer>symabi {e(__version__)}{" · " + e(timings) if timings else ""}</footer>')
    parts.append("</main></body></html>")
    return "\n".join(p for p in parts if p) + "\n"

