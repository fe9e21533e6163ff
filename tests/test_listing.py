"""The assembler's ``-S`` listing, parsed: bytes, relocations, instructions with file:line."""

from __future__ import annotations

import pytest

from symabi.frontend import Relocation, parse_listing
from symabi.frontend.listing import ListingFormatError

SNIPPET = """
TEXT ·f(SB),NOSPLIT|NOFRAME,$0-0
	MOVQ	AX, BX
	CALL	runtime·foo(SB)
	LEAQ	runtime·bar-4(SB), AX
	MOVQ	runtime·baz+8(SB), CX
	RET

DATA ·tab+0(SB)/8, $·f+2(SB)
GLOBL ·tab(SB), RODATA, $8
"""


@pytest.fixture
def listing(assemble_snippet):
    return assemble_snippet(SNIPPET)


def test_real_listing_bytes(listing):
    f = listing.get("x.f")
    assert f is not None and f.is_text and f.kind == "STEXT"
    assert f.code == bytes.fromhex(
        "4889c3"  # MOVQ AX, BX
        "e800000000"  # CALL runtime.foo (displacement left for the relocation)
        "488d0500000000"  # LEAQ runtime.bar-4(SB), AX
        "488b0d00000000"  # MOVQ runtime.baz+8(SB), CX
        "c3"  # RET
    )
    assert f.size == len(f.code) == 23


def test_real_listing_relocations(listing):
    f = listing.get("x.f")
    assert f.relocations == (
        Relocation(offset=4, size=4, type="R_CALL", target="runtime.foo", addend=0),
        Relocation(offset=11, size=4, type="R_PCREL", target="runtime.bar", addend=-4),  # "runtime.bar+-4"
        Relocation(offset=18, size=4, type="R_PCREL", target="runtime.baz", addend=8),
    )


def test_real_listing_data_symbol(listing):
    tab = listing.get("x.tab")
    assert tab is not None and tab.kind == "SRODATA" and not tab.is_text
    assert tab.code == bytes(8)
    assert tab.relocations == (Relocation(0, 8, "R_ADDR", "x.f", 2),)
    assert [s.name for s in listing.text_symbols()] == ["x.f"]


def test_real_listing_instructions(listing):
    f = listing.get("x.f")
    text, *_ = f.instructions
    assert text.is_pseudo and text.text.startswith("TEXT") and "x.f(SB)" in text.text
    assert (text.offset, text.file, text.line) == (0, "t.s", 3)
    assert text not in f.real_instructions()
    emitted = [(i.offset, i.location, " ".join(i.text.split())) for i in f.real_instructions()
               if not i.text.startswith(("FUNCDATA", "PCDATA"))]
    assert emitted == [
        (0, "t.s:4", "MOVQ AX, BX"),
        (3, "t.s:5", "CALL runtime.foo(SB)"),
        (8, "t.s:6", "LEAQ runtime.bar-4(SB), AX"),
        (15, "t.s:7", "MOVQ runtime.baz+8(SB), CX"),
        (22, "t.s:8", "RET"),
    ]


def test_frame_prologue_is_attributed_to_the_text_line(assemble_snippet):
    listing = assemble_snippet("""
        TEXT ·g(SB),NOSPLIT,$16-0
        	RET
        """)
    g = listing.get("x.g")
    real = [(i.location, " ".join(i.text.split())) for i in g.real_instructions()
            if not i.text.startswith(("FUNCDATA", "PCDATA"))]
    # the assembler's frame-pointer prologue and epilogue carry the TEXT line and the RET line
    assert real == [("t.s:3", "PUSHQ BP"), ("t.s:3", "MOVQ SP, BP"), ("t.s:3", "SUBQ $16, SP"),
                    ("t.s:4", "ADDQ $16, SP"), ("t.s:4", "POPQ BP"), ("t.s:4", "RET")]
    assert g.code[:1] == b"\x55" and g.code[-1:] == b"\xc3"


def test_indirect_call_marker_relocation_has_no_target(assemble_snippet):
    listing = assemble_snippet("""
        TEXT ·f(SB),NOSPLIT|NOFRAME,$0-0
        	CALL	AX
        	RET
        """)
    # printed as "rel 0+0 t=R_CALLIND +0"
    assert listing.get("x.f").relocations == (Relocation(0, 0, "R_CALLIND", "", 0),)


LITERAL = """\
pkg.tramp STEXT nosplit asm size=21 args=0x0 locals=0x0 funcid=0x0
\t0x0000 00000 (dir/a.s:10)\tTEXT\tpkg.tramp(SB), NOSPLIT|NOFRAME, $0-0
\t0x0000 00000 (dir/a.s:11)\tMOVQ\tAX, BX
\t0x0003 00003 (dir/a.s:12)\tCALL\truntime.foo(SB)
\t0x0008 00008 (dir/a.s:13)\tLEAQ\truntime.bar-4(SB), AX
\t0x000f 00015 (dir/a.s:14)\tNOPL\t(AX)(AX*1)
\t0x0014 00020 (dir/a.s:15)\tRET
\t0x0000 48 89 c3 e8 00 00 00 00 48 8d 05 00 00 00 00 0f  H.......H.......
\t0x0010 1f 44 00 00 c3                                   .D...
\trel 4+4 t=R_CALL runtime.foo+0
\trel 11+4 t=R_PCREL runtime.bar+-4

pkg.data SNOPTRBSS size=16
"""


def test_literal_listing():
    listing = parse_listing(LITERAL)
    tramp, data = listing.symbols
    assert (tramp.name, tramp.kind, tramp.attributes) == (
        "pkg.tramp", "STEXT", "nosplit asm size=21 args=0x0 locals=0x0 funcid=0x0")
    assert tramp.code == bytes.fromhex("4889c3e800000000488d05000000000f1f440000c3")
    assert tramp.relocations == (Relocation(4, 4, "R_CALL", "runtime.foo", 0),
                                 Relocation(11, 4, "R_PCREL", "runtime.bar", -4))
    assert [(i.offset, i.file, i.line) for i in tramp.real_instructions()] == [
        (0, "dir/a.s", 11), (3, "dir/a.s", 12), (8, "dir/a.s", 13), (15, "dir/a.s", 14), (20, "dir/a.s", 15)]
    assert tramp.instructions[0].is_pseudo and tramp.instructions[0].location == "dir/a.s:10"
    assert tramp.real_instructions()[2].text == "LEAQ\truntime.bar-4(SB), AX"
    # a BSS symbol has a declared size and no bytes
    assert (data.kind, data.code, data.size) == ("SNOPTRBSS", b"", 16)
    assert listing.get("pkg.data") is data and listing.get("nope") is None


@pytest.mark.parametrize(
    "text, complaint",
    [
        ("garbage here\n", "listing line 1: unexpected text"),
        ("\t0x0000 00000 (a.s:1)\tRET\n", "listing line 1: content before any symbol header"),
        ("f STEXT size=2\n\t0x0000 c3\n\t0x0004 c3\n", "listing line 3: bytes at 0x4, expected 0x1"),
        ("f STEXT size=1\n\tsomething else\n", "listing line 2: unexpected text"),
        ("f STEXT size=1\n\trel x+4 t=R_CALL g+0\n", "listing line 2: unexpected text"),
    ],
)
def test_malformed_listing(text, complaint):
    with pytest.raises(ListingFormatError, match=complaint):
        parse_listing(text)


def test_empty_listing_has_no_symbols():
    assert parse_listing("").symbols == ()
