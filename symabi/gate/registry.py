"""The registry of host→Go entry points (``registry.toml``), turned into cases for one tree.

An entry is a case.toml without versions plus the ``source`` the Go build assembles and the ``ports``
it is registered for. For a tree and a port, the gate substitutes the tree's constants into it
("{m_tls}", "teb+{TEB_TlsSlots}") and the port's ("{tls_slot}": where the port's TLS g slot lies, see
``port_constants``), adds one version, the tree's file, then reads it with the case-file reader, so
every field is checked as in a case.

``source`` may name the file with a ``*`` (``runtime/sys_*_amd64.s``): the one file of that package the
port's build plan assembles that matches. ``race = true``: the file as a ``-race`` build assembles it.
``unstated = "why"``: the registry cannot state the entry's world on these ports; the entry point is
UNKNOWN with that reason, never silently left out. ``constants_from``: other files of the tree whose
``#define``s the world uses (windows' TEB layout lives in sys_windows_amd64.s).
"""

from __future__ import annotations

import ast
import operator
import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from symabi.casefile import Case, case_from_table, read_toml
from symabi.errors import CaseError
from symabi.ports import DEFAULT_PORT, PORTS, Port

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
    ports: tuple[str, ...] = (DEFAULT_PORT,)  # the GOOS/GOARCH ports it is registered for
    race: bool = False  # assembled as a -race build does
    unstated: str = ""  # why the registry cannot state its world (the entry point is UNKNOWN)
    constants_from: tuple[str, ...] = ()  # other files under $GOROOT/src whose #defines the world uses

    def source_for(self, files: list[str]) -> str | None:
        """The plan's file this entry means (its ``source`` may hold a ``*``); None if the plan has none."""
        matches = [f for f in files if fnmatchcase(f, self.file)]
        return matches[0] if len(matches) == 1 else None

    @property
    def symbols(self) -> tuple[str, ...]:
        entry = self.table.get("case", {}).get("entry", ())
        return (entry,) if isinstance(entry, str) else tuple(entry)


class MissingConstant(Exception):
    """The tree does not define a name the registry uses: the entry point is UNKNOWN, not an error."""


def load(path: Path = REGISTRY) -> list[Entry]:
    raw = read_toml(path)
    entries = []
    for key, table in raw.get("entries", {}).items():
        table = dict(table)
        source = table.pop("source", None)
        if not isinstance(source, str) or "/" not in source:
            raise CaseError(f"{path}: field `entries.{key}.source` must be a path under $GOROOT/src, "
                            "like runtime/sys_windows_amd64.s")
        package, _, file = source.rpartition("/")
        name = table.pop("name", key)
        ports = table.pop("ports", [DEFAULT_PORT])
        race, unstated = table.pop("race", False), table.pop("unstated", "")
        constants_from = table.pop("constants_from", [])
        if not isinstance(constants_from, list) or not all(isinstance(c, str) for c in constants_from):
            raise CaseError(f"{path}: field `entries.{key}.constants_from` must list files under $GOROOT/src")
        if not isinstance(ports, list) or not ports or any(p not in PORTS for p in ports):
            raise CaseError(f"{path}: field `entries.{key}.ports` must list ports (GOOS/GOARCH); "
                            f"known: {', '.join(sorted(PORTS))}")
        if not isinstance(race, bool) or not isinstance(unstated, str) or not isinstance(name, str):
            raise CaseError(f"{path}: entry {key}: `name` and `unstated` are text, `race` true or false")
        taken = [e for e in entries if e.name == name and set(e.ports) & set(ports)]
        if taken:
            raise CaseError(f"{path}: entries {taken[0].name} and {key} are both {name!r} on "
                            f"{', '.join(sorted(set(taken[0].ports) & set(ports)))}")
        entries.append(Entry(name, package, file, table, tuple(ports), race, unstated, tuple(constants_from)))
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


def port_constants(port: Port) -> dict[str, int]:
    """The port's numbers a registry world may use: where its TLS g slot lies (symabi.ports.TlsForm).

    ``tls_base`` is the offset of the thread pointer (the segment base) in a region ``tls`` that covers
    the g slot at ``tls_slot``; ``tls_size`` is that region's size, which also covers the word at the
    thread pointer (the TCB's self-pointer on ELF, which ``MOVQ TLS, r`` loads). ELF: the slot is at -8,
    so the region starts 8 bytes below the thread pointer; Mach-O: the slot is at +0x30."""
    tls = port.tls
    if tls is None or tls.g_offset is None:
        return {}
    base = max(0, -tls.g_offset)
    slot = base + tls.g_offset
    return {"tls_g": tls.g_offset, "tls_base": base, "tls_slot": slot, "tls_size": max(base, slot) + 8}


def case_for(entry: Entry, source: Path, revision: str, constants: dict[str, int],
             symbols: list[str] | None = None, registry: Path = REGISTRY, port: Port = PORTS[DEFAULT_PORT]) -> Case:
    """The entry as a case with one version, ``source`` as the tree has it, entered through ``symbols``
    (default: all the entry's), for ``port``. Raises MissingConstant."""
    table = substitute(entry.table, {**constants, **port_constants(port)})
    head = dict(table.get("case", {}))
    head.setdefault("name", entry.name)
    head.setdefault("package", entry.package)
    head.setdefault("port", port.name)
    if symbols is not None:
        head["entry"] = list(symbols)
    table = {**table, "case": head,
             "versions": [{"name": TREE_VERSION, "source": str(source), "revision": revision}]}
    return case_from_table(table, registry, registry.parent)
