"""What ``symabi gate --real-run`` adds: each tree entry point's real run beside its symbolic verdict.

A PROVED entry point whose real run loses a register is a symabi bug (the proof is about a model that
does not contain reality): the gate exits 2 and says so. A REFUTED one whose real run is clean is shown
as such; a refutation can name a register the real callee happens to restore (the model lets Go
clobber everything it may, the real Go code does less)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from symabi.realrun import catalog
from symabi.realrun.build import go_command
from symabi.realrun.hosttools import require, runner_name
from symabi.realrun.records import LOST, SKIPPED, RealRun
from symabi.realrun.run import real_run
from symabi.verdicts import Verdict

DEFAULT_PORT = "windows/amd64"  # the gate's port today; an item with a ``port`` attribute says its own


class _Item(Protocol):  # symabi.gate.run.Item, without importing the gate
    key: str
    kind: str
    name: str
    real_run: RealRun | None

    @property
    def verdict(self) -> Verdict | None: ...


class _Progress(Protocol):
    def start(self, what: str) -> None: ...

    def done(self, outcome: str) -> None: ...


def port_of(item: _Item) -> str:
    return getattr(item, "port", None) or DEFAULT_PORT


def preflight(entry_names: Sequence[str], port: str = DEFAULT_PORT) -> None:
    """Before any proof: raise MissingPackages if a runner the entries' harnesses need is not installed."""
    cat = catalog.load()
    if any(cat.harness(name, port) for name in entry_names):
        require([cat.runners[port]])


def attach(items: Sequence[_Item], goroot: Path, fallback_go: Path, version: str, progress: _Progress,
           timings: dict[str, float]) -> None:
    """Build and run the harness of every tree item that has one; raises MissingPackages up front."""
    cat = catalog.load()
    todo = [(i, cat.harness(i.name, port_of(i))) for i in items if i.kind == "tree"]
    todo = [(i, h) for i, h in todo if h is not None]
    require([cat.runners[p] for p in sorted({port_of(i) for i, _ in todo})])
    go = go_command(goroot, fallback_go)
    for item, harness in todo:
        runner = cat.runners[port_of(item)]
        if item.verdict is None:
            item.real_run = RealRun(harness.name, runner.port, runner_name(runner), SKIPPED,
                                    detail="the tree lacks the entry point")
            continue
        progress.start(f"real run of {item.key} on {runner.port} ({runner_name(runner)})")
        item.real_run = real_run(harness, runner, goroot, go, version)
        timings[f"real run {item.key}"] = item.real_run.build_s + item.real_run.run_s
        progress.done(f"{item.real_run.status} ({item.real_run.build_s:.1f} s build, {item.real_run.run_s:.1f} s run)")


def contradictions(items: Sequence[_Item]) -> list[_Item]:
    """PROVED entry points whose real run lost a register: symabi bugs."""
    return [i for i in items if i.real_run is not None and i.real_run.status == LOST
            and i.verdict is Verdict.PROVED]


def lines(items: Sequence[_Item]) -> list[str]:
    """The terminal's real-run section: one line per tree entry point."""
    cat = catalog.load()
    out = []
    for item in items:
        if item.kind != "tree":
            continue
        verdict = item.verdict.value.upper() if item.verdict else "absent"
        if item.real_run is not None:
            out.append(f"  {item.key}: {verdict}; {item.real_run.summary()}")
        else:
            why = cat.no_harness.get(item.name, f"no harness for {port_of(item)}")
            out.append(f"  {item.key}: {verdict}; real run: no harness ({why})")
    return ["", "real runs (the tree's own runtime on the real OS ABI):", *out] if out else []


def alarms(items: Sequence[_Item]) -> list[str]:
    return [f"symabi: error: symabi bug: {i.key} is PROVED but its real run lost "
            f"{', '.join(r.upper() for r in i.real_run.lost)} ({i.real_run.detail}; seed {i.real_run.seed})"
            for i in contradictions(items)]


def sarif_properties(items: Sequence[_Item]) -> dict:
    return {"realRuns": {i.key: (i.real_run.to_json() if i.real_run else None) for i in items if i.kind == "tree"}}
