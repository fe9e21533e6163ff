"""A mutant as a text edit, and the small parsers of Go assembly lines the operators share."""

from __future__ import annotations

import re
from dataclasses import dataclass

CALLEE_SAVED = {"BX", "BP", "DI", "SI", "R12", "R13", "R14", "R15", *(f"X{i}" for i in range(6, 16))}
MOV = re.compile(r"^(?P<op>MOV[A-Z]*)\s+(?P<a>[^,]+?)\s*,\s*(?P<b>[^,]+?)\s*$")
SPMEM = re.compile(r"^(?P<disp>.*)\(SP\)$")
REG = re.compile(r"^(?:[A-Z]X|[BS]P|[DS]I|R\d+|X\d+)$")
STACK_ADJ = re.compile(r"^(?P<op>ADJSP|SUBQ|ADDQ)\s+\$(?P<n>[^,]+?)(?P<tail>\s*,\s*SP)?\s*$")
LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_·]*:")
WIDE_MOVES = frozenset({"MOVUPS", "MOVAPS", "MOVOU", "MOVO", "MOVUPD", "MOVAPD"})  # 16-byte XMM moves


@dataclass(frozen=True)
class Mutant:
    case: str
    file: str  # relative to the case folder
    line: int  # 1-based
    operator: str
    new: str | None  # the replacement line (possibly several lines); None deletes it
    old: str
    extra: tuple[tuple[int, str], ...] = ()  # further (line, text) replacements in the same file (swap, pairs)

    @property
    def ident(self) -> str:
        return f"{self.case}:{self.file}:{self.line}:{self.operator}"

    @property
    def family(self) -> str:
        """The operator without its parameters: "disp", "partial", "branch", ..."""
        return re.sub(r"[-+@].*$", "", self.operator)

    @property
    def description(self) -> str:
        what = self.old.strip().rstrip("\\").strip()
        if self.new is None:
            return f"{self.file}:{self.line} {self.operator}: delete `{what}`"
        new = "; ".join(code_of(line) or line.strip() for line in self.new.splitlines() if line.strip(" \t\\"))
        return f"{self.file}:{self.line} {self.operator}: `{what}` → `{new}`"


@dataclass(frozen=True)
class Text:
    """One file of a case, as the operators see it."""

    case: str
    rel: str  # relative to the case folder
    lines: tuple[str, ...]  # with their line ends
    sites: tuple[int, ...]  # indexes of the instruction lines the operators may touch
    macro: bool = False  # the sites are lines of multi-line macros (each ends with a backslash but the last)

    def mutant(self, index: int, operator: str, new: str | None, extra: tuple[tuple[int, str], ...] = ()) -> Mutant:
        return Mutant(self.case, self.rel, index + 1, operator, new, self.lines[index], extra)


def code_of(line: str) -> str:
    """The instruction text of a line: comments, a trailing macro continuation and labels removed."""
    text = re.sub(r"//.*$", "", line)
    text = re.sub(r"/\*.*?\*/", "", text)
    text = text.strip()
    if text.endswith("\\"):
        text = text[:-1].strip()
    return text


def is_instruction(code: str) -> bool:
    if not code or code.startswith(("#", "TEXT", "DATA", "GLOBL")) or LABEL.match(code):
        return False
    return bool(re.match(r"^[A-Za-z_]", code))


def shift(disp: str, delta: int) -> str:
    d = disp.strip()
    return f"({d}{delta:+d})" if d else f"({delta})"


def replace_code(line: str, old: str, new: str) -> str:
    assert old in line, (old, line)
    return line.replace(old, new, 1)


def continued(line: str) -> bool:
    return line.rstrip().endswith("\\")


def with_code(line: str, code: str) -> str:
    """``line`` with its instruction replaced by ``code`` (indentation and macro continuation kept)."""
    indent = line[: len(line) - len(line.lstrip())]
    return f"{indent}{code}" + ("\t\\" if continued(line) else "") + "\n"


def insert_before(line: str, codes: list[str], macro: bool) -> str:
    """``codes`` as lines of their own before ``line`` (inside a macro, each continues it)."""
    tail = "\t\\\n" if macro else "\n"
    return "".join((c if c.endswith(":") else f"\t{c}") + tail for c in codes) + line
