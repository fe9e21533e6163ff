"""A Go module's packages as ``go build`` assembles them for one port.

The same three steps as the gate's Go tree (``symabi.gate.build``), run in the module's root: ``go list``
names the packages a pattern matches and their folders, ``go build -n -a`` prints the plan (every
``.s`` file's assembler command: its -p, -I, -D and other flags, as the build would run it, for the
port and the build tags in $GOFLAGS), and ``go build -a -work -x`` of a package that includes
``go_asm.h`` yields the compiler's real header for it (cached by the content of everything it is
made from). The user's $GOFLAGS (e.g. ``-tags=...``) and $CGO_ENABLED are kept; everything else is
as the gate runs go.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from symabi.errors import SymabiError
from symabi.gate import build
from symabi.ports import Port
from symabi.toolchain import GoToolchain

MODULE_FILE = "go.mod"


class ModuleError(SymabiError):
    pass


@dataclass(frozen=True)
class Module:
    root: Path
    path: str  # the module path of go.mod's `module` line


@dataclass(frozen=True)
class Package:
    import_path: str
    directory: Path
    sfiles: tuple[str, ...]  # the .s files the port's build assembles
    gofiles: tuple[str, ...]


def find_module(start: Path) -> Module:
    """The module whose go.mod is in ``start`` or the nearest folder above it."""
    start = start.resolve()
    for folder in (start, *start.parents):
        gomod = folder / MODULE_FILE
        if gomod.is_file():
            m = re.search(r"^\s*module\s+\"?([^\s\"]+)\"?", gomod.read_text(errors="replace"), re.M)
            if m is None:
                raise ModuleError(f"{gomod} has no module line")
            return Module(folder, m.group(1))
    raise ModuleError(f"no go.mod in {start} or any folder above it: run symabi check inside a Go module")


def module_env(toolchain: GoToolchain, scratch: Path, port: Port) -> dict[str, str]:
    env = build.go_env(toolchain.goroot, scratch, port)
    for name in ("GOFLAGS", "CGO_ENABLED"):
        if name in os.environ:
            env[name] = os.environ[name]
    if "CGO_ENABLED" not in os.environ:
        env["CGO_ENABLED"] = "0"  # what a cross build does by default; cgo code needs the target's C compiler
    return env


def packages(module: Module, toolchain: GoToolchain, patterns: tuple[str, ...], port: Port,
             scratch: Path) -> list[Package]:
    env = module_env(toolchain, scratch, port)
    proc = build._run([str(toolchain.go), "list", "-e", "-json=ImportPath,Dir,SFiles,GoFiles,Error", *patterns],
                      env, module.root, f"`go list {' '.join(patterns)}` for {port.name}")
    out = []
    for raw in _json_stream(proc.stdout):
        if raw.get("Error") and not raw.get("Dir"):
            raise ModuleError(f"go list: {raw['Error'].get('Err', raw['Error'])}")
        out.append(Package(raw["ImportPath"], Path(raw["Dir"]), tuple(raw.get("SFiles") or ()),
                           tuple(raw.get("GoFiles") or ())))
    return out


def _json_stream(text: str):
    decoder, at = json.JSONDecoder(), 0
    while at < len(text):
        while at < len(text) and text[at].isspace():
            at += 1
        if at >= len(text):
            break
        value, at = decoder.raw_decode(text, at)
        yield value


def plan(module: Module, toolchain: GoToolchain, chosen: list[Package], port: Port, scratch: Path) -> build.Tree:
    """The build plan of ``chosen`` (packages with assembly) for ``port``, as a tree rooted at the module."""
    env = module_env(toolchain, scratch, port)
    names = [p.import_path for p in chosen]
    proc = build._run([str(toolchain.go), "build", "-n", "-a", *names], env, module.root,
                      f"`go build -n` (the build plan) for {port.name}")
    commands = build.parse_plan(proc.stdout + proc.stderr, toolchain.asm, {p.import_path: p.directory for p in chosen})
    return build.Tree(toolchain.goroot, toolchain, commands, env, scratch=scratch, port=port, workdir=module.root)
