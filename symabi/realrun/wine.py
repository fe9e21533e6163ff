"""The Wine prefix real runs use: created once per Wine version under symabi's cache, with the
bcryptprimitives.dll Go >= 1.22 needs (harness/wine/, built with mingw) in its system32."""

from __future__ import annotations

import fcntl
import os
import subprocess
from pathlib import Path

from symabi.cache import cache_root
from symabi.errors import ToolchainError
from symabi.realrun.catalog import HARNESS_DIR, Runner
from symabi.realrun.hosttools import command, runner_name

DLL_SOURCE = HARNESS_DIR / "wine"
TIMEOUT_S = 300


def environment(runner: Runner) -> dict[str, str]:
    """The environment a Windows program runs in: its prefix (prepared on first use), no Wine chatter."""
    prefix = cache_root() / "realrun" / f"wineprefix-{runner_name(runner)}"
    prefix.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "WINEPREFIX": str(prefix), "WINEDEBUG": "-all", "WINEDLLOVERRIDES": "mscoree,mshtml="}
    dll = prefix / "drive_c" / "windows" / "system32" / "bcryptprimitives.dll"
    if dll.is_file():
        return env
    with open(prefix.parent / f"{prefix.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two runs must not create one prefix at once
        if not dll.is_file():
            _create(runner, env, dll)
    return env


def _create(runner: Runner, env: dict[str, str], dll: Path) -> None:
    wine = command(runner)
    try:
        boot = subprocess.run([*wine, "wineboot", "--init"], check=False, env=env, capture_output=True,
                              text=True, timeout=TIMEOUT_S)
        if not dll.parent.is_dir():
            raise ToolchainError(f"wineboot did not create the prefix {env['WINEPREFIX']}: "
                                 f"{(boot.stderr or boot.stdout).strip()[-400:]}")
        tmp = dll.with_suffix(".tmp")
        build = subprocess.run([runner.cc, "-shared", "-O2", "-o", str(tmp), str(DLL_SOURCE / "bcryptprimitives.c"),
                                str(DLL_SOURCE / "bcryptprimitives.def"), "-ladvapi32"],
                               check=False, capture_output=True, text=True, timeout=TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolchainError(f"cannot prepare the Wine prefix {env['WINEPREFIX']}: {exc}") from None
    if build.returncode != 0:
        raise ToolchainError(f"building bcryptprimitives.dll failed: {build.stderr.strip()[-400:]}")
    tmp.replace(dll)
