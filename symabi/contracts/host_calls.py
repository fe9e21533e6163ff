"""``<host ABI>+host-calls(a,b)``: a host ABI's contract plus what the code owes the host-ABI code it calls
itself (crosscall2, a C function): at each such call the stack is aligned as the host ABI requires, and, on
Windows, the callee's 32-byte home area lies in the code's own frame.

The name says everything the contract is made of (``symabi.obligations.host_call.contract_name``), so any
process rebuilds it from the name alone: a gate's worker forked before the parent registered it, a case
file that names it, the concrete oracle judging a run.
"""

from __future__ import annotations

from symabi.contracts.windows_x64 import HostAbiContract
from symabi.obligations.host_call import contract_name, host_calls, parse_contract_name
from symabi.ports import HostAbi
from symabi.ports.abi import HOST_ABIS


def host_calls_contract(base: HostAbiContract | None, abi: HostAbi, host_callees: frozenset[str]) -> HostAbiContract:
    """The host ABI's contract (``base``, when registered) plus the obligations at calls into ``host_callees``."""
    base = base or HostAbiContract(abi)
    callees = ", ".join(sorted(host_callees))
    return HostAbiContract(abi, name=contract_name(abi, host_callees),
                           doc=f"{base.doc}; at each call into host code ({callees}) the stack is aligned and "
                               "(Windows) the home area reserved", obligations=host_calls(abi, host_callees))


def register(contracts: dict, abi: HostAbi, host_callees: frozenset[str]) -> str:
    """Register the contract of ``abi`` plus calls into ``host_callees`` in ``contracts``; its name."""
    name = contract_name(abi, host_callees)
    if name not in contracts:
        contracts[name] = host_calls_contract(contracts.get(abi.name), abi, host_callees)
    return name


def lookup(contracts: dict, name: str) -> None:
    """Register the contract ``name`` names when it is ``<host ABI>+host-calls(...)``; another name is left alone."""
    parsed = parse_contract_name(name)
    if parsed is not None and parsed[0] in HOST_ABIS:
        register(contracts, HOST_ABIS[parsed[0]], parsed[1])
