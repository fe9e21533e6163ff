"""Lay a trampoline's symbols out in memory, resolve relocations, and build the angr project.

Addresses are ours to choose; the Go linker would choose others. Nothing the contract checks depends on
the absolute code addresses, only on control reaching the right places, so a fixed layout is enough:

    CODE_BASE     every TEXT and data symbol of the listing, 16-byte aligned, in listing order
    STUB_BASE     one 64 KiB slot per external symbol the code references (a Go callee, a data
                  symbol); control reaching a stub is handed to the callee model bound to it

The host's return address is not ours to choose: it is the symbol ``entry.return_address``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from symabi.frontend.listing import Instruction, Listing, Relocation, Symbol
from symabi import loader_arm64
from symabi.ports import AMD64, Architecture

CODE_BASE = 0x0040_0000
STUB_BASE = 0x0100_0000
STUB_SLOT = 0x1_0000  # roomy: code may do arithmetic on a stub address (e.g. a table base)
ALIGN = 16


# Relocations that patch nothing: they only mark an instruction for the linker's tools.
_MARKERS = frozenset({"R_CALLIND", "R_USEIFACE", "R_USEIFACEMETHOD", "R_USETYPE", "R_KEEP"})


class UnsupportedRelocation(Exception):
    """A relocation type the loader cannot resolve: the verdict for that version is UNKNOWN."""


@dataclass(frozen=True)
class Located:
    """An instruction together with its absolute address and the symbol that holds it."""

    address: int
    size: int
    symbol: str
    instruction: Instruction

    @property
    def location(self) -> str:
        return self.instruction.location

    @property
    def text(self) -> str:
        return " ".join(self.instruction.text.split())


@dataclass(frozen=True)
class Image:
    code: bytes
    base: int
    symbols: dict[str, int]  # symbol name -> absolute address
    sizes: dict[str, int]
    kinds: dict[str, str]  # symbol name -> listing kind (STEXT, SNOPTRBSS, ...)
    stubs: dict[int, str]  # stub address -> external symbol name
    instructions: dict[int, Located] = field(repr=False)
    arch: Architecture = AMD64

    @property
    def end(self) -> int:
        return self.base + len(self.code)

    def in_code(self, address: int) -> bool:
        return self.base <= address < self.end

    def stub_for(self, name: str) -> int | None:
        return next((a for a, n in self.stubs.items() if n == name), None)

    def instruction_at(self, address: int) -> Located | None:
        return self.instructions.get(address)

    def instruction_before(self, address: int) -> Located | None:
        """The instruction that ends at ``address`` (the CALL whose return address this is)."""
        return next((i for i in self.instructions.values() if i.address + i.size == address), None)


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def _patch_value(reloc: Relocation, site: int, target: int) -> int:
    if reloc.type in ("R_CALL", "R_PCREL"):
        return target + reloc.addend - (site + reloc.size)
    if reloc.type == "R_ADDR":
        return target + reloc.addend
    raise UnsupportedRelocation(f"relocation type {reloc.type} (to {reloc.target or 'nothing'}) is not supported")


def _patch(code: bytearray, offset: int, size: int, value: int, reloc: Relocation) -> None:
    formats = {4: "<i", 8: "<q"}
    if size not in formats:
        raise UnsupportedRelocation(f"{reloc.type} of {size} bytes is not supported")
    lo, hi = -(1 << (size * 8 - 1)), (1 << (size * 8 - 1)) - 1
    if not lo <= value <= hi:
        raise UnsupportedRelocation(f"{reloc.type} to {reloc.target} does not fit in {size} bytes")
    code[offset : offset + size] = struct.pack(formats[size], value)


def _instruction_sizes(symbol: Symbol) -> list[tuple[Instruction, int]]:
    real = sorted(symbol.real_instructions(), key=lambda i: i.offset)
    out = []
    for index, ins in enumerate(real):
        end = real[index + 1].offset if index + 1 < len(real) else len(symbol.code)
        out.append((ins, end - ins.offset))
    return out


def lay_out_for(listing: Listing, port) -> Image:
    """``lay_out`` as a port's linker places it: its architecture, and its TLS offset where g is reached
    through a TLS relocation (``symabi.ports``)."""
    return lay_out(listing, port.tls.g_offset if port.tls and port.tls.relocation else None, port.arch)


def lay_out(listing: Listing, tls_offset: int | None = None, arch: Architecture = AMD64) -> Image:
    """Place every symbol of the listing and resolve every relocation in it.

    ``tls_offset``: what the port's linker resolves an R_TLS_LE or R_ARM64_TLS_LE (the g slot's offset
    from the thread pointer, symabi.ports.TlsForm.g_offset); None where the port has no such relocation.
    ``arch``: whose relocations these are (arm64's patch instruction fields: symabi.loader_arm64)."""
    placed: dict[str, int] = {}
    cursor = CODE_BASE
    for sym in listing.symbols:
        if sym.kind.startswith("SSEH") or sym.name.startswith("go:"):
            continue  # unwind tables are for the OS unwinder, not code we execute
        placed[sym.name] = cursor
        cursor = _align(cursor + max(sym.size, 1))
    code = bytearray(cursor - CODE_BASE)
    stubs: dict[str, int] = {}
    instructions: dict[int, Located] = {}
    for sym in listing.symbols:
        if sym.name not in placed:
            continue
        start = placed[sym.name] - CODE_BASE
        code[start : start + len(sym.code)] = sym.code
        for reloc in sym.relocations:
            if reloc.type in _MARKERS:
                continue
            if arch.name == "arm64":
                target = 0 if reloc.type == "R_ARM64_TLS_LE" else _target(reloc, placed, stubs, sym)
                loader_arm64.patch(code, start + reloc.offset, reloc, placed[sym.name] + reloc.offset, target,
                                   tls_offset, lambda why, s=sym, r=reloc: UnsupportedRelocation(f"{s.name}+{r.offset}: {why}"))
                continue
            if reloc.type == "R_TLS_LE":
                if tls_offset is None:
                    raise UnsupportedRelocation(f"{sym.name}+{reloc.offset}: R_TLS_LE, which this port's linker "
                                                "does not resolve (its TLS is not reached through a relocation)")
                _patch(code, start + reloc.offset, reloc.size, tls_offset + reloc.addend, reloc)
                continue
            target = _target(reloc, placed, stubs, sym)
            value = _patch_value(reloc, placed[sym.name] + reloc.offset, target)
            _patch(code, start + reloc.offset, reloc.size, value, reloc)
        for ins, size in _instruction_sizes(sym):
            address = placed[sym.name] + ins.offset
            instructions[address] = Located(address, size, sym.name, ins)
    sizes = {s.name: s.size for s in listing.symbols if s.name in placed}
    return Image(
        code=bytes(code),
        base=CODE_BASE,
        symbols=placed,
        sizes=sizes,
        kinds={s.name: s.kind for s in listing.symbols if s.name in placed},
        stubs={addr: name for name, addr in stubs.items()},
        instructions=instructions,
        arch=arch,
    )


def _target(reloc: Relocation, placed: dict[str, int], stubs: dict[str, int], sym: Symbol) -> int:
    """The address a relocation refers to: a placed symbol, or the stub of an external one."""
    if reloc.target in placed:
        return placed[reloc.target]
    if reloc.target:
        return stubs.setdefault(reloc.target, STUB_BASE + STUB_SLOT * len(stubs))
    raise UnsupportedRelocation(f"{sym.name}+{reloc.offset}: {reloc.type} without a target")


def build_project(image: Image):
    """An angr project over the image's bytes (imported lazily: angr takes seconds to import)."""
    import angr

    return angr.load_shellcode(image.code, arch=image.arch.angr_arch, load_address=image.base, start_offset=0)
