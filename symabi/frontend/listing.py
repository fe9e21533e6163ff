"""Parse the Go assembler's ``-S`` listing into symbols, bytes, relocations and source lines.

The listing is the assembler's own account of what it emitted, so everything downstream (bytes to
lift, relocations to resolve, file:line for reports) comes from one place. Its shape, per symbol::

    name STEXT nosplit size=44 args=0x0 locals=0x118 funcid=0x0
        0x0000 00000 (a.s:3)   TEXT    crosscall2(SB), NOSPLIT, $280-0
        0x0000 00000 (a.s:3)   PUSHQ   BP
        ...
        0x0000 55 48 89 e5 48 81 ec 10 01 00 00 48 89 5c 24 18  UH..H......H.\\$.
        rel 26+4 t=R_CALL runtime.cgocallback+0
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_HEADER = re.compile(r"^(?P<name>\S+) (?P<kind>S[A-Z]+)\b(?P<attrs>.*)$")
_INSTRUCTION = re.compile(r"^\t0x(?P<off>[0-9a-f]+) (?P<dec>\d{5}) \((?P<file>.+):(?P<line>\d+)\)\t(?P<text>.*)$")
_HEX = re.compile(r"^\t0x(?P<off>[0-9a-f]+)(?P<bytes>(?: [0-9a-f]{2})+)")
_RELOC = re.compile(r"^\trel (?P<off>\d+)\+(?P<size>\d+) t=(?P<type>\S+)(?: (?P<target>.*?)\+(?P<add>-?\d+))?$")
# A marker relocation has no target: "rel 0+0 t=R_CALLIND +0" (CALL AX).


@dataclass(frozen=True)
class Relocation:
    offset: int  # within the symbol
    size: int
    type: str  # R_CALL, R_PCREL, R_ADDR, ...
    target: str  # symbol name as the linker sees it ("runtime.cgocallback"); "" when none
    addend: int


@dataclass(frozen=True)
class Instruction:
    offset: int  # within the symbol
    file: str
    line: int
    text: str  # the assembler's own rendering, e.g. "MOVQ\tBX, 24(SP)"

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def is_pseudo(self) -> bool:
        # The TEXT line shares offset 0 with the first real instruction; it emits no bytes.
        return self.text.startswith(("TEXT\t", "TEXT "))


@dataclass(frozen=True)
class Symbol:
    name: str
    kind: str  # STEXT, SRODATA, SNOPTRDATA, ...
    attributes: str
    code: bytes
    relocations: tuple[Relocation, ...]
    instructions: tuple[Instruction, ...]

    @property
    def is_text(self) -> bool:
        return self.kind == "STEXT"

    @property
    def size(self) -> int:
        """The declared size (a BSS symbol has one but no bytes in the listing)."""
        m = re.search(r"\bsize=(\d+)", self.attributes)
        return max(len(self.code), int(m.group(1)) if m else 0)

    def real_instructions(self) -> tuple[Instruction, ...]:
        return tuple(i for i in self.instructions if not i.is_pseudo)


@dataclass(frozen=True)
class Listing:
    symbols: tuple[Symbol, ...]

    def text_symbols(self) -> tuple[Symbol, ...]:
        return tuple(s for s in self.symbols if s.is_text)

    def get(self, name: str) -> Symbol | None:
        return next((s for s in self.symbols if s.name == name), None)


@dataclass
class _Builder:
    name: str
    kind: str
    attributes: str
    code: bytearray = field(default_factory=bytearray)
    relocations: list[Relocation] = field(default_factory=list)
    instructions: list[Instruction] = field(default_factory=list)

    def build(self) -> Symbol:
        return Symbol(
            self.name, self.kind, self.attributes, bytes(self.code), tuple(self.relocations), tuple(self.instructions)
        )


class ListingFormatError(ValueError):
    """The listing does not have the shape this parser knows (a toolchain change, not user error)."""


def parse_listing(text: str) -> Listing:
    symbols: list[Symbol] = []
    current: _Builder | None = None
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if not line.startswith("\t"):
            header = _HEADER.match(line)
            if header is None:
                raise ListingFormatError(f"listing line {lineno}: unexpected text {line!r}")
            if current is not None:
                symbols.append(current.build())
            current = _Builder(header["name"], header["kind"], header["attrs"].strip())
            continue
        if current is None:
            raise ListingFormatError(f"listing line {lineno}: content before any symbol header")
        if m := _INSTRUCTION.match(line):
            current.instructions.append(Instruction(int(m["off"], 16), m["file"], int(m["line"]), m["text"].strip()))
        elif m := _HEX.match(line):
            offset = int(m["off"], 16)
            if offset != len(current.code):
                raise ListingFormatError(f"listing line {lineno}: bytes at 0x{offset:x}, expected 0x{len(current.code):x}")
            current.code.extend(bytes.fromhex(m["bytes"].replace(" ", "")))
        elif m := _RELOC.match(line):
            current.relocations.append(
                Relocation(int(m["off"]), int(m["size"]), m["type"], m["target"] or "", int(m["add"] or 0))
            )
        else:
            raise ListingFormatError(f"listing line {lineno}: unexpected text {line!r}")
    if current is not None:
        symbols.append(current.build())
    return Listing(tuple(symbols))
