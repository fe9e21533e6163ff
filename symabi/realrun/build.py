"""Build a harness for one port against a Go tree, with the tree's own go command and the port's C
compiler (CGO_ENABLED=1), offline.

The Go build cache is kept under symabi's cache, one per tree *header set*: cmd/go keys a package's
cache entry by the files in the package's own folder, but the runtime's assembly includes
runtime/cgo/abi_{amd64,arm64}.h from another folder, so a tree whose shared macros changed would
silently get the runtime of a tree whose macros did not. Keying the cache by the content of every
header under src/runtime keeps the two apart (a cold build of a harness takes seconds)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path

from symabi.cache import cache_root
from symabi.errors import ToolchainError
from symabi.realrun import overlay
from symabi.realrun.catalog import COMMON, Harness, Runner, load
from symabi.realrun.records import Built

BUILD_TIMEOUT_S = 900


def go_command(goroot: Path, fallback: Path) -> Path:
    own = goroot / "bin" / "go"
    return own if own.is_file() else fallback


def header_key(goroot: Path, version: str) -> str:
    h = hashlib.sha256(version.encode())
    for path in sorted((goroot / "src" / "runtime").rglob("*.h")):
        h.update(str(path.relative_to(goroot)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:20]


def default_gocache(goroot: Path, version: str) -> Path:
    return cache_root() / "realrun" / f"gocache-{header_key(goroot, version)}"


def environment(runner: Runner, goroot: Path, gocache: Path, scratch: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GO", "CGO_"))}
    env.update(GOROOT=str(goroot), GOOS=runner.goos, GOARCH=runner.goarch, CGO_ENABLED="1", CC=runner.cc,
               GOFLAGS="-mod=mod", GOENV="off", GOTOOLCHAIN="local", GOPROXY="off", GOSUMDB="off", GOWORK="off",
               GOTELEMETRY="off", GO111MODULE="on", GOCACHE=str(gocache), GOPATH=str(scratch / "gopath"))
    return env


def stage(harness: Harness, into: Path) -> Path:
    """The harness's module: harness/common plus the harness's own folder, side by side."""
    shutil.copytree(COMMON, into, dirs_exist_ok=True)
    shutil.copytree(harness.folder, into, dirs_exist_ok=True)
    return into


def build(harness: Harness, runner: Runner, goroot: Path, go: Path, gocache: Path, scratch: Path) -> Built:
    """Raises ToolchainError with the build's own diagnostics when the tree cannot build the harness."""
    module = stage(harness, scratch / f"{harness.name}-{runner.goos}-{runner.goarch}")
    program = module / f"{harness.name}{runner.suffix}"
    cmd = [str(go), "build", "-o", str(program)]
    if harness.ldflags:
        cmd.append("-ldflags=" + " ".join(harness.ldflags))
    env = environment(runner, goroot, gocache, scratch)
    shimmed = None
    if redirects := overlay.port_redirects(load(), runner.port):  # Go callees behind adversarial shims
        shimmed = overlay.write(redirects, runner, goroot, go, scratch / "overlay")
        cmd += shimmed.flags
        env.update(shimmed.env)
    began = time.monotonic()
    try:
        proc = subprocess.run(cmd + ["."], cwd=module, env=env, check=False, capture_output=True, text=True,
                              timeout=BUILD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise ToolchainError(f"building the {harness.name} harness for {runner.port} took over "
                             f"{BUILD_TIMEOUT_S} s") from None
    except OSError as exc:
        raise ToolchainError(f"cannot run {go}: {exc}") from None
    if proc.returncode != 0:
        detail = "\n  ".join((proc.stderr or proc.stdout).strip().splitlines()[-12:])
        raise ToolchainError(f"building the {harness.name} harness for {runner.port} failed:\n  {detail}")
    return Built(harness.name, runner.port, program, time.monotonic() - began,
                 overlay.report_of(shimmed) if shimmed else "")
