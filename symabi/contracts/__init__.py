"""Contracts: the obligations a trampoline owes its host caller, one named object per host ABI."""

from symabi.contracts.aapcs64 import AAPCS64, ANDROID_ARM64, DARWIN_ARM64, WINDOWS_ARM64
from symabi.contracts.base import Contract, Finding, Obligation
from symabi.contracts.go_to_host import GO_TO_HOST
from symabi.contracts.signal_handler import SIGNAL_HANDLER
from symabi.contracts.sysv_amd64 import SYSV_AMD64
from symabi.contracts.windows_x64 import WINDOWS_X64

CONTRACTS: dict[str, Contract] = {c.name: c for c in (WINDOWS_X64, SYSV_AMD64, AAPCS64, DARWIN_ARM64,
                                                         WINDOWS_ARM64, ANDROID_ARM64, GO_TO_HOST, SIGNAL_HANDLER)}

__all__ = ["CONTRACTS", "Contract", "Finding", "Obligation"]
