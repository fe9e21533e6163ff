"""Cases are data: ``cases/<trampoline>/case.toml`` says how a trampoline is entered and what it calls.

A user adds a trampoline by adding a folder. Every field is checked here, and a bad one is reported by
its path in the file (``versions[1].source``), never by a traceback further down the pipeline.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from symabi.errors import CaseError

CASE_FILE = "case.toml"
CASES_ENV_VAR = "SYMABI_CASES"


@dataclass(frozen=True)
class CalleeSpec:
    """What the case declares about one external Go function the trampoline calls."""

    name: str  # the linker's name, e.g. "runtime.cgocallback"
    args: int = 0  # bytes of ABI0 argument words, at 8(SP) on entry to the callee
    results: int = 0  # bytes of ABI0 result words, right after the arguments
    noreturn: bool = False
    doc: str = ""


@dataclass(frozen=True)
class EntryConvention:
    """How the host enters the trampoline (the named convention plus the case's parameters)."""

    name: str = "windows-x64-call"
    stack_args: int = 0  # bytes of the caller's stack arguments, above its 32-byte home area


@dataclass(frozen=True)
class VersionSpec:
    name: str
    source: Path
    revision: str
    include_dirs: tuple[Path, ...]
    deviations: tuple[str, ...] = ()


@dataclass(frozen=True)
class Case:
    name: str
    directory: Path
    summary: str
    entry: str  # the TEXT symbol (linker name) the host calls
    contract: str
    callee_model: str
    package: str | None
    defines: tuple[str, ...]
    versions: tuple[VersionSpec, ...]  # oldest first; the last one is what the gate judges
    callees: dict[str, CalleeSpec] = field(default_factory=dict)
    entry_convention: EntryConvention = field(default_factory=EntryConvention)

    def version(self, name: str) -> VersionSpec:
        for v in self.versions:
            if v.name == name:
                return v
        raise CaseError(f"case {self.name} has no version {name!r} (it has: {', '.join(v.name for v in self.versions)})")

    @property
    def newest(self) -> VersionSpec:
        return self.versions[-1]


class _Fields:
    """Typed access to one TOML table that names the offending field on error."""

    def __init__(self, path: Path, where: str, table: Any):
        if not isinstance(table, dict):
            raise CaseError(f"{path}: field `{where}` must be a table")
        self.path, self.where, self.table = path, where, table

    def _name(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ..., *, required: bool = False) -> Any:
        if key not in self.table:
            if required or default is ...:
                raise CaseError(f"{self.path}: missing field `{self._name(key)}`")
            return default
        value = self.table[key]
        if kind is int and isinstance(value, bool) or not isinstance(value, kind):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise CaseError(f"{self.path}: field `{self._name(key)}` must be {names}, not {value!r}")
        if kind is int and value < 0:
            raise CaseError(f"{self.path}: field `{self._name(key)}` must not be negative")
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        values = self.get(key, list, [])
        if not all(isinstance(v, str) for v in values):
            raise CaseError(f"{self.path}: field `{self._name(key)}` must be a list of strings")
        return tuple(values)

    def sub(self, key: str, default: Any = ...) -> _Fields:
        return _Fields(self.path, self._name(key), self.get(key, dict, default))

    def reject_unknown(self, known: set[str]) -> None:
        extra = sorted(set(self.table) - known)
        if extra:
            raise CaseError(f"{self.path}: unknown field `{self._name(extra[0])}` (known: {', '.join(sorted(known))})")


def default_cases_dir() -> Path:
    if env := os.environ.get(CASES_ENV_VAR):
        return Path(env)
    shipped = Path(__file__).resolve().parent.parent / "cases"
    return shipped if shipped.is_dir() else Path.cwd() / "cases"


def list_cases(cases_dir: Path) -> list[str]:
    if not cases_dir.is_dir():
        raise CaseError(f"cases folder {cases_dir} does not exist")
    return sorted(p.name for p in cases_dir.iterdir() if (p / CASE_FILE).is_file())


def _version(path: Path, directory: Path, index: int, raw: Any) -> VersionSpec:
    f = _Fields(path, f"versions[{index}]", raw)
    f.reject_unknown({"name", "source", "revision", "includes", "deviations"})
    source = directory / f.get("source", str, required=True)
    if not source.is_file():
        raise CaseError(f"{path}: field `versions[{index}].source` names {source}, which does not exist")
    includes = tuple(directory / inc for inc in f.strings("includes")) or (source.parent,)
    for inc in includes:
        if not inc.is_dir():
            raise CaseError(f"{path}: field `versions[{index}].includes` names {inc}, which is not a folder")
    return VersionSpec(
        name=f.get("name", str, required=True),
        source=source,
        revision=f.get("revision", str, required=True),
        include_dirs=includes,
        deviations=f.strings("deviations"),
    )


def _callee(path: Path, name: str, raw: Any) -> CalleeSpec:
    f = _Fields(path, f"callees.{name}", raw)
    f.reject_unknown({"args", "results", "noreturn", "doc"})
    return CalleeSpec(
        name=name,
        args=f.get("args", int, 0),
        results=f.get("results", int, 0),
        noreturn=f.get("noreturn", bool, False),
        doc=f.get("doc", str, ""),
    )


def parse_case(directory: Path) -> Case:
    path = directory / CASE_FILE
    try:
        raw = tomllib.loads(path.read_text())
    except OSError as exc:
        raise CaseError(f"{path}: cannot read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise CaseError(f"{path}: not valid TOML: {exc}") from None
    top = _Fields(path, "", raw)
    top.reject_unknown({"case", "entry_convention", "versions", "callees"})
    head = top.sub("case")
    head.reject_unknown({"name", "summary", "entry", "contract", "callee_model", "package", "defines"})
    conv = top.sub("entry_convention", {})
    conv.reject_unknown({"name", "stack_args"})
    versions_raw = top.get("versions", list, required=True)
    if not versions_raw:
        raise CaseError(f"{path}: field `versions` must list at least one version")
    versions = tuple(_version(path, directory, i, v) for i, v in enumerate(versions_raw))
    names = [v.name for v in versions]
    if len(set(names)) != len(names):
        raise CaseError(f"{path}: field `versions` repeats a version name ({', '.join(names)})")
    callees_table = top.sub("callees", {})
    return Case(
        name=head.get("name", str, required=True),
        directory=directory,
        summary=head.get("summary", str, ""),
        entry=head.get("entry", str, required=True),
        contract=head.get("contract", str, "windows-x64"),
        callee_model=head.get("callee_model", str, "go-abi0"),
        package=head.get("package", str, None),
        defines=head.strings("defines"),
        versions=versions,
        callees={n: _callee(path, n, v) for n, v in callees_table.table.items()},
        entry_convention=EntryConvention(
            name=conv.get("name", str, "windows-x64-call"), stack_args=conv.get("stack_args", int, 0)
        ),
    )


def load_case(cases_dir: Path, name: str) -> Case:
    known = list_cases(cases_dir)
    if name not in known:
        listed = ", ".join(known) or "none"
        raise CaseError(f"unknown case {name!r} in {cases_dir} (known cases: {listed})")
    return parse_case(cases_dir / name)
