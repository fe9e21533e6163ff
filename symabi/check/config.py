"""``symabi.toml`` at the module root: what the source cannot say (or where the source is not yours).

    [functions."example.com/m/tramp.callbackasm1"]  # marks a TEXT symbol, as //symabi:host-entry would
    kind = "host-entry"                              # or "host-call"
    contract = "windows-x64"                         # optional, as the directive's keys
    convention = "callbackasm-table"
    world = "closure"
    returns = 64                                     # bits of RAX the host reads (0, 32, 64)
    [functions."example.com/m/tramp.callbackasm1".entry_convention]
    table = "example.com/m/tramp.callbackasm"        # case.toml's [entry_convention] keys
    stride = 5
    table_entries = 2000

    [functions."example.com/m/tramp.callbackasm1".arm64]   # the same keys, on arm64 only (amd64 likewise)
    entry_convention = { registers = { x1 = "info" } }

    [callees."example.com/m/tramp.helper"]           # case.toml's [callees."name"] keys: overrides the
    args = 16                                        # model symabi infers for that callee
    [callees."world.prev"]
    host = true                                      # a host function: keeps the port's callee-saved registers

    [worlds.closure]                                 # case.toml's [world] schema (regions, fields, data)
    ...

Every table is checked with the case-file reader, so a bad field is named by its path in this file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from symabi.casefile import read_toml
from symabi.check.directives import KEYS, KINDS
from symabi.errors import CaseError
from symabi.ports.arch import ARCHITECTURES

CONFIG_FILE = "symabi.toml"
_FUNCTION_KEYS = {"kind", "returns", "entry_convention", *KEYS}


@dataclass(frozen=True)
class FunctionConfig:
    symbol: str
    kind: str = "host-entry"
    keys: dict[str, str] = field(default_factory=dict)  # contract, convention, world
    returns: int | None = None
    entry_convention: dict = field(default_factory=dict)
    by_arch: dict[str, FunctionConfig] = field(default_factory=dict)  # GOARCH -> the keys that apply there

    def on(self, goarch: str) -> FunctionConfig:
        """The function's settings on ``goarch``: an architecture's own table adds to (and wins over) the rest."""
        more = self.by_arch.get(goarch)
        if more is None:
            return self
        return FunctionConfig(self.symbol, more.kind, {**self.keys, **more.keys},
                              self.returns if more.returns is None else more.returns,
                              {**self.entry_convention, **more.entry_convention})


@dataclass(frozen=True)
class Config:
    path: Path | None  # None: the module has no symabi.toml
    functions: dict[str, FunctionConfig] = field(default_factory=dict)
    callees: dict[str, dict] = field(default_factory=dict)
    worlds: dict[str, dict] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return str(self.path) if self.path else CONFIG_FILE


def load(root: Path) -> Config:
    path = root / CONFIG_FILE
    if not path.is_file():
        return Config(None)
    raw = read_toml(path)
    extra = sorted(set(raw) - {"functions", "callees", "worlds"})
    if extra:
        raise CaseError(f"{path}: unknown table `{extra[0]}` (known: functions, callees, worlds)")
    functions = {}
    for symbol, table in _tables(path, raw, "functions").items():
        top = _function(path, symbol, f'functions."{symbol}"', table, set(ARCHITECTURES))
        by_arch = {arch: _function(path, symbol, f'functions."{symbol}".{arch}', table[arch], set(),
                                   top.kind if "kind" not in table[arch] else None)
                   for arch in ARCHITECTURES if arch in table}
        symbol = symbol.removesuffix("<>")  # a file-local symbol, named as its TEXT line writes it or not
        functions[symbol] = FunctionConfig(symbol, top.kind, top.keys, top.returns, top.entry_convention, by_arch)
    return Config(path, functions, _tables(path, raw, "callees"), _tables(path, raw, "worlds"))


def _function(path: Path, symbol: str, at: str, table, arches: set[str], kind: str | None = None) -> FunctionConfig:
    if not isinstance(table, dict):
        raise CaseError(f"{path}: field `{at}` must be a table")
    unknown = sorted(set(table) - _FUNCTION_KEYS - arches)
    if unknown:
        raise CaseError(f"{path}: unknown field `{at}.{unknown[0]}` (known: {', '.join(sorted(_FUNCTION_KEYS | arches))})")
    kind = table.get("kind", kind or "host-entry")
    if kind not in KINDS:
        raise CaseError(f"{path}: field `{at}.kind` must be one of {', '.join(KINDS)}")
    for key in (*KEYS, "kind"):
        if key in table and not isinstance(table[key], str):
            raise CaseError(f"{path}: field `{at}.{key}` must be text")
    conv = table.get("entry_convention", {})
    if not isinstance(conv, dict):
        raise CaseError(f"{path}: field `{at}.entry_convention` must be a table")
    returns = table.get("returns")
    if returns is not None and returns not in (0, 32, 64):
        raise CaseError(f"{path}: field `{at}.returns` must be 0, 32 or 64")
    return FunctionConfig(symbol, kind, {k: table[k] for k in KEYS if k in table}, returns, conv)


def _tables(path: Path, raw: dict, key: str) -> dict[str, dict]:
    value = raw.get(key, {})
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise CaseError(f"{path}: `{key}` must be tables: [{key}.\"NAME\"]")
    return value
