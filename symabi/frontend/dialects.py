"""What an older Go assembler prints differently in its ``-S`` listing, rewritten to the newest form.

* Relocation types as numbers: go1.21 lists ``rel 3+4 t=14 sym+0`` where later releases print
  ``t=R_PCREL``. The numbers are positions in the ``RelocType`` constant block of that toolchain's own
  ``cmd/internal/objabi/reloctype.go`` (``R_ADDR RelocType = 1 + iota``, then one name a line); they
  shift between releases as types are added, so they are read from the tree, never from a table here.
* The package placeholder: go1.21 names the assembled package's own symbols ``"".name`` (the linker
  substitutes the ``-p`` path); later releases print ``runtime.name``.
* Position-less pseudo-instructions: go1.22 and go1.23 list the ``PCALIGN`` a loop's alignment inserts
  as ``0x05eb 01515 (<unknown line number>) PCALIGN $16``, with a stale offset and no line. It is not
  an instruction of the source (its padding bytes are in the hex dump, where they belong), so the
  line is dropped.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from symabi.errors import AssemblerError

_SOURCE = Path("src/cmd/internal/objabi/reloctype.go")
_FIRST = re.compile(r"^\s*(R_\w+)\s+RelocType\s*=\s*1\s*\+\s*iota\s*$")
_NAME = re.compile(r"^\s*(R_\w+)\s*$")
_NUMERIC = re.compile(r"^(\trel \d+\+\d+ t=)(\d+)\b", re.M)
_PLACEHOLDER = re.compile(r'(?<![\w"])""\.')
_NO_POSITION = re.compile(r"^\t0x[0-9a-f]+ \d{5} \(<unknown line number>\)\t.*\n?", re.M)


def parse(text: str) -> dict[int, str]:
    """Number -> name of the ``RelocType`` constants counted by iota (the block's implicit lines)."""
    names: dict[int, str] = {}
    position = None
    for raw in text.splitlines():
        line = raw.split("//", 1)[0]
        if position is None:
            if m := _FIRST.match(line):
                names[1], position = m[1], 1
            continue
        if not line.strip():
            continue
        m = _NAME.match(line)
        if m is None:  # an explicit value (R_WEAK = -1 << 15) or the block's end: iota's run is over
            break
        position += 1
        names[position] = m[1]
    return names


@lru_cache(maxsize=16)
def names(goroot: Path) -> dict[int, str]:
    try:
        table = parse((goroot / _SOURCE).read_text(errors="replace"))
    except OSError as exc:
        raise AssemblerError(f"the assembler prints relocation types as numbers and {goroot / _SOURCE}, "
                             f"which names them, cannot be read: {exc.strerror or exc}") from None
    if not table:
        raise AssemblerError(f"{goroot / _SOURCE} has no `R_ADDR RelocType = 1 + iota` block to name "
                             "the assembler's numeric relocation types")
    return table


def modern(listing: str, goroot: Path, package: str | None) -> str:
    """The listing as the newest assembler prints it (see the module's doc)."""
    listing = _NO_POSITION.sub("", listing)
    if package:
        listing = _PLACEHOLDER.sub(lambda m: f"{package}.", listing)
    return _name_numeric(listing, goroot)


def _name_numeric(listing: str, goroot: Path) -> str:
    """The listing with every numeric ``t=N`` replaced by the tree's name for N."""
    if not _NUMERIC.search(listing):
        return listing
    table = names(goroot)

    def named(m: re.Match) -> str:
        number = int(m[2])
        if number not in table:
            raise AssemblerError(f"relocation type {number} is not in {goroot / _SOURCE}")
        return m[1] + table[number]

    return _NUMERIC.sub(named, listing)
