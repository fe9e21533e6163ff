"""The host-entry contract of a checked trampoline: its port's host ABI contract, plus what it owes the
host-ABI code it calls itself (crosscall2, a C function): at each such call the stack is aligned as the
host ABI requires, and, on Windows, the callee's 32-byte home area lies in the trampoline's own frame.

Which callees are host code is data of the check (``symabi.check.callees``), so the contract is made per
set of host callees and registered under a name that says so: ``windows-x64+host-calls(crosscall2)``
(``symabi.contracts.host_calls``). Its obligations are definitions
(``symabi.obligations.host_call.host_calls``: the host ABI's, then host-call-aligned and
host-call-home-area with the callees in their claims), judged by the symbolic evaluator on a path and,
found by the contract's name, by the concrete one on a run.

``contract=signal-handler`` (a handler the kernel enters: ``symabi.contracts.signal_handler``) is made the
same way, per set of host callees: ``signal-handler+host-calls(world.prev)``.
"""

from __future__ import annotations

from symabi.contracts import CONTRACTS
from symabi.contracts import host_calls
from symabi.contracts.signal_handler import register as register_signal_handler
from symabi.obligations import signal_handler
from symabi.ports import HostAbi


def register(abi: HostAbi, host_callees: frozenset[str], named: str | None = None) -> str:
    """The contract's name, registered in CONTRACTS (the prover looks contracts up by name): the host ABI's
    plus its host calls, or the one ``named`` (``contract=``): ``signal-handler`` gets the same host calls."""
    if named == signal_handler.NAME:
        return register_signal_handler(CONTRACTS, host_callees)
    if named:
        return named
    if not host_callees:
        return abi.name
    return host_calls.register(CONTRACTS, abi, host_callees)
