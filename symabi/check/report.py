"""The output of ``symabi check``, the way ``go vet`` prints: one ``file:line:col: message`` per finding,
what proves it on the indented lines below (the witness, where the value came from, the path), nothing
for a function that is PROVED. JSON and SARIF reuse the shared writers."""

from __future__ import annotations

from pathlib import Path

from symabi.check.run import Checked, CheckRun, VERSION
from symabi.verdicts import ObligationInfo, SourceLine, Verdict
from symabi.writers import findings, json_writer, sarif


def _column(location: str) -> str:
    """``dir/file.s:12`` -> ``dir/file.s:12:COL``, COL the first non-blank column of that line."""
    location = location.removeprefix("./")
    path, _, line = location.rpartition(":")
    try:
        text = Path(path).read_text(errors="replace").splitlines()[int(line) - 1]
        col = len(text) - len(text.lstrip()) + 1
    except (OSError, ValueError, IndexError):
        col = 1
    return f"{location}:{col}"


def _here(location: str) -> str:
    try:
        return str(Path(location).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return location


def _text_line(c: Checked) -> str:
    t = c.target.text
    return f"{_here(str(t.file))}:{t.line}:{t.column}"


def _name(c: Checked) -> str:
    return f"{c.target.text.written.lstrip(chr(0xb7))} ({c.port})"


def assumed(c: Checked) -> str:
    """What the function's contract assumes of how it is entered, in words ("" when it says nothing):
    signal-handler's "entered by the kernel; ...", printed with every verdict under that contract."""
    if c.result is None:
        return ""
    return "; ".join(c.result.assumptions.get(f"contract {c.result.contract}", ()))


def findings_of(c: Checked, verbose: bool = False) -> list[str]:
    if c.result is None:
        return [f"{_text_line(c)}: {_name(c)}: UNKNOWN: {c.reason}"]
    v = c.result.judged
    out = []
    assumes = f"\tcontract {c.result.contract}: {assumed(c)}" if assumed(c) else ""
    for g in findings.violation_groups(v.violations):
        x = g.example
        where = _column(x.site.location) if x.site else _text_line(c)
        out.append(f"{where}: {_name(c)}: {g.ids}: {g.detail}{g.values}")
        if x.site is not None:
            out.append(f"\tat {x.site.text.replace(chr(9), ' ')}")
        for said, paths, line in g.origins:
            out.append(f"\t{said}" + (f" ({line.location})" if line and line != x.site else ""))
        if x.saved_at is not None:
            out.append(f"\t{g.saved} ({x.saved_at.location})")
        if x.inputs:
            out.append("\twitness: " + ", ".join(f"{k}={val}" for k, val in x.inputs.items()))
        out.append(f"\tpath {x.path}: lines " + " ".join(_path_lines(x.path_lines)))
        if x.replay:
            out.append(f"\treplay: {x.replay}")
        if assumes:
            out.append(assumes)
    if v.violations:
        return out
    for u in findings.unknown_groups(v.unknowns):
        where = _column(u.site.location) if u.site else _text_line(c)
        out.append(f"{where}: {_name(c)}: UNKNOWN: {findings.obligations_text(u.obligations, ())}: {u.reason}")
    if v.error:
        out.append(f"{_text_line(c)}: {_name(c)}: UNKNOWN: {v.error}")
    if verbose and v.verdict is Verdict.PROVED:
        out.append(f"{_text_line(c)}: {_name(c)}: PROVED on {len(v.paths)} path{'s' if len(v.paths) != 1 else ''}")
    return out + [assumes] if assumes and out else out


def _path_lines(lines: tuple[SourceLine, ...]) -> list[str]:
    """The path's source line numbers, a line repeated by consecutive instructions said once."""
    out: list[str] = []
    for line in lines:
        number = line.location.rpartition(":")[2]
        if not out or out[-1] != number:
            out.append(number)
    return out


def render(run: CheckRun, verbose: bool = False) -> str:
    out = []
    for c in run.checked:
        out += findings_of(c, verbose)
        if verbose:
            out += [f"\tcallee {w}" for w in c.models]
    return "\n".join(out)


def summary(run: CheckRun) -> str:
    counts = {v: sum(1 for c in run.checked if c.verdict is v) for v in Verdict}
    said = ", ".join(f"{n} {v.value}" for v, n in counts.items() if n)
    notes = "".join(f"\n# {port}: {why}" for port, why in run.notes.items())
    contracts = {c.result.contract.partition("+")[0]: assumed(c) for c in run.checked if assumed(c)}
    notes += "".join(f"\n# contract {name} assumes: {words}" for name, words in sorted(contracts.items()))
    ports = ", ".join(run.ports)
    return f"# symabi check {run.module.path}: {len(run.checked)} function checks on {ports}: {said}{notes}"


def to_json(run: CheckRun) -> dict:
    return {
        "module": run.module.path, "root": str(run.module.root), "ports": list(run.ports), "exit_code": run.exit_code,
        "functions": [{
            "symbol": c.target.text.name, "port": c.port, "kind": c.target.kind,
            "file": str(c.target.text.file), "line": c.target.text.line, "column": c.target.text.column,
            "marked_at": c.target.marked_at, "verdict": c.verdict.value, "reason": c.reason,
            "callees": list(c.models), "findings": findings_of(c),
            "result": json_writer.to_dict(c.result) if c.result is not None else None,
        } for c in run.checked],
        "notes": run.notes,
    }


def sarif_log(run: CheckRun) -> str:
    subjects = [sarif.Subject(f"{c.port}/{c.target.text.name}", c.result, VERSION) for c in run.checked
                if c.result is not None]
    rules = {o.id: o for c in run.checked if c.result is not None for o in c.result.obligations}
    notes = [f"{c.port}/{c.target.text.name}: UNKNOWN: {c.reason}" for c in run.checked if c.result is None]
    return sarif.render(subjects, tuple(rules.values()) or (ObligationInfo("none", "", "", ""),),
                        {"SRCROOT": run.module.root}, notes, run.exit_code)
