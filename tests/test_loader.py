"""Layout, relocation patching and the instruction map the reports are built from."""

from __future__ import annotations

import struct

import pytest

from symabi.frontend import parse_listing
from symabi.loader import ALIGN, CODE_BASE, STUB_BASE, STUB_SLOT, UnsupportedRelocation, lay_out

SNIPPET = """
TEXT ·f(SB),NOSPLIT|NOFRAME,$0-0
	MOVQ	AX, BX
	CALL	runtime·foo(SB)
	LEAQ	runtime·bar-4(SB), AX
	MOVQ	·tab+8(SB), CX
	JMP	runtime·foo(SB)

TEXT ·g(SB),NOSPLIT|NOFRAME,$0-0
	CALL	·f(SB)
	RET

DATA ·tab+0(SB)/8, $·g+1(SB)
GLOBL ·tab(SB), RODATA, $16
"""


def _i32(code: bytes, at: int) -> int:
    return struct.unpack_from("<i", code, at)[0]


@pytest.fixture
def laid_out(assemble_snippet):
    listing = assemble_snippet(SNIPPET)
    return listing, lay_out(listing)


def test_layout(laid_out):
    listing, image = laid_out
    assert image.base == CODE_BASE
    assert image.symbols["x.f"] == CODE_BASE
    # symbols follow each other in listing order, each 16-byte aligned; unwind info is not placed
    f_size = len(listing.get("x.f").code)
    assert image.symbols["x.g"] == CODE_BASE + (f_size + ALIGN - 1) // ALIGN * ALIGN
    assert image.symbols["x.tab"] % ALIGN == 0 and image.symbols["x.tab"] > image.symbols["x.g"]
    assert image.sizes["x.tab"] == 16 and image.kinds["x.tab"] == "SRODATA" and image.kinds["x.f"] == "STEXT"
    assert not any(name.startswith("go:") for name in image.symbols)
    assert image.in_code(image.symbols["x.g"]) and not image.in_code(image.end)
    # the bytes outside relocations are the assembler's
    g = listing.get("x.g")
    at = image.symbols["x.g"] - image.base
    assert image.code[at] == 0xE8 and image.code[at + len(g.code) - 1] == 0xC3


def test_internal_call_is_resolved_to_the_symbol(laid_out):
    _, image = laid_out
    g = image.symbols["x.g"]
    # CALL ·f(SB) at g+0: rel32 at g+1, relative to the next instruction at g+5
    assert g + 5 + _i32(image.code, g + 1 - image.base) == image.symbols["x.f"]


def test_external_call_and_pcrel_go_to_stubs(laid_out):
    _, image = laid_out
    f = image.symbols["x.f"]
    foo, bar = image.stub_for("runtime.foo"), image.stub_for("runtime.bar")
    assert foo == STUB_BASE and bar == STUB_BASE + STUB_SLOT  # one slot per external, in first-use order
    assert image.stubs == {foo: "runtime.foo", bar: "runtime.bar"}
    assert image.stub_for("runtime.nothing") is None
    # CALL runtime·foo at f+3 (rel32 at f+4), and the JMP to it at f+22 (rel32 at f+23) share one stub
    assert f + 8 + _i32(image.code, f + 4 - image.base) == foo
    assert f + 27 + _i32(image.code, f + 23 - image.base) == foo
    # LEAQ runtime·bar-4(SB) at f+8: R_PCREL with a negative addend
    assert f + 15 + _i32(image.code, f + 11 - image.base) == bar - 4


def test_pcrel_to_internal_data_with_addend(laid_out):
    _, image = laid_out
    f = image.symbols["x.f"]
    # MOVQ ·tab+8(SB), CX at f+15: rel32 at f+18
    assert f + 22 + _i32(image.code, f + 18 - image.base) == image.symbols["x.tab"] + 8


def test_absolute_address_in_data(laid_out):
    _, image = laid_out
    tab = image.symbols["x.tab"] - image.base
    assert struct.unpack_from("<Q", image.code, tab)[0] == image.symbols["x.g"] + 1  # R_ADDR x.g+1


def test_instruction_map(laid_out):
    _, image = laid_out
    f, g = image.symbols["x.f"], image.symbols["x.g"]
    call = image.instruction_at(g)
    assert (call.symbol, call.size, call.location, call.text) == ("x.g", 5, "t.s:11", "CALL x.f(SB)")
    ret = image.instruction_at(g + 5)
    assert (ret.size, ret.location, ret.text) == (1, "t.s:12", "RET")
    # the instruction that ends at a return address is the CALL that pushed it
    assert image.instruction_before(g + 5) == call
    assert image.instruction_before(f + 8).text == "CALL runtime.foo(SB)"
    assert image.instruction_before(f + 1) is None
    assert image.instruction_at(f + 1) is None  # inside MOVQ AX, BX
    assert image.instruction_at(f).text == "MOVQ AX, BX"


def _reloc_listing(rel: str, size: int = 8) -> str:
    return (f"x.f STEXT size={size}\n"
            f"\t0x0000 00000 (a.s:1)\tNOP\n"
            f"\t0x0000 {' '.join(['00'] * size)}\n"
            f"\t{rel}\n")


@pytest.mark.parametrize(
    "rel, complaint",
    [
        ("rel 0+4 t=R_TLS_LE runtime.tlsg+0", "R_TLS_LE, which this port's linker does not resolve"),
        ("rel 0+4 t=R_GOTPCREL runtime.foo+0", "relocation type R_GOTPCREL"),
        ("rel 0+2 t=R_ADDR runtime.foo+0", "R_ADDR of 2 bytes"),
        ("rel 0+4 t=R_ADDR runtime.foo+4294967296", "does not fit in 4 bytes"),
        ("rel 0+4 t=R_ADDR +0", "without a target"),
    ],
)
def test_unsupported_relocation(rel, complaint):
    with pytest.raises(UnsupportedRelocation, match=complaint):
        lay_out(parse_listing(_reloc_listing(rel)))


def test_tls_le_is_the_ports_offset():
    """On an ELF port the Go linker resolves R_TLS_LE to the g slot's offset from FS (symabi.ports)."""
    image = lay_out(parse_listing(_reloc_listing("rel 0+4 t=R_TLS_LE runtime.tlsg+0")), tls_offset=-8)
    assert int.from_bytes(image.code[:4], "little", signed=True) == -8


def test_indirect_call_marker_is_not_a_relocation(assemble_snippet):
    image = lay_out(assemble_snippet("""
        TEXT ·f(SB),NOSPLIT|NOFRAME,$0-0
        	CALL	AX
        	RET
        """))
    # R_CALLIND marks CALL AX for the linker; it patches nothing
    assert image.code[:3] == bytes.fromhex("ffd0c3") and image.stubs == {}


@pytest.mark.slow
def test_angr_project_holds_the_image(laid_out):
    from symabi.loader import build_project

    _, image = laid_out
    project = build_project(image)
    assert project.loader.memory.load(image.base, len(image.code)) == image.code
    assert project.arch.name == "AMD64"
