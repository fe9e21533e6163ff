"""The registry of host→Go entry points (``registry.toml``), turned into cases for one tree.

An entry is a case.toml without versions plus the ``source`` the Go build assembles. For a tree, the
gate substitutes the tree's constants into it ("{m_tls}", "teb+{TEB_TlsSlots}") and adds one version,
the tree's file, then reads it with the case-file reader, so every field is checked as in a case.
"""

from __future__ import annotations

import ast
import operator
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from symabi.casefile import Case, case_from_table, read_toml
from symabi.errors import CaseError

REGISTRY = Path(__file__).with_name("registry.toml")
TREE_VERSION = "tree"
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_PROSE = {"doc", "summary", "labels"}  # text for people: never substituted
_WORLD_TEXT = {"at", "value", "values"}  # world values stay text ("0x1480", "m+0x50")
_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.FloorDiv: operator.floordiv,
              ast.LShift: operator.lshift, ast.USub: operator.neg}


@dataclass(frozen=True)
class Entry:
    name: str
    package: str  # import path: the folder of ``source`` under $GOROOT/src
    file: str  # the assembly file's name
    table: dict  # the case.toml tables (case, entry_convention, callees, world)

    @property
    def symbols(self) -> tuple[str, ...]:
        entry = self.table.get("case", {}).get("entry", ())
        return (entry,) if isinstance(entry, str) else tuple(entry)


class MissingConstant(Exception):
    """The tree does not define a name the registry uses: the entry point is UNKNOWN, not an error."""


def load(path: Path = REGISTRY) -> list[Entry]:
    raw = read_toml(path)
    entries = []
    for name, table in raw.get("entries", {}).items():
        table = dict(table)
        source = table.pop("source", None)
        if not isinstance(source, str) or "/" not in source:
            raise CaseError(f"{path}: field `entries.{name}.source` must be a path under $GOROOT/src, "
                            "like runtime/sys_windows_amd64.s")
        package, _, file = source.rpartition("/")
        entries.append(Entry(name, package, file, table))
    if not entries:
        raise CaseError(f"{path}: no [entries.NAME] tables")
    return entries


def _evaluate(text: str, constants: dict[str, int]) -> int:
    def value(node) -> int:
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.Name):
            if node.id not in constants:
                raise MissingConstant(node.id)
            return constants[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](value(node.left), value(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](value(node.operand))
        raise ValueError(f"{{{text}}} is not arithmetic on names and integers")

    return value(ast.parse(text.strip(), mode="eval").body)


def substitute(raw: Any, constants: dict[str, int], key: str = "") -> Any:
    """Replace "{expr}" by its value: a whole-string placeholder becomes an integer, others text."""
    if isinstance(raw, dict):
        return {k: substitute(v, constants, k) for k, v in raw.items()}
    if isinstance(raw, list):
        return [substitute(v, constants, key) for v in raw]
    if not isinstance(raw, str) or key in _PROSE:
        return raw
    whole = _PLACEHOLDER.fullmatch(raw)
    if whole and key not in _WORLD_TEXT:
        return _evaluate(whole.group(1), constants)
    return _PLACEHOLDER.sub(lambda m: hex(_evaluate(m.group(1), constants)), raw)


def case_for(entry: Entry, source: Path, revision: str, constants: dict[str, int],
             symbols: list[str] | None = None, registry: Path = REGISTRY) -> Case:
    """The entry as a case with one version, ``source`` as the tree has it, entered through ``symbols``
    (default: all the entry's). Raises MissingConstant."""
    table = substitute(entry.table, constants)
    head = dict(table.get("case", {}))
    head.setdefault("name", entry.name)
    head.setdefault("package", entry.package)
    if symbols is not None:
        head["entry"] = list(symbols)
    table = {**table, "case": head,
             "versions": [{"name": TREE_VERSION, "source": str(source), "revision": revision}]}
    return case_from_table(table, registry, registry.parent)
