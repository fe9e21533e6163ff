"""A contract's obligations by the contract's name, from the definitions alone (no solver, no emulator):
what a concrete oracle judges a run of a case against (``symabi.replay``), the same records the symbolic
contract (``symabi.contracts``) evaluates."""

from __future__ import annotations

from symabi.obligations.definition import Obligation
from symabi.obligations.go_to_host import go_to_host
from symabi.obligations.host_abi import for_host_abi
from symabi.obligations.host_call import host_calls, parse_contract_name
from symabi.obligations import signal_handler
from symabi.ports import HOST_ABIS, WINDOWS_X64, HostAbi


def for_contract(name: str, abi: HostAbi | None = None) -> tuple[Obligation, ...]:
    """The obligations of contract ``name`` on a port whose host ABI is ``abi`` (go-to-host follows the port:
    Windows x64's when none is given; signal-handler needs it); () for a name no definition list answers to."""
    if name == "go-to-host":
        return go_to_host(abi or WINDOWS_X64)
    handler_calls = signal_handler.parse_contract_name(name)
    if handler_calls is not None:  # the kernel's: over the port's host ABI, which must be given
        return signal_handler.signal_handler(abi, handler_calls) if abi is not None else ()
    if name in HOST_ABIS:
        return for_host_abi(HOST_ABIS[name])
    parsed = parse_contract_name(name)
    if parsed is not None and parsed[0] in HOST_ABIS:
        return host_calls(HOST_ABIS[parsed[0]], parsed[1])
    return ()


def find(obligations: tuple[Obligation, ...], obligation_id: str) -> Obligation | None:
    return next((ob for ob in obligations if ob.id == obligation_id), None)
