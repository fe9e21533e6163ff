"""Older Go releases: what their assemblers print differently, and the registry's release-keyed data.

No toolchain is downloaded here: the listings are written out as go1.21-go1.23 print them, and the
registry is read as a release of each age would see it."""

from __future__ import annotations

from pathlib import Path

import pytest

from symabi.errors import AssemblerError
from symabi.frontend import AssembleRequest
from symabi.frontend.dialects import modern, parse
from symabi.frontend.listing import parse_listing

RELOCTYPE_GO = """package objabi

type RelocType int16

const (
	R_ADDR RelocType = 1 + iota
	// R_ADDRPOWER is a comment between names
	R_ADDRPOWER
	R_CALL // with a trailing comment

	R_PCREL
	R_WEAK = -1 << 15
	R_LATE
)
"""

# go1.21: numeric relocation types and the "" package placeholder; go1.22/23: a position-less PCALIGN
OLD_LISTING = """"".f STEXT nosplit size=10 args=0x0 locals=0x0 funcid=0x0 align=0x0
\t0x0000 00000 (a.s:3)\tTEXT\t"".f(SB), NOSPLIT, $0-0
\t0x0000 00000 (a.s:4)\tCALL\t"".g(SB)
\t0x0005 00005 (a.s:5)\tJMP\tx·y(SB)
\t0x05eb 01515 (<unknown line number>)\tPCALIGN\t$16
\t0x0000 e8 00 00 00 00 e9 00 00 00 00                    ..........
\trel 1+4 t=3 "".g+0
\trel 6+4 t=4 x.y+0
"""


def _tree(tmp_path: Path, text: str = RELOCTYPE_GO) -> Path:
    source = tmp_path / "src/cmd/internal/objabi/reloctype.go"
    source.parent.mkdir(parents=True)
    source.write_text(text)
    return tmp_path


def test_reloc_numbers_count_the_iota_run_only():
    assert parse(RELOCTYPE_GO) == {1: "R_ADDR", 2: "R_ADDRPOWER", 3: "R_CALL", 4: "R_PCREL"}


def test_pinned_toolchains_reloc_numbers(toolchain):
    table = parse((toolchain.goroot / "src/cmd/internal/objabi/reloctype.go").read_text())
    assert table[1] == "R_ADDR" and "R_CALL" in table.values() and "R_TLS_LE" in table.values()


def test_an_old_listing_reads_as_a_new_one(tmp_path):
    listing = parse_listing(modern(OLD_LISTING, _tree(tmp_path), "runtime"))
    (symbol,) = listing.symbols
    assert symbol.name == "runtime.f"
    assert [(r.type, r.target) for r in symbol.relocations] == [("R_CALL", "runtime.g"), ("R_PCREL", "x.y")]
    assert [i.line for i in symbol.instructions] == [3, 4, 5]  # the PCALIGN without a line is gone


def test_a_new_listing_is_left_alone(tmp_path):
    new = OLD_LISTING.replace("t=3", "t=R_CALL").replace("t=4", "t=R_PCREL")
    new = "\n".join(line for line in new.splitlines() if "unknown line" not in line) + "\n"
    assert modern(new, tmp_path / "no-tree", None) == new  # no reloctype.go needed


def test_an_unnamed_reloc_number_is_a_clear_error(tmp_path):
    with pytest.raises(AssemblerError, match="relocation type 9 is not in"):
        modern(OLD_LISTING.replace("t=4", "t=9"), _tree(tmp_path), "runtime")
    with pytest.raises(AssemblerError, match="cannot be read"):
        modern(OLD_LISTING, tmp_path / "no-tree", "runtime")


def test_a_build_plans_runtime_flag_is_not_doubled(toolchain):
    old = AssembleRequest(Path("a.s"), package="runtime", extra_flags=("-compiling-runtime",))
    cmd = old.command(toolchain, Path("o.o"))
    assert "-std" not in cmd and cmd.count("-compiling-runtime") == 1
