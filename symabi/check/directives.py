"""Marks in the source: ``//symabi:host-entry`` (or ``//symabi:host-call``) on the comment lines right
above a TEXT line says that the host enters (or is called by) that function.

    //symabi:host-entry convention=windows-x64-call world=callback
    TEXT ·callbackasm1(SB),NOSPLIT|NOFRAME,$0

Keys (all optional): ``contract=`` (a contract name, default the port's host ABI), ``convention=`` (an
entry convention, default the port's plain host call), ``world=`` (a ``[worlds.NAME]`` table of the
module's symabi.toml), and for ``//symabi:host-call`` ``stack=`` (``system`` when every caller runs the
stub on a system stack, g0's or a C thread's; by default ``goroutine``: a call into C on the caller's own
stack is then UNKNOWN, as a goroutine stack has a few hundred bytes to spare). The TEXT line itself gives the frame and argument sizes (``$16-24``), which is
also how a trampoline's call of another assembly function of the module learns that callee's ABI0
argument bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from symabi.errors import SymabiError

KINDS = ("host-entry", "host-call")
KEYS = ("contract", "convention", "world", "stack")
PREFIX = "//symabi:"
_TEXT = re.compile(r"^\s*TEXT\s+(?P<sym>[^\s(,]+)\s*\(SB\)\s*(?:,\s*(?P<flags>[^,$]*?)\s*)?"
                   r"(?:,\s*\$(?P<frame>-?[\w+*()<>|-]*?)(?:-(?P<args>\d+))?\s*)?(?://.*)?$")
_MIDDLE_DOT = "\u00b7"
_DIVISION_SLASH = "\u2215"


class DirectiveError(SymabiError):
    """A malformed directive: reported as ``file:line:col: ...`` and exit 2."""


@dataclass(frozen=True)
class TextDecl:
    """One TEXT line: the symbol as written, its linker name, and the sizes it declares."""

    file: Path
    line: int
    column: int
    written: str  # "·callbackasm1", "crosscall2", "sigtramp<>"
    name: str  # the linker's name: "example.com/m.callbackasm1"
    flags: str
    args: int | None  # the argument bytes after the frame size ("$16-24": 24), None when not given


@dataclass(frozen=True)
class Mark:
    """A directive and the TEXT line it marks."""

    kind: str  # "host-entry" | "host-call"
    keys: dict[str, str]
    text: TextDecl
    line: int  # the directive's own line and column
    column: int

    @property
    def where(self) -> str:
        return f"{self.text.file}:{self.line}:{self.column}"


def linker_name(written: str, package: str) -> str:
    """``·f`` -> ``pkg.f``; ``a∕b·f`` -> ``a/b.f``; ``crosscall2`` stays; ``f<>`` (file-local) -> ``f``,
    as the assembler's listing names it."""
    text = written.replace(_DIVISION_SLASH, "/").removesuffix("<>")
    if _MIDDLE_DOT in text:
        qualifier, _, rest = text.partition(_MIDDLE_DOT)
        return f"{qualifier or package}.{rest}"
    return text


def text_decls(path: Path, package: str, source: str | None = None) -> list[TextDecl]:
    source = source if source is not None else path.read_text(errors="replace")
    out = []
    for number, line in enumerate(source.splitlines(), 1):
        m = _TEXT.match(line)
        if m:
            out.append(TextDecl(path, number, line.index("TEXT") + 1, m["sym"], linker_name(m["sym"], package),
                                (m["flags"] or "").strip(), int(m["args"]) if m["args"] else None))
    return out


def _parse_directive(path: Path, number: int, column: int, body: str) -> tuple[str, dict[str, str]]:
    kind, *words = body.split()
    where = f"{path}:{number}:{column}"
    if kind not in KINDS:
        raise DirectiveError(f"{where}: unknown directive //symabi:{kind} (known: "
                             + ", ".join(f"//symabi:{k}" for k in KINDS) + ")")
    keys = {}
    for word in words:
        key, eq, value = word.partition("=")
        if not eq or not value:
            raise DirectiveError(f"{where}: //symabi:{kind} takes key=value words, not {word!r}")
        if key not in KEYS:
            raise DirectiveError(f"{where}: unknown key {key!r} in //symabi:{kind} (known: {', '.join(KEYS)})")
        if key in keys:
            raise DirectiveError(f"{where}: key {key!r} given twice")
        keys[key] = value
    return kind, keys


def marks(path: Path, package: str) -> list[Mark]:
    """The marked TEXT symbols of one assembly file. A directive must sit in the comment block right
    above a TEXT line (no blank line between); one anywhere else is an error, not silently ignored."""
    source = path.read_text(errors="replace")
    lines = source.splitlines()
    decls = {d.line: d for d in text_decls(path, package, source)}
    out, pending = [], []
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped.startswith(PREFIX):
            pending.append((number, line.index(PREFIX) + 1, stripped[len(PREFIX):]))
            continue
        if number in decls:
            for at, column, body in pending:
                kind, keys = _parse_directive(path, at, column, body)
                out.append(Mark(kind, keys, decls[number], at, column))
            pending = []
            continue
        if stripped.startswith("//") and pending:
            continue  # other comment lines of the same block
        if pending:
            at, column, body = pending[0]
            raise DirectiveError(f"{path}:{at}:{column}: //symabi:{body.split()[0] if body.split() else ''} is "
                                 "not right above a TEXT line (it must be in the comment block just above it)")
    if pending:
        at, column, _ = pending[0]
        raise DirectiveError(f"{path}:{at}:{column}: a //symabi: directive at the end of the file marks no TEXT line")
    return out
