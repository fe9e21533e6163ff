"""Assemble a Go tree's runtime for one port (GOOS/GOARCH, symabi.ports) the way the Go build does.

Three steps, each through the tree's own ``go`` command, offline, in a private GOCACHE and GOPATH:

1. ``go build -n -a PKG...`` prints the build plan without running it: the assembler command line of
   every ``.s`` file (its ``-p``, ``-I``, ``-D`` and other flags), exactly as a build would run it.
2. ``go build -a -work -x PKG`` builds a package whose assembly includes ``go_asm.h`` and keeps its
   work folder: the compiler's ``-asmhdr`` output there is the tree's real generated ``go_asm.h``
   (offsets, sizes and constants of the tree's own Go declarations). It is cached by the content of
   every file the package is compiled from, so the next run with an unchanged tree skips the build.
3. symabi's front-end runs that assembler command with ``-S`` on the file, with the work folder
   replaced by the folder holding the generated header, and parses the listing.

Code that only a ``-race`` build assembles (race_amd64.s) comes from a second plan, ``go build -n -a
-race``, on the ports whose toolchain supports -race; it uses the same go_asm.h (the runtime's layout does
not depend on -race).
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from symabi.cache import CACHE_ENV_VAR, cache_root, enabled, file_digests  # noqa: F401 - CACHE_ENV_VAR re-exported for tests
from symabi.errors import ToolchainError
from symabi.frontend import AssembleRequest, Listing, assemble
from symabi.ports import DEFAULT_PORT, PORTS, Port
from symabi.toolchain import GoToolchain

GO_TIMEOUT_S = 600
_WORK = re.compile(r"\$WORK/(b\d+)/?")
_INCLUDES_GO_ASM = re.compile(r'^\s*#\s*include\s+"go_asm\.h"', re.M)


@dataclass(frozen=True)
class AsmCommand:
    """One assembler invocation of the Go build's plan, as printed by ``go build -n``."""

    package: str  # import path (the -p value)
    directory: Path  # the package's folder in the tree
    source: str  # the file name, e.g. "sys_windows_amd64.s"
    includes: tuple[str, ...]  # -I values as printed; "$WORK/b001/" is the package's generated headers
    defines: tuple[str, ...]  # -D values
    flags: tuple[str, ...]  # every other flag but -o and -trimpath (which only renames $WORK paths)

    @property
    def path(self) -> Path:
        return self.directory / self.source


@dataclass
class Tree:
    """A Go tree prepared for assembling: its toolchain, its build plan and its generated headers."""

    goroot: Path
    toolchain: GoToolchain  # the tree's go command, GOROOT, version and assembler
    commands: dict[tuple[str, str], AsmCommand]  # (package, file name) -> command
    env: dict[str, str]
    headers: dict[str, Path] = field(default_factory=dict)  # package -> folder holding its go_asm.h
    scratch: Path | None = None
    port: Port = PORTS[DEFAULT_PORT]
    race_commands: dict[tuple[str, str], AsmCommand] | None = None  # the -race plan; None: not planned
    race_error: str = ""  # why there is no -race plan (the toolchain's words)
    workdir: Path | None = None  # where go commands run (a module's root); None: the scratch folder

    @property
    def cwd(self) -> Path:
        return self.workdir or self.scratch

    def command(self, package: str, source: str, race: bool = False) -> AsmCommand | None:
        return ((self.race_commands or {}) if race else self.commands).get((package, source))

    def files(self, package: str, race: bool = False) -> list[str]:
        """The assembly files the plan assembles for ``package``."""
        return sorted(f for p, f in ((self.race_commands or {}) if race else self.commands) if p == package)


def go_env(goroot: Path, scratch: Path, port: Port = PORTS[DEFAULT_PORT]) -> dict[str, str]:
    """The environment of every go command: the target, offline, private caches, no user settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GO", "CGO_"))}
    env.update(GOROOT=str(goroot), GOOS=port.goos, GOARCH=port.goarch, CGO_ENABLED="1", GOFLAGS="", GOENV="off",
               GOTOOLCHAIN="local", GOPROXY="off", GOSUMDB="off", GOWORK="off", GOTELEMETRY="off",
               GOCACHE=str(_gocache(scratch)), GOPATH=str(scratch / "gopath"))
    return env


def _gocache(scratch: Path) -> Path:
    """symabi's own Go build cache: Go keys it by content, so every tree and port can share it; a fresh
    one costs the first go command ~0.15 s to create and the run as long to delete."""
    return cache_root() / "gocache" if enabled() else scratch / "gocache"


def _run(cmd: list[str], env: dict[str, str], cwd: Path, what: str) -> subprocess.CompletedProcess:
    try:
        proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=GO_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise ToolchainError(f"{what} did not finish in {GO_TIMEOUT_S} s") from None
    except OSError as exc:
        raise ToolchainError(f"cannot run {cmd[0]}: {exc}") from None
    if proc.returncode != 0:
        detail = "\n  ".join((proc.stderr or proc.stdout).strip().splitlines()[-15:]) or f"exit {proc.returncode}"
        raise ToolchainError(f"{what} failed:\n  {detail}")
    return proc


def require_tree(goroot: Path) -> Path:
    goroot = goroot.resolve()
    if not (goroot / "src" / "runtime").is_dir():
        raise ToolchainError(f"{goroot} is not a Go tree (it has no src/runtime)")
    return goroot


def open_tree(goroot: Path, fallback_go: Path, packages: tuple[str, ...], scratch: Path,
              port: Port = PORTS[DEFAULT_PORT], race_packages: tuple[str, ...] = ()) -> Tree:
    """Query the tree's toolchain and plan the assembly of ``packages`` (steps 1 and 2 of the module doc),
    and of ``race_packages`` as a -race build does."""
    goroot = require_tree(goroot)
    own = goroot / "bin" / "go"
    go = own if own.is_file() else fallback_go
    scratch.mkdir(parents=True, exist_ok=True)
    env = go_env(goroot, scratch, port)
    # the four questions are independent: asked at once (each go command starts in ~0.05 s)
    with ThreadPoolExecutor(4) as pool:
        asked = [pool.submit(_run, [str(go), "env", "GOVERSION", "GOTOOLDIR"], env, scratch, f"`go env` in {goroot}"),
                 pool.submit(_run, [str(go), "list", "-f", "{{.ImportPath}} {{.Dir}}", *packages], env, scratch,
                             "`go list`"),
                 pool.submit(_run, [str(go), "build", "-n", "-a", *packages], env, scratch,
                             "`go build -n` (the build plan)")]
        if race_packages:
            asked.append(pool.submit(_run, [str(go), "build", "-n", "-a", "-race", *race_packages], env, scratch,
                                     f"`go build -n -race` for {port.name}"))
    out = asked[0].result().stdout.split()
    if len(out) < 2:
        raise ToolchainError(f"`{go} env` printed no version and tool folder for {goroot}")
    version, tooldir = out[0], Path(out[1])
    if not (tooldir / "asm").is_file():
        raise ToolchainError(f"the tree {goroot} has no built toolchain: no assembler at {tooldir / 'asm'}")
    toolchain = GoToolchain(go=go, goroot=goroot, version=version, asm=tooldir / "asm")
    listed = asked[1].result().stdout
    dirs = dict(line.split(" ", 1) for line in listed.splitlines() if " " in line)
    plan = asked[2].result()
    commands = parse_plan(plan.stdout + plan.stderr, tooldir / "asm", {p: Path(d) for p, d in dirs.items()})
    tree = Tree(goroot, toolchain, commands, env, scratch=scratch, port=port)
    if race_packages:
        try:
            race = asked[3].result()
            tree.race_commands = parse_plan(race.stdout + race.stderr, tooldir / "asm",
                                            {p: Path(d) for p, d in dirs.items()})
        except ToolchainError as exc:  # "-race is not supported on openbsd/amd64": said per entry, not fatal
            tree.race_error = str(exc).split("\n", 1)[-1].strip()
    return tree


def parse_plan(text: str, asm: Path, dirs: dict[str, Path]) -> dict[tuple[str, str], AsmCommand]:
    """The assembler command lines of a ``go build -n`` plan (not its -gensymabis passes)."""
    commands = {}
    for line in text.splitlines():
        if not line.startswith(str(asm) + " "):
            continue
        words = shlex.split(line)[1:]
        if "-gensymabis" in words:
            continue
        package, includes, defines, flags, sources = "", [], [], [], []
        it = iter(words)
        for word in it:
            if word in ("-p", "-I", "-D", "-o", "-trimpath"):
                value = next(it)
                if word == "-p":
                    package = value
                elif word == "-I":
                    includes.append(value)
                elif word == "-D":
                    defines.append(value)
            elif word.startswith("-"):
                flags.append(word)
            else:
                sources.append(word)
        if package in dirs:
            for source in sources:
                name = Path(source).name
                commands[(package, name)] = AsmCommand(package, dirs[package], name, tuple(includes),
                                                       tuple(defines), tuple(flags))
    return commands


def needs_go_asm_h(command: AsmCommand) -> bool:
    try:
        return bool(_INCLUDES_GO_ASM.search(command.path.read_text(errors="replace")))
    except OSError:
        return False


def _source_key(tree: Tree, package: str) -> str:
    """A hash of everything the package's go_asm.h is made from: the compiler, the target and every file
    in the folders of the package and its dependencies."""
    listed = _run([str(tree.toolchain.go), "list", "-deps", "-f", "{{.ImportPath}} {{.Dir}}", package], tree.env,
                  tree.cwd, "`go list -deps`").stdout
    deps = sorted(line.split(" ", 1) for line in listed.splitlines() if " " in line)
    digest = hashlib.sha256()
    for part in (tree.toolchain.version, tree.port.goos, tree.port.goarch, package):
        digest.update(part.encode() + b"\0")
    files = [("compile", tree.toolchain.asm.parent / "compile")]
    files += [(f"{path}/{p.name}", p) for path, d in deps for p in sorted(Path(d).iterdir()) if p.is_file()]
    contents = file_digests([path for _, path in files], "go_asm_h-sources")
    for (name, _), content in zip(files, contents):  # import paths, not folders: a copy of the tree has the same key
        digest.update(name.encode() + b"\0" + content + b"\0")
    return digest.hexdigest()[:32]


def generate_header(tree: Tree, package: str) -> tuple[Path, bool]:
    """The folder holding the package's generated go_asm.h, and whether it came from the cache."""
    if package in tree.headers:
        return tree.headers[package], True
    cached = cache_root() / "go_asm_h" / _source_key(tree, package)
    if (cached / "go_asm.h").is_file():
        tree.headers[package] = cached
        return cached, True
    proc = _run([str(tree.toolchain.go), "build", "-a", "-work", "-x", package], tree.env, tree.cwd,
                f"`go build -a {package}` (for its go_asm.h)")
    work = re.search(r"^WORK=(\S+)$", proc.stderr, re.M)
    header = None
    for line in proc.stderr.splitlines():
        words = line.split()
        if "-asmhdr" in words and "-p" in words and words[words.index("-p") + 1] == package:
            header = words[words.index("-asmhdr") + 1]
    if work is None or header is None:
        raise ToolchainError(f"`go build -x {package}` printed no work folder or no -asmhdr for {package}")
    source = Path(header.replace("$WORK", work.group(1)))
    try:
        cached.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=cached, delete=False) as tmp:
            tmp.write(source.read_bytes())
        os.replace(tmp.name, cached / "go_asm.h")
    finally:
        shutil.rmtree(work.group(1), ignore_errors=True)
    tree.headers[package] = cached
    return cached, False


def request(tree: Tree, command: AsmCommand) -> AssembleRequest:
    """The Go build's command for one file, with the package's work folder replaced by its headers."""
    includes = []
    for value in command.includes:
        if _WORK.fullmatch(value):
            if command.package in tree.headers:
                includes.append(tree.headers[command.package])
        elif Path(value).resolve() != tree.toolchain.include_dir.resolve():  # added by the front-end
            includes.append(Path(value))
    goos, goarch = tree.port.goos, tree.port.goarch
    defines = tuple(d for d in command.defines if d not in (f"GOOS_{goos}", f"GOARCH_{goarch}"))
    return AssembleRequest(command.path, tuple(includes), defines, command.package, goos, goarch, command.flags)


def assemble_file(tree: Tree, command: AsmCommand) -> Listing:
    return assemble(tree.toolchain, request(tree, command))


def constants(tree: Tree, command: AsmCommand, also: tuple[Path, ...] = ()) -> dict[str, int]:
    """Integer #defines the file can use: the package's go_asm.h, then the file's own, then those of the
    files in ``also`` (another file of the tree that defines a layout the world needs, e.g. the TEB's)."""
    values: dict[str, int] = {}
    texts = []
    if command.package in tree.headers:
        texts.append((tree.headers[command.package] / "go_asm.h").read_text(errors="replace"))
    texts.append(command.path.read_text(errors="replace"))
    texts += [path.read_text(errors="replace") for path in also if path.is_file()]
    for text in texts:
        for name, value in re.findall(r"^\s*#\s*define\s+(\w+)\s+(-?(?:0x[0-9a-fA-F]+|\d+))\s*(?://.*)?$", text, re.M):
            values[name] = int(value, 0)
    return values
