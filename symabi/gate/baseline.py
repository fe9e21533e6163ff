"""Baselines: the verdicts a project has accepted, per entry point and per case version.

A baseline file (JSON or TOML, by its suffix) maps item keys to accepted verdicts::

    {"schema": 1, "entries": {
        "tree/sigtramp":     {"verdict": "proved"},
        "case/sigtramp/old": {"verdict": "refuted", "obligations": ["preserve-xmm6", "..."],
                              "reason": "the code before CL 309769: the bug the CL fixed"}}}

Keys are ``tree/<registry entry>`` for the tree's entry points and ``case/<case>/<version>`` for the
shipped cases. A REFUTED entry lists the obligations it fails: a new failure of another obligation is
a regression even though the verdict is the same.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from symabi.errors import SymabiError
from symabi.verdicts import Verdict

SCHEMA = 1


@dataclass(frozen=True)
class Accepted:
    verdict: Verdict
    obligations: tuple[str, ...] = ()  # for REFUTED: the obligations accepted as failing
    reason: str = ""


@dataclass(frozen=True)
class Baseline:
    path: Path | None
    entries: dict[str, Accepted] = field(default_factory=dict)

    def get(self, key: str) -> Accepted | None:
        return self.entries.get(key)


class BaselineError(SymabiError):
    pass


DEFAULT_NAME = "gate-baseline.json"
# The one shipped with symabi: next to the package, in a source checkout (an editable install included).
SHIPPED = Path(__file__).resolve().parent.parent.parent / DEFAULT_NAME


def _repository_root(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


def find(explicit: Path | None, cwd: Path | None = None) -> tuple[Path | None, str]:
    """The baseline to judge against, and where it was found: ``--baseline FILE``; else
    gate-baseline.json in the current folder; else in the root of the git repository around it; else the
    one shipped with symabi. (None, why) when there is none."""
    if explicit is not None:
        return explicit, "--baseline"
    cwd = (cwd or Path.cwd()).resolve()
    root = _repository_root(cwd)
    for path, where in ((cwd / DEFAULT_NAME, "the current folder"),
                        (root / DEFAULT_NAME if root else None, "the repository root"),
                        (SHIPPED, "shipped with symabi")):
        if path is not None and path.is_file():
            return path, where
    return None, f"no {DEFAULT_NAME} in the current folder, the repository root or next to symabi"


def read(path: Path) -> Baseline:
    try:
        text = path.read_text()
    except OSError as exc:
        raise BaselineError(f"cannot read the baseline {path}: {exc.strerror or exc}") from None
    try:
        raw = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise BaselineError(f"{path}: not valid {'TOML' if path.suffix == '.toml' else 'JSON'}: {exc}") from None
    if not isinstance(raw, dict) or raw.get("schema") != SCHEMA or not isinstance(raw.get("entries"), dict):
        raise BaselineError(f"{path}: not a symabi baseline (expected schema = {SCHEMA} and an `entries` table)")
    entries = {}
    for key, item in raw["entries"].items():
        try:
            verdict = Verdict(item["verdict"])
        except (TypeError, KeyError, ValueError):
            raise BaselineError(f"{path}: entry {key!r} needs a verdict: proved, refuted or unknown") from None
        obligations = item.get("obligations", [])
        if not isinstance(obligations, list) or not all(isinstance(o, str) for o in obligations):
            raise BaselineError(f"{path}: entry {key!r}: `obligations` must be a list of obligation ids")
        entries[key] = Accepted(verdict, tuple(obligations), str(item.get("reason", "")))
    return Baseline(path, entries)


def _as_dict(entries: dict[str, Accepted]) -> dict:
    out = {}
    for key in sorted(entries):
        a = entries[key]
        item: dict = {"verdict": a.verdict.value}
        if a.obligations:
            item["obligations"] = list(a.obligations)
        if a.reason:
            item["reason"] = a.reason
        out[key] = item
    return {"schema": SCHEMA, "entries": out}


def _toml(data: dict) -> str:
    lines = [f"schema = {data['schema']}", ""]
    for key, item in data["entries"].items():
        lines.append(f"[entries.{json.dumps(key)}]")
        for name, value in item.items():
            text = "[" + ", ".join(json.dumps(v) for v in value) + "]" if isinstance(value, list) else json.dumps(value)
            lines.append(f"{name} = {text}")
        lines.append("")
    return "\n".join(lines)


def write(path: Path, entries: dict[str, Accepted]) -> None:
    data = _as_dict(entries)
    text = _toml(data) if path.suffix == ".toml" else json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise BaselineError(f"cannot write the baseline {path}: {exc.strerror or exc}") from None
