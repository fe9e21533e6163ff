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

Families: ``case.entry`` may be a name pattern (``runtime.*_trampoline``): every TEXT symbol of the file that
matches is an entry point of its own (``tree/<port>/<entry>/<symbol>``), with the entry's tables. A callee
table may be a pattern too (``[callees."libc_*"]``): it models each symbol the entry point calls that
matches. ``contract = "host-calls"``: the port's host-ABI contract plus the host-call obligations at every
call of a callee of the host model (``symabi.contracts.host_calls.host_calls_contract``). A callee table with
``unstated = "why"``: an entry point that calls it is UNKNOWN with that reason.

Releases: the registry describes every Go release the gate may meet, not only the newest. ``since =
"go1.27"`` (that release and later) and ``until = "go1.27"`` (releases before it) on an entry say which
releases it describes; two entries may share a name and ports for disjoint releases (the shape of the
code changed). The same keys on any table inside an entry (a callee, a region, a world field, a data
symbol) keep that table for those releases only. A tree's release is its ``go env GOVERSION``; one the
registry describes with no entry of that name is UNKNOWN for it, with the releases it does describe.
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
_RELEASE = re.compile(r"go(\d+)\.(\d+)(?:\.(\d+))?")
_RELEASE_KEYS = ("since", "until")
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
    since: str = ""  # the first Go release it describes ("go1.27"); "" = every earlier one
    until: str = ""  # the first Go release it no longer describes; "" = every later one

    def describes(self, version: str) -> bool:
        return in_release({"since": self.since, "until": self.until}, release(version))

    @property
    def releases(self) -> str:
        """The releases it describes, for people."""
        if self.since and self.until:
            return f"{self.since} up to {self.until} (exclusive)"
        return f"{self.since} and later" if self.since else (f"releases before {self.until}" if self.until else "every release")

    def source_for(self, files: list[str]) -> str | None:
        """The plan's file this entry means (its ``source`` may hold a ``*``); None if the plan has none."""
        matches = [f for f in files if fnmatchcase(f, self.file)]
        return matches[0] if len(matches) == 1 else None

    @property
    def symbols(self) -> tuple[str, ...]:
        entry = self.table.get("case", {}).get("entry", ())
        return (entry,) if isinstance(entry, str) else tuple(entry)

    @property
    def family(self) -> bool:
        """Its entry names TEXT symbols by a pattern: each match is an entry point of its own."""
        return any(is_pattern(s) for s in self.symbols)

    def members(self, names) -> list[str]:
        """The TEXT symbols (of ``names``, in order) a family's patterns match."""
        return [n for n in names if any(fnmatchcase(n, s) for s in self.symbols)]


HOST_CALLS = "host-calls"  # the contract: the port's host ABI's plus the host-call obligations
_PATTERN = re.compile(r"[*?\[]")


def is_pattern(name: str) -> bool:
    return bool(_PATTERN.search(name))


def callees_for(table: dict, called: list[str]) -> tuple[dict, str]:
    """The entry's callee tables for one entry point that calls ``called``: a pattern table becomes one
    table per called symbol it matches (a named table wins over a pattern). Also the reason it cannot be
    checked, when it calls a callee whose table is ``unstated``."""
    named = {k: v for k, v in table.items() if not is_pattern(k)}
    out, why = {}, ""
    for name in called:
        spec = named.get(name) or next((v for k, v in table.items() if is_pattern(k) and fnmatchcase(name, k)), None)
        if spec is None:
            continue
        spec = dict(spec)
        reason = spec.pop("unstated", "")
        if reason and not why:
            why = f"it calls {name}: {reason}"
        out[name] = spec
    kept = {k: v for k, v in named.items() if k not in out and "unstated" not in v}  # e.g. "entry.stack+0x8"
    return {**kept, **out}, why


def host_calls(port: Port, head: dict, callees: dict) -> tuple[dict, dict]:
    """``contract = "host-calls"`` resolved for the port as ``symabi check`` resolves a host-entry function
    that calls host code: the host_calls_contract over the callees that name no ``model`` of their own (each
    a host function of the port's ABI: it keeps the callee-saved registers, ``symabi.check.callees``), with
    the check's callee model; registered by name (the forked proving workers inherit it)."""
    # these load claripy: only for an entry that needs them
    from symabi.check.callees import host_function
    from symabi.check.contract import register
    from symabi.models.check_callees import MODELS

    if "callee_model" in head:
        raise CaseError(f"contract = {HOST_CALLS!r} gives the callee model itself (host code keeps the host's "
                        "callee-saved registers): drop `case.callee_model`")
    host = {n: {**host_function(n, port).table, **spec} for n, spec in callees.items() if not spec.get("model")}
    head = {**head, "contract": register(port.abi, frozenset(host)), "callee_model": MODELS[port.abi.name].name}
    return head, {**callees, **host}


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
        since, until = (_release_key(path, f"entries.{key}", table, k) for k in _RELEASE_KEYS)
        _check_release_keys(path, f"entries.{key}", table)
        entry = Entry(name, package, file, table, tuple(ports), race, unstated, tuple(constants_from), since, until)
        taken = [e for e in entries if e.name == name and set(e.ports) & set(ports) and _overlap(e, entry)]
        if taken:
            raise CaseError(f"{path}: entries {taken[0].name} and {key} are both {name!r} on "
                            f"{', '.join(sorted(set(taken[0].ports) & set(ports)))} for {entry.releases}")
        entries.append(entry)
    if not entries:
        raise CaseError(f"{path}: no [entries.NAME] tables")
    return entries


def release(version: str) -> tuple[int, ...]:
    """A Go version ("go1.21.13", "go1.27rc1", "devel go1.28-abc") as a comparable tuple; one that names
    no release (a development tree's "devel +abc") counts as newer than every release."""
    m = _RELEASE.search(version)
    return tuple(int(g or 0) for g in m.groups()) if m else (1 << 30,)


def in_release(table: dict, at: tuple[int, ...]) -> bool:
    since, until = table.get("since"), table.get("until")
    return (not since or at >= release(since)) and (not until or at < release(until))


def _release_key(path: Path, where: str, table: dict, key: str) -> str:
    value = table.pop(key, "")
    if value and not (isinstance(value, str) and _RELEASE.fullmatch(value)):
        raise CaseError(f"{path}: field `{where}.{key}` must be a Go release, like \"go1.27\" or \"go1.22.3\"")
    return value


def _check_release_keys(path: Path, where: str, raw: Any) -> None:
    """Every nested ``since``/``until`` names a release (checked once, when the registry is read)."""
    items = raw.items() if isinstance(raw, dict) else enumerate(raw) if isinstance(raw, list) else ()
    for key, value in items:
        inner = f"{where}.{key}" if isinstance(raw, dict) else f"{where}[{key}]"
        if isinstance(value, dict):
            for k in _RELEASE_KEYS:
                if k in value:
                    _release_key(path, inner, dict(value), k)
        _check_release_keys(path, inner, value)


def _overlap(a: Entry, b: Entry) -> bool:
    low = max(release(a.since or "go0.0"), release(b.since or "go0.0"))
    high = min(release(a.until) if a.until else (1 << 31,), release(b.until) if b.until else (1 << 31,))
    return low < high


def for_release(raw: Any, version: str) -> Any:
    """The registry table as it describes ``version``: tables whose ``since``/``until`` leave it out
    are dropped, and the keys themselves removed."""
    at = release(version)
    if isinstance(raw, dict):
        return {k: for_release(v, version) for k, v in raw.items()
                if k not in _RELEASE_KEYS and not (isinstance(v, dict) and not in_release(v, at))}
    if isinstance(raw, list):
        return [for_release(v, version) for v in raw if not (isinstance(v, dict) and not in_release(v, at))]
    return raw


def for_tree(entries: list[Entry], version: str) -> list[tuple[Entry, bool]]:
    """One entry per name, in the registry's order: the one describing ``version`` (True), else the first
    of that name (False: the registry does not describe this release)."""
    out: dict[str, tuple[Entry, bool]] = {}
    for e in entries:
        if e.name not in out or (e.describes(version) and not out[e.name][1]):
            out[e.name] = (e, e.describes(version))
    return list(out.values())


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
             symbols: list[str] | None = None, registry: Path = REGISTRY, port: Port = PORTS[DEFAULT_PORT],
             version: str = "", called: list[str] | None = None) -> Case:
    """The entry as a case with one version, ``source`` as the tree has it, entered through ``symbols``
    (default: all the entry's), for ``port``, as the registry describes the Go release ``version``
    (default: the newest). ``called``: what the entry point calls (a family's callee patterns are
    expanded over it). Raises MissingConstant."""
    table = substitute(for_release(entry.table, version), {**constants, **port_constants(port)})
    if called is not None:
        table = {**table, "callees": callees_for(table.get("callees", {}), called)[0]}
    head = dict(table.get("case", {}))
    if head.get("contract") == HOST_CALLS:
        head, callees = host_calls(port, head, table.get("callees", {}))
        table = {**table, "callees": callees}
    head.setdefault("name", entry.name)
    head.setdefault("package", entry.package)
    head.setdefault("port", port.name)
    if symbols is not None:
        head["entry"] = list(symbols)
    table = {**table, "case": head,
             "versions": [{"name": TREE_VERSION, "source": str(source), "revision": revision}]}
    return case_from_table(table, registry, registry.parent)
