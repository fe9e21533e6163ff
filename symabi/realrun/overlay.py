"""The harness build's overlay: where an entry point's own Go callee is not the harness's code, the build
redirects the entry point's call to an adversarial shim added to package runtime (harnesses.toml's
``redirect``), and redirect_check.py (run through harness/redirect_check.sh, the build's -toolexec)
checks by disassembling each redirected file assembled both ways that nothing else of it changed.

The overlay (``go build -overlay``) adds to the tree's src/runtime the shims (harness/shims/) and the
adversary's Clobber (harness/common/adversary/adversary_GOARCH.s, which becomes runtime·Clobber
there), and replaces each redirected file by a copy with its redirected lines changed. Every harness of
a port is built with every redirect of the port (one runtime per port, so the harnesses share the Go
cache; a redirect changes nothing on the other harnesses' paths). The copies are assembled in the
tree's own src/runtime (cmd/go runs the assembler there), so their #include "cgo/abi_amd64.h" is the
tree's own header: a mutant tree's shared macros are in them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from symabi.errors import ToolchainError
from symabi.realrun.catalog import COMMON, HARNESS_DIR, Catalog, Redirect, Runner

CHECKER = HARNESS_DIR / "redirect_check.sh"  # the -toolexec; it runs redirect_check.py on the copies' assembly
TIMEOUT_S = 300


@dataclass(frozen=True)
class Overlay:
    flags: tuple[str, ...]  # go build flags: -overlay and -toolexec
    env: dict[str, str]  # what redirect_check.py reads
    report: Path  # where it writes what it checked


def port_redirects(catalog: Catalog, port: str) -> list[Redirect]:
    return [r for h in catalog.harnesses.values() if (r := h.redirect(port)) is not None]


def names(redirect: Redirect) -> tuple[str, str]:
    """The callee's and the shim's symbols as the disassembler names them ("runtime.sigtrampgo")."""
    def symbol(instruction: str) -> str:
        name = re.search(r"([\w·]*·\w+)(?=[<(])", instruction)[1]
        return (("runtime" + name) if name.startswith("·") else name).replace("·", ".")
    return symbol(redirect.call), symbol(redirect.shim_call)


def _copy(target: Path, redirects: list[Redirect], into: Path) -> Path:
    try:
        text = target.read_text()
    except OSError as exc:
        raise ToolchainError(f"cannot read {target} to redirect its calls: {exc}") from None
    for r in redirects:
        if (n := text.count(r.call)) != 1:
            raise ToolchainError(f"{target} holds {r.call!r} {n} times, not once: the harness cannot redirect it "
                                 "to its adversarial shim (harnesses.toml)")
        text = text.replace(r.call, r.shim_call)
    copy = into / target.name
    copy.write_text(text)
    return copy


def write(redirects: list[Redirect], runner: Runner, goroot: Path, go: Path, into: Path) -> Overlay:
    """Write the overlay of one port's redirects under ``into``."""
    into.mkdir(parents=True, exist_ok=True)
    runtime = goroot / "src" / "runtime"
    replace = {str(runtime / f"zz_symabi_clobber_{runner.goarch}.s"):
               str(COMMON / "adversary" / f"adversary_{runner.goarch}.s")}
    files = {}
    for r in redirects:
        files.setdefault(r.file, []).append(r)
        replace[str(runtime / f"zz_symabi_{r.shim}")] = str(r.source)
    checks = {}
    for file, group in files.items():
        copy = _copy(goroot / file, group, into)
        replace[str(goroot / file)] = str(copy)
        checks[str(copy)] = {"original": str(goroot / file), "names": [names(r) for r in group]}
    (into / "overlay.json").write_text(json.dumps({"Replace": replace}, indent=1))
    report = into / "redirect-check.txt"
    report.unlink(missing_ok=True)
    env = {"SYMABI_REDIRECT_DIR": str(into), "SYMABI_REDIRECT_CHECKS": json.dumps(checks),
           "SYMABI_REDIRECT_REPORT": str(report), "SYMABI_REDIRECT_OBJDUMP": objdump(go),
           "SYMABI_REDIRECT_PYTHON": sys.executable,
           "SYMABI_REDIRECT_CHECKER": str(Path(__file__).with_name("redirect_check.py"))}
    return Overlay((f"-overlay={into / 'overlay.json'}", f"-toolexec=bash {CHECKER}"), env, report)


@lru_cache(maxsize=4)
def objdump(go: Path) -> str:
    """The toolchain's disassembler (not shipped prebuilt: `go tool` builds it once into the user's cache)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GO", "CGO_"))}
    try:
        proc = subprocess.run([str(go), "tool", "-n", "objdump"], env=env, check=False, capture_output=True,
                              text=True, timeout=TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolchainError(f"cannot find go tool objdump: {exc}") from None
    if proc.returncode != 0 or not proc.stdout.strip():
        raise ToolchainError(f"cannot find go tool objdump: {(proc.stderr or proc.stdout).strip()[-400:]}")
    return proc.stdout.strip()


def report_of(overlay: Overlay) -> str:
    if overlay.report.is_file():
        return " ".join(overlay.report.read_text().split("\n")).strip()
    return "the runtime came from the build cache: checked when it was built (the check is part of its tool IDs)"
