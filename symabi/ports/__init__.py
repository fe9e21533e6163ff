"""Ports as pure data: architectures, host ABIs and GOOS/GOARCH ports.

Nothing here imports angr, claripy or unicorn: the assembler front-end, loader, engine, contracts,
replay, writers and gate all read it. Adding a port is adding a ``Port`` value; adding an
architecture is an ``Architecture`` value plus its CPU module in the engine.
"""

from symabi.ports.abi import AAPCS64, ANDROID_ARM64, DARWIN_ARM64, HOST_ABIS, SYSV_AMD64, WINDOWS_ARM64, WINDOWS_X64, CalleeSaved, HostAbi
from symabi.ports.arch import AMD64, ANGR_NAMES, ARCHITECTURES, ARM64, Architecture, Register
from symabi.ports.table import DEFAULT_PORT, PORTS, Port, TlsForm, UnknownPort, port

__all__ = ["AAPCS64", "AMD64", "ANDROID_ARM64", "ANGR_NAMES", "ARCHITECTURES", "ARM64", "DARWIN_ARM64", "WINDOWS_ARM64", "DEFAULT_PORT", "HOST_ABIS", "PORTS", "SYSV_AMD64", "WINDOWS_X64",
           "Architecture", "CalleeSaved", "HostAbi", "Port", "Register", "TlsForm", "UnknownPort", "port"]
