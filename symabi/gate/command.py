"""What ``symabi gate`` does, below its command line: run, judge, write the outputs, pick the exit code."""

from __future__ import annotations

import sys
from pathlib import Path

from symabi.contracts import CONTRACTS
from symabi.realrun import gate as real_runs
from symabi.gate import baseline as baselines
from symabi.gate.render import StderrProgress, render, render_json
from symabi.gate.run import ABSENT, ACCEPTED, REGRESSION, GateResult, Quiet, accepted_now, run_gate
from symabi.verdicts import ObligationInfo
from symabi.writers import sarif

DEFAULT_BASELINE = Path("gate-baseline.json")


def sarif_log(result: GateResult) -> str:
    states = {REGRESSION: "new"}
    subjects = [
        sarif.Subject(i.key, i.result, i.version,
                      accepted=(i.accepted.reason if i.status == ACCEPTED else None),
                      baseline_state=(states.get(i.status, "unchanged") if result.baseline else None))
        for i in result.items if i.result is not None
    ]
    contract = CONTRACTS["windows-x64"]
    obligations = next((i.result.obligations for i in result.items if i.result is not None),
                       tuple(ObligationInfo(o.id, o.location, o.family, o.doc) for o in contract.obligations))
    notes = [f"{i.key}: {'absent: ' if i.status == ABSENT else ''}{i.note}" for i in result.items if i.note]
    notes += [f"{i.key}: UNKNOWN: {i.unknown_reason}" for i in result.items if i.unknown_reason]
    return sarif.render(subjects, obligations, {"GOROOT": result.goroot, "SRCROOT": Path.cwd()}, notes,
                        result.exit_code, properties=real_runs.sarif_properties(result.items))


def gate(goroot: Path | None, baseline: Path | None, write_baseline: bool, sarif_out: Path | None,
         json_out: bool, cases_dir: Path | None, go: str | None, out=None, err=None, real_run: bool = False) -> int:
    """Exit code: 0 no regression, 1 a regression; SymabiError (exit 2) for bad input or environment."""
    out, err = out or sys.stdout, err or sys.stderr
    for path in (sarif_out, baseline if write_baseline else None):
        if path is not None and not path.resolve().parent.is_dir():
            raise baselines.BaselineError(f"cannot write {path}: {path.parent} is not a folder")
    target = baseline or DEFAULT_BASELINE
    previous = baselines.Baseline(None)
    if (baseline is not None and not write_baseline) or (write_baseline and target.exists()):
        previous = baselines.read(target)  # when writing: to keep the reasons of unchanged entries
    progress = Quiet() if json_out else StderrProgress(err)
    result = run_gate(goroot, go, cases_dir, previous, progress, real_run=real_run)
    if sarif_out is not None:
        try:
            sarif_out.write_text(sarif_log(result) + "\n", encoding="utf-8")
        except OSError as exc:
            raise baselines.BaselineError(f"cannot write {sarif_out}: {exc.strerror or exc}") from None
    out.write((render_json(result) if json_out else "\n".join([render(result), *real_runs.lines(result.items)]))
              + "\n")
    for alarm in real_runs.alarms(result.items):
        err.write(alarm + "\n")
    if write_baseline:
        accepted = accepted_now(result, previous)
        baselines.write(target, accepted)
        if not json_out:
            err.write(f"symabi gate: wrote the baseline {target} ({len(accepted)} items)\n")
        return 0
    return result.exit_code
