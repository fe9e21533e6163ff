"""What this machine needs to build and run a port's harnesses, and what it is called when it runs."""

from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache

from symabi.errors import SymabiError
from symabi.realrun.catalog import Runner

# Debian's wine64 package installs the loader as /usr/lib/wine/wine64; the wine package adds /usr/bin/wine.
_FALLBACKS = {"wine": ("wine64", "/usr/lib/wine/wine64")}


class MissingPackages(SymabiError):
    """A port's C compiler or runner is not installed."""


def _which(tool: str) -> str | None:
    for name in (tool, *_FALLBACKS.get(tool, ())):
        if found := shutil.which(name):
            return found
    return None


def missing(runners: list[Runner]) -> tuple[list[str], list[str]]:
    """(missing tools, the Debian packages that provide them) for these runners."""
    tools, packages = [], []
    for r in runners:
        gone = [t for t in (r.cc, *r.exec[:1]) if _which(t) is None]
        tools += gone
        if gone:
            packages += [p for p in r.packages if p not in packages]
    return tools, packages


def require(runners: list[Runner]) -> None:
    tools, packages = missing(runners)
    if tools:
        ports = ", ".join(r.port for r in runners)
        raise MissingPackages(f"real runs of {ports} need {', '.join(tools)}: install the Debian packages "
                              f"{' '.join(packages)} (apt-get install {' '.join(packages)})")


def command(runner: Runner) -> list[str]:
    """The command prefix that runs one of the port's programs here."""
    if not runner.exec:
        return []
    return [_which(runner.exec[0]) or runner.exec[0], *runner.exec[1:]]


@lru_cache(maxsize=8)
def runner_name(runner: Runner) -> str:
    """"wine-8.0", "qemu-aarch64-7.2.19", or "native"."""
    if not runner.version:
        return "native"
    tool = _which(runner.version[0]) or runner.version[0]
    try:
        out = subprocess.run([tool, *runner.version[1:]], check=False, capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        return runner.version[0]
    words = out.split()
    if len(words) >= 3 and words[1] == "version":  # "qemu-aarch64 version 7.2.19 (Debian ...)"
        return f"{words[0]}-{words[2]}"
    return words[0] if words else runner.version[0]
