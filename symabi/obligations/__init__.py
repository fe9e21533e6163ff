"""Obligations: each a small named unit defined once (``definition.Obligation`` with its claim as data),
one module per family, and each contract's list derived from ``symabi.ports``: a host ABI's
(``for_host_abi``), go-to-host's (``go_to_host``), a host entry's that calls host code (``host_calls``), a
signal handler's the kernel enters (``signal_handler``: the host ABI's less what rt_sigreturn restores),
found by the contract's name (``for_contract``).

Two evaluators read the definitions: ``symabi.obligations.symbolic`` (Z3 over the engine's path record)
and ``symabi.obligations.concrete`` (over one unicorn run, amd64 and arm64 alike). This package itself
is pure data: importing it imports neither angr nor unicorn.
"""

from symabi.obligations.abi_internal import R14_AT_CALL, R28_AT_CALL, X15_AT_CALL
from symabi.obligations.contracts import for_contract
from symabi.obligations.definition import Obligation
from symabi.obligations.direction_flag import DF_AT_CALL, DF_AT_RETURN, FPCR
from symabi.obligations.faults import NO_FAULT
from symabi.obligations.go_to_host import go_to_host
from symabi.obligations.host_abi import for_host_abi
from symabi.obligations.host_call import host_calls
from symabi.obligations.stack_pointer import RETURN
from symabi.obligations.stack_writes import WILD_WRITE_TARGET, WRITES_OWNED

__all__ = ["DF_AT_CALL", "DF_AT_RETURN", "FPCR", "NO_FAULT", "R14_AT_CALL", "R28_AT_CALL", "RETURN",
           "WILD_WRITE_TARGET", "WRITES_OWNED", "X15_AT_CALL", "Obligation", "for_contract", "for_host_abi", "go_to_host",
           "host_calls"]
