"""Run a built harness on its port's runner and read its verdict from the lines it prints.

The harness prints (see harness/common/realrun.c), each line prefixed "symabi-realrun ":
``entry NAME seed=0x... registers=N``, one ``lost REG expected=0x... got=0x...`` per lost register,
``wrong-result ...`` when the entry point returned the wrong value, ``note ...`` for what the harness
saw on the way (linux/arm64 sigtramp: the shim's nested signal), ``return 0x...`` and
``done NAME lost=K``, once per entry into Go. A run without its ``done`` lines crashed or hung: an
error, with the output's tail.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

from symabi.errors import SymabiError
from symabi.realrun import build as builder
from symabi.realrun import wine
from symabi.realrun.catalog import Harness, Runner
from symabi.realrun.hosttools import command, require, runner_name
from symabi.realrun.records import CLEAN, ERROR, LOST, Built, RealRun

RUN_TIMEOUT_S = 120
PREFIX = "symabi-realrun "
_ENTRY = re.compile(r"entry (\S+) seed=(0x[0-9a-f]+) registers=(\d+)")
_LOST = re.compile(r"lost (\S+) (.*)")


def execute(built: Built, runner: Runner, seed: int | None = None) -> RealRun:
    env = wine.environment(runner) if runner.goos == "windows" else None
    if seed is not None:
        env = {**(env or os.environ), "SYMABI_REALRUN_SEED": hex(seed)}
    name = runner_name(runner)
    began = time.monotonic()
    try:
        proc = subprocess.run([*command(runner), str(built.program)], check=False, capture_output=True,
                              text=True, timeout=RUN_TIMEOUT_S, env=env, cwd=built.program.parent)
    except subprocess.TimeoutExpired:
        return RealRun(built.harness, built.port, name, ERROR, detail=f"no result in {RUN_TIMEOUT_S} s",
                       build_s=built.seconds, run_s=RUN_TIMEOUT_S)
    return parse(built, name, proc.returncode, proc.stdout, proc.stderr, time.monotonic() - began)


def parse(built: Built, runner: str, code: int, stdout: str, stderr: str, seconds: float) -> RealRun:
    """A harness may enter Go more than once (crosscall2: from a Go-called C function and from a C
    thread); every entry must reach its ``done`` line, and a register lost by any of them is lost."""
    lines = [line[len(PREFIX):] for line in stdout.splitlines() if line.startswith(PREFIX)]
    registers, seeds, entries, done, lost, details, wrong = 0, [], [], 0, [], [], []
    for line in lines:
        if m := _ENTRY.match(line):
            entries.append(m[1])
            seeds.append(m[2])
            registers = int(m[3])
        elif m := _LOST.match(line):
            lost += [m[1]] if m[1] not in lost else []
            details.append(f"{entries[-1] if entries else '?'}: {m[1]}: {m[2]}")
        elif line.startswith("note "):
            details.append(line.removeprefix("note "))
        elif line.startswith("wrong-result"):
            wrong.append(line.removeprefix("wrong-result").strip())
        elif line.startswith("done "):
            done += 1
    common = {"registers": registers, "lost": tuple(lost), "seed": ",".join(seeds), "build_s": built.seconds,
              "run_s": seconds, "redirect": built.redirect}
    if not entries or done != len(entries) or wrong:
        tail = " | ".join((stderr or stdout).strip().splitlines()[-4:])
        why = f"wrong result: {'; '.join(wrong)}" if wrong else f"the harness ended without a result (exit {code}): {tail}"
        return RealRun(built.harness, built.port, runner, ERROR, detail="; ".join([why, *details]), **common)
    return RealRun(built.harness, built.port, runner, LOST if lost else CLEAN, detail="; ".join(details), **common)


def real_run(harness: Harness, runner: Runner, goroot: Path, go: Path, version: str,
             gocache: Path | None = None, seed: int | None = None) -> RealRun:
    """Build and run one harness against one tree; a tree that cannot build it is an error result."""
    require([runner])
    gocache = gocache or builder.default_gocache(goroot, version)
    with tempfile.TemporaryDirectory(prefix="symabi-realrun-") as scratch:
        try:
            built = builder.build(harness, runner, goroot, go, gocache, Path(scratch))
        except SymabiError as exc:
            return RealRun(harness.name, runner.port, runner_name(runner), ERROR, detail=str(exc))
        return execute(built, runner, seed)
