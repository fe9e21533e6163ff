"""Run the real Go assembler (``go tool asm -S``) for windows/amd64 and parse what it prints."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from symabi.errors import AssemblerError
from symabi.frontend.listing import Listing, ListingFormatError, parse_listing
from symabi.toolchain import GoToolchain

ASSEMBLE_TIMEOUT_S = 120
_UNBALANCED = re.compile(r"^asm: (?P<symbol>\S+): (?P<message>.*)$")


@dataclass(frozen=True)
class AssembleRequest:
    source: Path
    include_dirs: tuple[Path, ...] = ()
    defines: tuple[str, ...] = ()  # -D values, e.g. "GOOS_windows"
    package: str | None = None  # -p; "runtime" also needs -std for ABI selectors
    goos: str = "windows"
    goarch: str = "amd64"
    extra_flags: tuple[str, ...] = field(default=())

    def command(self, toolchain: GoToolchain, output: Path) -> list[str]:
        cmd = [str(toolchain.asm), "-S", "-o", str(output)]
        if self.package:
            cmd += ["-p", self.package]
            if self.package == "runtime" or self.package.startswith("runtime/"):
                cmd.append("-std")
        for inc in (*self.include_dirs, toolchain.include_dir):
            cmd += ["-I", str(inc)]
        for d in (f"GOOS_{self.goos}", f"GOARCH_{self.goarch}", *self.defines):
            cmd += ["-D", d]
        cmd += list(self.extra_flags)
        cmd.append(self.source.name)
        return cmd


def _locate_text(source: Path, symbol: str) -> str:
    """Map a symbol-level diagnostic ("asm: x: unbalanced PUSH/POP") to the TEXT line that defines x."""
    try:
        lines = source.read_text(errors="replace").splitlines()
    except OSError:
        return source.name
    short = symbol.split(".")[-1]
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped.startswith("TEXT") and re.search(rf"[·.]?{re.escape(short)}(<[^>]*>)?\(SB\)", stripped):
            return f"{source.name}:{number}"
    return source.name


def _diagnostics(source: Path, stderr: str) -> list[str]:
    out = []
    for line in stderr.splitlines():
        line = line.rstrip()
        if not line or line == "asm: assembly failed":
            continue
        if m := _UNBALANCED.match(line):
            out.append(f"{_locate_text(source, m['symbol'])}: {m['symbol']}: {m['message']}")
        else:
            out.append(line)
    return out


def assemble(toolchain: GoToolchain, request: AssembleRequest) -> Listing:
    """Assemble one source file; raise AssemblerError carrying the assembler's own file:line messages."""
    if not request.source.is_file():
        raise AssemblerError(f"{request.source}: no such assembly file")
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
        messages = _diagnostics(request.source, proc.stderr) or [f"exit status {proc.returncode}"]
        raise AssemblerError("the Go assembler rejected the source:\n  " + "\n  ".join(messages))
    try:
        return parse_listing(proc.stdout)
    except ListingFormatError as exc:
        raise AssemblerError(f"{request.source}: cannot read the assembler's listing ({toolchain.version}): {exc}") from None
