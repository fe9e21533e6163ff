"""Run the real Go assembler (``go tool asm -S``) for a port (GOOS/GOARCH, windows/amd64 by default) and
parse what it prints."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from symabi import cache
from symabi.errors import AssemblerError
from symabi.frontend.listing import Listing, ListingFormatError, parse_listing
from symabi.frontend.dialects import modern
from symabi.ports import DEFAULT_PORT, PORTS
from symabi.toolchain import GoToolchain

ASSEMBLE_TIMEOUT_S = 120
_UNBALANCED = re.compile(r"^asm: (?P<symbol>\S+): (?P<message>.*)$")
_FAILED = re.compile(r"^asm: assembly (?:of \S+ )?failed$")  # the summary line, after the real messages
_AT = re.compile(r"^(?P<file>[^\s:]+):(?P<rest>\d+:.*)$")  # "asm_amd64.s:37: ..."


@dataclass(frozen=True)
class AssembleRequest:
    source: Path
    include_dirs: tuple[Path, ...] = ()
    defines: tuple[str, ...] = ()  # -D values, e.g. "GOOS_windows"
    package: str | None = None  # -p; "runtime" also needs -std (go1.21: -compiling-runtime) for ABI selectors
    goos: str = PORTS[DEFAULT_PORT].goos
    goarch: str = PORTS[DEFAULT_PORT].goarch
    extra_flags: tuple[str, ...] = field(default=())

    def command(self, toolchain: GoToolchain, output: Path) -> list[str]:
        cmd = [str(toolchain.asm), "-S", "-o", str(output)]
        if self.package:
            cmd += ["-p", self.package]
            runtime = self.package == "runtime" or self.package.startswith("runtime/")
            if runtime and not set(self.extra_flags) & set(_RUNTIME_FLAGS):  # a build plan's flags say it
                cmd += _runtime_flag(toolchain.asm)
        for inc in (*self.include_dirs, toolchain.include_dir):
            cmd += ["-I", str(inc.resolve())]  # the assembler runs in the source folder
        for d in (f"GOOS_{self.goos}", f"GOARCH_{self.goarch}", *self.defines):
            cmd += ["-D", d]
        cmd += list(self.extra_flags)
        cmd.append(self.source.name)
        return cmd


_RUNTIME_FLAGS = ("-std", "-compiling-runtime")  # go1.22 renamed go1.21's -compiling-runtime to -std


@lru_cache(maxsize=16)
def _runtime_flag(asm: Path) -> list[str]:
    """The flag this assembler takes for runtime code (ABI selectors, as the build passes it), read from
    its own usage text: never guessed from a version number."""
    try:
        usage = subprocess.run([str(asm), "-h"], capture_output=True, text=True, timeout=ASSEMBLE_TIMEOUT_S).stderr
    except (OSError, subprocess.TimeoutExpired):
        return ["-std"]  # running it for real will say what is wrong
    listed = set(re.findall(r"^\s+(-[\w-]+)", usage, re.M))
    return next(([f] for f in _RUNTIME_FLAGS if f in listed), [])


def _active(lines: list[str], defines: set[str]) -> list[bool]:
    """Which lines the assembler's preprocessor keeps (#ifdef/#ifndef/#else/#endif; an #if counts as kept)."""
    defined, stack, out = set(defines), [], []  # stack: (this branch active, condition known)
    for line in lines:
        active = all(s[0] for s in stack)
        words = line.strip().lstrip("#").split() if line.lstrip().startswith("#") else []
        kind, arg = (words + ["", ""])[:2]
        if kind in ("ifdef", "ifndef"):
            stack.append(((arg in defined) == (kind == "ifdef"), True))
        elif kind == "if":
            stack.append((True, False))
        elif kind == "else" and stack:
            taken, known = stack.pop()
            stack.append((not taken or not known, known))
        elif kind == "endif" and stack:
            stack.pop()
        elif kind == "define" and active:
            defined.add(arg.split("(")[0])
        elif kind == "undef" and active:
            defined.discard(arg)
        out.append(active)
    return out


def _locate_text(source: Path, symbol: str, defines: set[str] = frozenset()) -> str:
    """Map a symbol-level diagnostic ("asm: x: unbalanced PUSH/POP") to the TEXT line that defines x.

    A source may define the symbol once per #ifdef branch (crosscall2 does): the line the assembler
    kept under our -D defines wins.
    """
    try:
        lines = source.read_text(errors="replace").splitlines()
    except OSError:
        return source.name
    short = symbol.split(".")[-1]
    pattern = re.compile(rf"^TEXT\s+(?:\S*[·.])?{re.escape(short)}(?:<[^>]*>)?\(SB\)")
    matches = [n for n, line in enumerate(lines, 1) if pattern.match(line.strip())]
    if not matches:
        return source.name
    active = _active(lines, defines)
    kept = [n for n in matches if active[n - 1]]
    return f"{source.name}:{(kept or matches)[0]}"


def _where(folder: Path, file: str) -> str:
    """The assembler runs in the source's folder; name its files so an editor can open them from here."""
    path = folder / file
    if not path.is_file():
        return file
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _diagnostics(request: AssembleRequest, stderr: str) -> list[str]:
    defines = {f"GOOS_{request.goos}", f"GOARCH_{request.goarch}", *(d.split("=")[0] for d in request.defines)}
    out = []
    for line in stderr.splitlines():
        line = line.rstrip()
        if not line or _FAILED.match(line):
            continue
        if m := _UNBALANCED.match(line):
            line = f"{_locate_text(request.source, m['symbol'], defines)}: {m['symbol']}: {m['message']}"
        if m := _AT.match(line):
            line = f"{_where(request.source.parent, m['file'])}:{m['rest']}"
        out.append(line)
    return out


_INCLUDE = re.compile(r'^\s*#\s*include\s+[<"]([^">]+)[">]', re.M)


def _included_files(request: AssembleRequest, toolchain: GoToolchain) -> list[Path]:
    """Every file the source includes, transitively, found as the assembler finds it: beside the including
    file first, then in each -I folder."""
    found: list[Path] = []
    pending = [request.source]
    while pending:
        current = pending.pop()
        try:
            text = current.read_text(errors="replace")
        except OSError:
            continue
        for name in _INCLUDE.findall(text):
            for folder in (current.parent, *request.include_dirs, toolchain.include_dir):
                candidate = folder / name
                if candidate.is_file():
                    if candidate not in found:
                        found.append(candidate)
                        pending.append(candidate)
                    break
    return found


def _cache_key(toolchain: GoToolchain, request: AssembleRequest) -> str:
    """Everything the listing depends on: the assembler, the flags, the source and every file it includes."""
    digest = hashlib.sha256()
    try:
        asm = toolchain.asm.stat()
        stamp = f"{asm.st_size}:{int(asm.st_mtime)}"
    except OSError:
        stamp = "missing"  # running it will say so
    flags = [a for a in request.command(toolchain, Path("out.o")) if not a.startswith("/")]
    for part in (toolchain.version, stamp, *flags):
        digest.update(part.encode() + b"\0")
    digest.update(request.source.read_bytes() + b"\0")
    for included in _included_files(request, toolchain):
        digest.update(included.name.encode() + b"\0" + included.read_bytes() + b"\0")
    return digest.hexdigest()[:40]


def request_for(case, version) -> AssembleRequest:
    """How a case's version is assembled: its source, include folders and defines, for the case's port
    (``case``: a ``symabi.casefile.Case``; ``version``: one of its ``VersionSpec``)."""
    port = PORTS[case.port]
    return AssembleRequest(version.source, version.include_dirs, case.defines, case.package, port.goos, port.goarch)


def assemble(toolchain: GoToolchain, request: AssembleRequest) -> Listing:
    """Assemble one source file (or reuse the listing of identical input); raise AssemblerError carrying the
    assembler's own file:line messages."""
    if not request.source.is_file():
        raise AssemblerError(f"{request.source}: no such assembly file")
    cached = cache.cache_root() / "listings" / f"{_cache_key(toolchain, request)}.txt" if cache.enabled() else None
    if cached is not None and cached.is_file():
        try:
            return parse_listing(modern(cached.read_text(), toolchain.goroot, request.package))
        except (OSError, ListingFormatError):
            pass  # a damaged entry is rebuilt below
    listing_text = modern(_run_assembler(toolchain, request), toolchain.goroot, request.package)
    try:
        listing = parse_listing(listing_text)
    except ListingFormatError as exc:
        raise AssemblerError(f"{request.source}: cannot read the assembler's listing ({toolchain.version}): {exc}") from None
    if cached is not None:
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            partial = cached.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(listing_text)
            partial.replace(cached)  # atomic: a concurrent reader sees the old entry or the whole new one
        except OSError:
            pass  # a read-only or full cache only costs speed
    return listing


def _run_assembler(toolchain: GoToolchain, request: AssembleRequest) -> str:
    env = dict(os.environ, GOOS=request.goos, GOARCH=request.goarch, GOROOT=str(toolchain.goroot))
    with tempfile.TemporaryDirectory(prefix="symabi-asm-") as tmp:
        cmd = request.command(toolchain, Path(tmp) / "out.o")
        try:
            proc = subprocess.run(
                cmd, cwd=request.source.parent, capture_output=True, text=True, timeout=ASSEMBLE_TIMEOUT_S, env=env
            )
        except subprocess.TimeoutExpired:
            raise AssemblerError(f"{request.source}: the Go assembler did not finish in {ASSEMBLE_TIMEOUT_S} s") from None
        except OSError as exc:
            raise AssemblerError(f"cannot run the Go assembler {toolchain.asm}: {exc}") from None
    if proc.returncode != 0:
        messages = _diagnostics(request, proc.stderr) or [f"exit status {proc.returncode}"]
        raise AssemblerError("the Go assembler rejected the source:\n  " + "\n  ".join(messages))
    return proc.stdout
