"""The gate's terminal and JSON output."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from symabi.gate.run import ABSENT, ACCEPTED, IMPROVED, REGRESSION, GateResult, Item
from symabi.writers import findings, json_writer

SCHEMA = 1


class StderrProgress:
    """One line per step on stderr: what is being done, then how it ended and how long it took."""

    def __init__(self, stream=None):
        self.stream, self.open = stream or sys.stderr, False

    def start(self, what: str) -> None:
        self.stream.write(f"symabi gate: {what} … ")
        self.stream.flush()
        self.open = True

    def done(self, outcome: str) -> None:
        if self.open:
            self.stream.write(f"{outcome}\n")
            self.stream.flush()
            self.open = False


def _findings(item: Item) -> list[str]:
    """Greppable ``file:line: error:`` lines for an item that fails the gate, grouped as ``prove`` groups them."""
    v = item.outcome
    if item.unknown_reason or v is None:
        return [f"{item.source}: unknown: [{item.key}] {item.unknown_reason}"] if item.unknown_reason else []
    return findings.lines(v, item.key, "error")


def _paths(item: Item) -> str:
    v = item.outcome
    if v is None:
        return ""
    kinds: dict[str, int] = {}
    for p in v.paths:
        kinds[p.kind] = kinds.get(p.kind, 0) + 1
    return ", ".join(f"{n} {k}" for k, n in kinds.items())


def _shown(path: Path) -> str:
    """A path relative to the working folder when it lies under it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def render(result: GateResult, found: str = "") -> str:
    lines = []
    for item in result.regressions:
        lines.extend(_findings(item))
    if lines:
        lines.append("")
    where = f" ({found})" if found and found != "--baseline" else ""
    baseline = f" · baseline {_shown(result.baseline)}{where}" if result.baseline else f" · no baseline ({found or 'none given'})"
    lines.append(f"symabi gate · GOROOT {result.goroot} ({result.toolchain}) · {', '.join(result.ports)}{baseline}")
    rows = [("item", "verdict", "status", "paths", "source")]
    for item in result.items:
        verdict = item.verdict.value.upper() if item.verdict else "-"
        rows.append((item.key, verdict, item.status, _paths(item), item.source))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in rows:
        lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[4])
    notes = [(i.key, n) for i in result.items for n in (i.note, i.message if i.status != ABSENT else "") if n]
    notes += sorted(result.port_notes.items())
    if result.cases_elsewhere:
        notes.append(("cases of other ports, not run", ", ".join(
            f"{name} ({port})" for name, port in sorted(result.cases_elsewhere.items()))
            + "; each runs in a gate of its port (--port GOOS/GOARCH, or --ports all)"))
    if notes:
        lines.append("")
        lines.extend(f"  {key}: {note}" for key, note in notes)
    counts = {s: sum(1 for i in result.items if i.status == s) for s in (REGRESSION, ACCEPTED, IMPROVED, ABSENT)}
    tree = [i for i in result.items if i.kind == "tree" and i.verdict is not None]
    proved = sum(1 for i in tree if i.verdict.value == "proved")
    lines.append("")
    summary = (f"{proved} of {len(tree)} entry points in the tree proved, {counts[ABSENT]} absent; "
               f"{counts[REGRESSION]} regression(s), {counts[ACCEPTED]} accepted, {counts[IMPROVED]} improved "
               f"({result.timings.get('total', 0):.1f} s)")
    lines.append(("gate: FAILED — " if result.exit_code else "gate: passed — ") + summary)
    return "\n".join(lines)


def to_dict(result: GateResult) -> dict:
    items = []
    for item in result.items:
        data = {
            "key": item.key, "kind": item.kind, "name": item.name, "version": item.version, "port": item.port,
            "source": item.source,
            "verdict": item.verdict.value if item.verdict else None, "status": item.status,
            "message": item.message or None, "note": item.note or None,
            "failing": list(item.failing), "unknown_reason": item.unknown_reason or None,
            "baseline": None if item.accepted is None else {
                "verdict": item.accepted.verdict.value, "obligations": list(item.accepted.obligations),
                "reason": item.accepted.reason},
            "result": None,
            "real_run": item.real_run.to_json() if item.real_run else None,
        }
        if item.result is not None:
            case = json_writer.to_dict(item.result)
            data["result"] = {"entry": case["entry"], "assumptions": case["assumptions"],
                              **case["versions"][item.version], "cached": case["cached"]}
        items.append(data)
    return {
        "schema": SCHEMA,
        "goroot": str(result.goroot),
        "toolchain": result.toolchain,
        "target": result.ports[0] if len(result.ports) == 1 else None,  # kept for readers of schema 1
        "ports": list(result.ports),
        "port_notes": dict(result.port_notes),
        "cases_elsewhere": dict(result.cases_elsewhere),
        "baseline": str(result.baseline) if result.baseline else None,
        "exit_code": result.exit_code,
        "regressions": [i.key for i in result.regressions],
        "items": items,
        "timings": {k: round(s, 3) for k, s in result.timings.items()},
    }


def render_json(result: GateResult) -> str:
    return json.dumps(to_dict(result), indent=2, ensure_ascii=False)
