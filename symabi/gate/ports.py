"""Which ports the gate checks: the ones named, or every amd64 and arm64 port the tree's toolchain lists."""

from __future__ import annotations

import subprocess
from pathlib import Path

from symabi.errors import SymabiError
from symabi.ports import PORTS, Port
from symabi.toolchain import GoToolchain

ALL = "all"
ARCHES = ("amd64", "arm64")  # the architectures symabi has data for (symabi.ports.ARCHITECTURES)


class PortError(SymabiError):
    pass


def tree_ports(goroot: Path, toolchain: GoToolchain) -> list[str]:
    """``go tool dist list`` of the tree's own go command (the pinned one if the tree has none)."""
    go = goroot / "bin" / "go"
    go = go if go.is_file() else toolchain.go
    try:
        out = subprocess.run([str(go), "tool", "dist", "list"], capture_output=True, text=True, timeout=120,
                             env={"GOROOT": str(goroot), "PATH": "/usr/bin:/bin", "GOTOOLCHAIN": "local",
                                  "HOME": str(goroot)})
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PortError(f"cannot list the tree's ports (`go tool dist list`): {exc}") from None
    if out.returncode != 0:
        raise PortError(f"`go tool dist list` failed: {(out.stderr or out.stdout).strip()}")
    return out.stdout.split()


def choose(names: tuple[str, ...], goroot: Path, toolchain: GoToolchain) -> tuple[list[Port], dict[str, str]]:
    """The ports to check, and a note for each port of the tree that is not checked (and why)."""
    notes: dict[str, str] = {}
    if names == (ALL,):
        wanted = [n for n in tree_ports(goroot, toolchain) if n.split("/")[1] in ARCHES]
        for name in wanted:
            if name not in PORTS:
                notes[name] = "symabi has no port data for it (symabi/ports/table.py)"
    else:
        unknown = [n for n in names if n not in PORTS]
        if unknown:
            raise PortError(f"unknown port {unknown[0]!r} (GOOS/GOARCH); known: {', '.join(sorted(PORTS))}")
        wanted = list(dict.fromkeys(names))
    chosen = []
    for name in wanted:
        port = PORTS.get(name)
        if port is None:
            continue
        if port.abi is None:
            notes[name] = f"not checked: {port.why_unsupported}"
            continue
        chosen.append(port)
    return chosen, notes
