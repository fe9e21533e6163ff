"""How the command line talks about itself: one-line usage errors, the tool's versions.

Click (inside typer) would print a usage box with its own words ("Try ... for help", "Value error");
symabi prints one ``symabi: error: ...`` line and exits 2, like every other bad input.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata

import typer
from typer.core import TyperCommand, TyperGroup

from symabi import __version__

PROG = "symabi"


def fail(message: str) -> None:
    typer.echo(f"{PROG}: error: {message}", err=True)
    raise typer.Exit(2)


def _plain(message: str) -> str:
    """A click message in symabi's voice: lower case, no trailing full stop."""
    message = re.sub(r"\s*\(Possible options: ([^)]*)\)", r" (did you mean \1?)", message.strip()).rstrip(".")
    return message[:1].lower() + message[1:]


def plain_help(text: str) -> str:
    """typer's help without its type labels: ``NAME``, not ``{NAME}`` or ``NAME <str>``."""
    text = re.sub(r"\{([A-Z_]+)\}", r"\1", text)
    return re.sub(r" <(str|bool|path|float|int|list\[str\])>( ?)", lambda m: " " * (len(m[0]) - 1) if m[2] else "", text)


class PlainHelp(TyperCommand):
    def get_help(self, ctx) -> str:
        return plain_help(super().get_help(ctx))


class OneLineErrors(TyperGroup):
    """The symabi command group: usage errors become one line and exit 2."""

    def get_help(self, ctx) -> str:
        return plain_help(super().get_help(ctx))

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            code = super().main(args, PROG, complete_var, standalone_mode=False, **extra)
        except typer.Exit as exc:
            code = exc.exit_code
        except typer.Abort:
            code = _report("interrupted")
        except Exception as exc:  # click's UsageError and BadParameter (typer vendors click: match by shape)
            if not hasattr(exc, "format_message") or not hasattr(exc, "exit_code"):
                raise
            code = _report(_usage_message(exc, self._command_in(args)))
        if standalone_mode:
            sys.exit(code or 0)
        return code


    def _command_in(self, args) -> str:
        """The subcommand the arguments name, for errors click reports without a context."""
        return next((a for a in (sys.argv[1:] if args is None else args) if a in self.commands), "")


def _usage_message(exc, command: str) -> str:
    ctx = getattr(exc, "ctx", None)
    path = ctx.command_path if ctx is not None else f"{PROG} {command}".strip()
    command = path[len(PROG):].strip()
    where = f"{command}: " if command else ""
    return f"{where}{_plain(exc.format_message())} (see {path} --help)"


def _report(message: str) -> int:
    typer.echo(f"{PROG}: error: {message}", err=True)
    return 2


def seconds(text: str | None) -> float | None:
    """--timeout's value: a positive number of seconds."""
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        from symabi.errors import SymabiError

        raise SymabiError(f"--timeout needs a positive number of seconds, not {text!r}")
    return value


def _installed(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def tool_versions(verbose: bool) -> list[str]:
    """``symabi --version``: symabi's version; with -v, what its verdicts depend on."""
    lines = [f"{PROG} {__version__}"]
    if not verbose:
        return lines
    from symabi.errors import SymabiError
    from symabi.toolchain import find_toolchain

    try:
        toolchain = find_toolchain(None)
        go = f"{toolchain.version} ({toolchain.go})"
    except SymabiError as exc:
        go = f"not found: {exc}"
    lines.append(f"go: {go}")
    lines += [f"{name}: {_installed(name)}" for name in ("angr", "claripy", "pyvex", "z3-solver", "unicorn",
                                                          "capstone")]
    lines.append(f"python: {sys.version.split()[0]}")
    return lines
