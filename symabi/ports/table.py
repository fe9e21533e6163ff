"""Ports as data: GOOS/GOARCH → architecture, host ABI, object format, how TLS reaches g, and the
relocations the port's assembled code uses.

How the Go toolchain reaches g on amd64 (``get_tls(r)`` then ``g(r)``, see runtime/go_tls.h) differs
per port, and is fixed by the assembler and linker (cmd/internal/obj/x86 and
cmd/link/internal/ld/sym.go:computeTLSOffset):

* ELF ports (linux, android, the BSDs, solaris/illumos): ``MOVQ (TLS), r`` is an FS-relative load whose
  32-bit displacement carries an ``R_TLS_LE`` relocation; the Go linker resolves it to -8 (the g slot
  is the word just below the thread pointer). With external linking the system linker resolves it
  (R_X86_64_TPOFF32 against runtime.tlsg) to another negative offset; the slot is then elsewhere in
  the thread's TLS block, reached only through this relocation, which changes no verdict.
* Mach-O ports (darwin, ios): the same instruction is GS-relative, resolved to 0x30, the pthread TSD
  slot Go reserves; code may also write ``0x30(GS)`` directly (mstart_stub).
* android: ``get_tls(r)`` loads ``runtime.tls_g`` (the offset runtime/cgo's inittls found for Go's
  slot at run time), ``g(r)`` is ``FS:(r)``: an indirection, whose value the world must state.
* windows: GS points at the TEB; the TLS slot's offset from GS is the value of ``runtime.tls_g``
  (set by runtime·wintls), read at run time; the slot points at m.tls, whose first word is g.

On arm64 (runtime/tls_arm64.h and tls_arm64.s: ``load_g`` is ``MRS_TPIDR_R0; MOVD runtime·tls_g(SB),
R27; MOVD (R0)(R27), g``):

* linux, freebsd, netbsd, openbsd: the thread pointer is TPIDR_EL0; ``runtime·tls_g`` is a TLSBSS
  symbol, so ``MOVD runtime·tls_g(SB), R27`` is a MOVZ whose immediate carries an R_ARM64_TLS_LE,
  which the Go linker resolves to the symbol's offset plus the two-pointer TCB: 16
  (cmd/link/internal/arm64/asm.go). g is at TPIDR_EL0+16.
* darwin, ios: the thread pointer is TPIDRRO_EL0 (its low 3 bits masked off); ``runtime·tls_g`` is
  a variable holding the offset (runtime·tlsinit finds it at run time).
* windows: X18 holds the TEB (``MRS_TPIDR_R0`` is ``MOVD R18_PLATFORM, R0``); ``runtime·tls_g`` is a
  variable holding the offset of Go's TEB TLS slot, which holds g.
"""

from __future__ import annotations

from dataclasses import dataclass

from symabi.ports.abi import AAPCS64, ANDROID_ARM64, DARWIN_ARM64, SYSV_AMD64, WINDOWS_ARM64, WINDOWS_X64, HostAbi
from symabi.ports.arch import AMD64, ARM64, Architecture


@dataclass(frozen=True)
class TlsForm:
    """How the port's code reaches the current g."""

    segment: str  # the segment register whose base is the thread pointer: "fs" or "gs"
    g_offset: int | None  # the g slot's offset from that base, when the linker fixes it (R_TLS_LE)
    indirect: str | None = None  # a data symbol holding the offset at run time (runtime.tls_g)
    relocation: str | None = None  # the relocation that carries g_offset into the code
    slot: str = "g"  # what the slot holds: "g" itself, or "m.tls" (a pointer to m.tls, whose first word is g)
    doc: str = ""


@dataclass(frozen=True)
class Port:
    goos: str
    arch: Architecture
    abi: HostAbi | None  # None: the port has no host ABI symabi models (plan9)
    object_format: str  # "elf" | "macho" | "pe" | "plan9"
    tls: TlsForm | None
    relocations: frozenset[str]  # relocation types its trampolines' code uses and the loader resolves
    why_unsupported: str = ""  # for a port without an ABI: why

    @property
    def goarch(self) -> str:
        return self.arch.name

    @property
    def name(self) -> str:
        return f"{self.goos}/{self.goarch}"

    @property
    def contract(self) -> str | None:
        return self.abi.name if self.abi else None


_CODE_RELOCS = frozenset({"R_CALL", "R_PCREL", "R_ADDR"})
_ELF_TLS = TlsForm("fs", -8, relocation="R_TLS_LE",
                   doc="g at FS-8: MOVQ (TLS), r is FS-relative, its displacement an R_TLS_LE the Go linker "
                       "resolves to -8 (external linking: another negative offset in the thread's TLS block)")
_MACHO_TLS = TlsForm("gs", 0x30, relocation="R_TLS_LE",
                     doc="g at GS+0x30, the pthread TSD slot Go reserves: MOVQ (TLS), r is GS-relative, its "
                         "displacement an R_TLS_LE resolved to 0x30")
_PE_TLS = TlsForm("gs", None, indirect="runtime.tls_g", slot="m.tls",
                  doc="GS points at the TEB; runtime.tls_g holds the offset of Go's TLS slot, which points at m.tls")
# The offset is the world's to state; 0x10 (bionic's TLS_SLOT_APP, slot 2) is the one assumed: another one
# moves the slot within the thread's TLS block, which the code reaches only through runtime.tls_g.
_ANDROID_TLS = TlsForm("fs", 0x10, indirect="runtime.tls_g",
                       doc="runtime.tls_g holds the offset from FS of Go's g slot (found by runtime/cgo's inittls at "
                           "run time; assumed 0x10, bionic's TLS_SLOT_APP); g is at FS+runtime.tls_g")


_ARM64_CODE_RELOCS = frozenset({"R_CALLARM64", "R_ADDRARM64", "R_ARM64_PCREL_LDST8", "R_ARM64_PCREL_LDST16",
                                "R_ARM64_PCREL_LDST32", "R_ARM64_PCREL_LDST64", "R_ADDR"})
_ARM64_ELF_TLS = TlsForm("tpidr_el0", 16, relocation="R_ARM64_TLS_LE",
                         doc="g at TPIDR_EL0+16: MOVD runtime·tls_g(SB), R27 is a MOVZ whose R_ARM64_TLS_LE the Go "
                             "linker resolves to tls_g's offset (0) plus the 16-byte TCB")
# android: runtime·tls_g is a variable (TLSG_IS_VARIABLE) whose DATA is 16: the offset assumed (the code
# reaches the slot only through load_g, which reads that variable).
_ARM64_ANDROID_TLS = TlsForm("tpidr_el0", 16,
                             doc="g at TPIDR_EL0 + runtime.tls_g, a variable tls_arm64.s initialises to 16 (assumed)")
_ARM64_DARWIN_TLS = TlsForm("tpidrro_el0", None, indirect="runtime.tls_g",
                            doc="g at (TPIDRRO_EL0 &^ 7) + runtime.tls_g, a variable runtime·tlsinit sets at run time")
_ARM64_WINDOWS_TLS = TlsForm("x18", None, indirect="runtime.tls_g",
                             doc="X18 points at the TEB; runtime.tls_g holds the offset of Go's TEB TLS slot, which "
                                 "holds g")


def _arm64(goos: str, abi: HostAbi, fmt: str, tls: TlsForm) -> Port:
    relocs = _ARM64_CODE_RELOCS | ({tls.relocation} if tls.relocation else set())
    return Port(goos, ARM64, abi, fmt, tls, frozenset(relocs))


def _elf(goos: str, tls: TlsForm = _ELF_TLS) -> Port:
    relocs = _CODE_RELOCS | ({tls.relocation} if tls.relocation else set())
    return Port(goos, AMD64, SYSV_AMD64, "elf", tls, frozenset(relocs))


PORTS: dict[str, Port] = {p.name: p for p in (
    Port("windows", AMD64, WINDOWS_X64, "pe", _PE_TLS, _CODE_RELOCS),
    _elf("linux"),
    _elf("android", tls=_ANDROID_TLS),  # builds the linux files (sys_linux_amd64.s): see the registry's `*`
    _elf("freebsd"),
    _elf("netbsd"),
    _elf("openbsd"),
    _elf("dragonfly"),
    _elf("solaris"),
    _elf("illumos"),  # builds the solaris files
    Port("darwin", AMD64, SYSV_AMD64, "macho", _MACHO_TLS, _CODE_RELOCS | {"R_TLS_LE"}),
    Port("ios", AMD64, SYSV_AMD64, "macho", _MACHO_TLS, _CODE_RELOCS | {"R_TLS_LE"}),  # the darwin files
    Port("plan9", AMD64, None, "plan9", None, _CODE_RELOCS,
         why_unsupported="Plan 9 has no C host ABI: its kernel enters note handlers with its own convention, "
                         "and the runtime has no host-to-Go trampoline that symabi's contracts describe"),
    _arm64("linux", AAPCS64, "elf", _ARM64_ELF_TLS),
    _arm64("android", ANDROID_ARM64, "elf", _ARM64_ANDROID_TLS),  # builds the linux files; X18 reserved
    _arm64("freebsd", AAPCS64, "elf", _ARM64_ELF_TLS),
    _arm64("netbsd", AAPCS64, "elf", _ARM64_ELF_TLS),
    _arm64("openbsd", AAPCS64, "elf", _ARM64_ELF_TLS),
    _arm64("darwin", DARWIN_ARM64, "macho", _ARM64_DARWIN_TLS),
    _arm64("ios", DARWIN_ARM64, "macho", _ARM64_DARWIN_TLS),  # the darwin files
    _arm64("windows", WINDOWS_ARM64, "pe", _ARM64_WINDOWS_TLS),
)}

DEFAULT_PORT = "windows/amd64"


class UnknownPort(ValueError):
    pass


def port(name: str) -> Port:
    """The port named "GOOS/GOARCH"; UnknownPort with the known names otherwise."""
    if name not in PORTS:
        raise UnknownPort(f"unknown port {name!r}; known: {', '.join(sorted(PORTS))}")
    return PORTS[name]
