"""What ``symabi gate`` does, below its command line: run, judge, write the outputs, pick the exit code."""

from __future__ import annotations

import sys
from pathlib import Path

from symabi.casefile import list_cases
from symabi.errors import CaseError
from symabi.gate import baseline as baselines
from symabi.gate.render import StderrProgress, render, render_json
from symabi.gate.run import (
    ABSENT,
    ACCEPTED,
    REGRESSION,
    GateResult,
    Quiet,
    accepted_now,
    run_gate,
)
from symabi.ports import DEFAULT_PORT, PORTS
from symabi.verdicts import ObligationInfo

DEFAULT_BASELINE = Path(baselines.DEFAULT_NAME)


def sarif_log(result: GateResult) -> str:
    """Only a regression is an error (or, left UNKNOWN, a warning): what the gate lets pass is a note,
    suppressed with the baseline's reason when the baseline accepts it."""
    from symabi.realrun import gate as real_runs
    from symabi.writers import sarif

    states = {REGRESSION: "new"}
    subjects = [
        sarif.Subject(i.key, i.result, i.version,
                      accepted=(i.accepted.reason if i.status == ACCEPTED else None),
                      baseline_state=(states.get(i.status, "unchanged") if result.baseline else None),
                      failing=i.status == REGRESSION)
        for i in result.items if i.result is not None
    ]
    # One rule per obligation id over every item's contract (ports of several host ABIs share most ids).
    rules = {o.id: o for i in result.items if i.result is not None for o in i.result.obligations}
    obligations = tuple(rules.values())
    if not obligations:
        # the contracts import the engine: only when no item has a result to take the rules from
        from symabi.contracts import CONTRACTS

        contract = CONTRACTS[PORTS[result.ports[0] if result.ports else DEFAULT_PORT].contract]
        obligations = tuple(ObligationInfo(o.id, o.location, o.family, o.doc) for o in contract.obligations)
    notes = [f"{i.key}: {'absent: ' if i.status == ABSENT else ''}{i.note}" for i in result.items if i.note]
    notes += [f"{i.key}: UNKNOWN: {i.unknown_reason}" for i in result.items if i.unknown_reason]
    return sarif.render(subjects, obligations, {"GOROOT": result.goroot, "SRCROOT": Path.cwd()}, notes,
                        result.exit_code, properties=real_runs.sarif_properties(result.items))


def _check_outputs(*paths: Path | None) -> None:
    for path in paths:
        if path is not None and not path.resolve().parent.is_dir():
            raise baselines.BaselineError(f"cannot write {path}: {path.parent} is not a folder")


def _check_cases(cases_dir: Path | None) -> None:
    if cases_dir is not None and not list_cases(cases_dir):
        raise CaseError(f"no cases in {cases_dir} (a case is a folder with a case.toml; see cases/README.md)")


def gate(goroot: Path | None, baseline: Path | None, write_baseline: bool, sarif_out: Path | None,
         json_out: bool, cases_dir: Path | None, go: str | None, out=None, err=None,
         ports: tuple[str, ...] = (DEFAULT_PORT,), real_run: bool = False, workers: int = 1,
         use_cache: bool = True, with_cases: bool = True) -> int:
    """Exit code: 0 no regression, 1 a regression; SymabiError (exit 2) for bad input or environment."""
    out, err = out or sys.stdout, err or sys.stderr
    _check_outputs(sarif_out, baseline if write_baseline else None)
    _check_cases(cases_dir)
    found, where = baselines.find(baseline)
    # write where it was found, except into symabi's own: a project's baseline is its own file
    target = found if found is not None and where != "shipped with symabi" else DEFAULT_BASELINE
    previous = baselines.Baseline(None)
    if found is not None and (not write_baseline or found.exists()):
        previous = baselines.read(found)  # when writing: to keep the reasons of unchanged entries
    progress = Quiet() if json_out else StderrProgress(err)
    result = run_gate(goroot, go, cases_dir, previous, progress, ports=ports, real_run=real_run, workers=workers,
                      use_cache=use_cache, with_cases=with_cases)
    if sarif_out is not None:
        try:
            sarif_out.write_text(sarif_log(result) + "\n", encoding="utf-8")
        except OSError as exc:
            raise baselines.BaselineError(f"cannot write {sarif_out}: {exc.strerror or exc}") from None
    real, alarms = [], []
    if real_run:  # the real runs' module (Wine, compilers): only when there are real runs to show
        from symabi.realrun import gate as real_runs

        real, alarms = real_runs.lines(result.items), real_runs.alarms(result.items)
    out.write((render_json(result) if json_out else "\n".join([render(result, where), *real])) + "\n")
    for alarm in alarms:
        err.write(alarm + "\n")
    if write_baseline:
        accepted = accepted_now(result, previous)
        baselines.write(target, accepted)
        if not json_out:
            err.write(f"symabi gate: wrote the baseline {target} ({len(accepted)} items)\n")
        return 0
    return result.exit_code
