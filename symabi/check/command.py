"""What ``symabi check`` does below its command line: choose the ports, run, print, write SARIF."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from symabi.check import report
from symabi.check.run import check
from symabi.errors import SymabiError
from symabi.gate.ports import ALL, PortError
from symabi.ports import DEFAULT_PORT
from symabi.prover import Options


def main(patterns: tuple[str, ...], port: tuple[str, ...], ports: str | None, json_out: bool, sarif: Path | None,
         verbose: bool, go: str | None, timeout_s: float | None, start: Path | None = None) -> int:
    if ports is not None and ports != ALL:
        raise PortError(f"--ports takes `{ALL}`, not {ports!r} (name single ports with --port GOOS/GOARCH)")
    if sarif is not None and not sarif.resolve().parent.is_dir():
        raise SymabiError(f"cannot write {sarif}: {sarif.parent} is not a folder")
    chosen = (ALL,) if ports else port or (DEFAULT_PORT,)
    run = check(start or Path.cwd(), patterns or ("./...",), chosen, go, Options(timeout_s=timeout_s))
    if json_out:
        typer.echo(json.dumps(report.to_json(run), indent=2))
    else:
        text = report.render(run, verbose)
        if text:
            typer.echo(text)
        typer.echo(report.summary(run), err=True)
    if sarif is not None:
        try:
            sarif.write_text(report.sarif_log(run) + "\n", encoding="utf-8")
        except OSError as exc:
            raise SymabiError(f"cannot write {sarif}: {exc.strerror or exc}") from None
    return run.exit_code
