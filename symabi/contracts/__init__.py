"""Contracts: the obligations a trampoline owes its host caller, one named object per contract."""

from symabi.contracts.base import Contract, Finding, Obligation
from symabi.contracts.windows_x64 import WINDOWS_X64

CONTRACTS: dict[str, Contract] = {WINDOWS_X64.name: WINDOWS_X64}

__all__ = ["CONTRACTS", "Contract", "Finding", "Obligation"]
