"""A host ABI's obligations, derived from its table in ``symabi.ports``: what a trampoline entered by that
host owes it, in the order every report lists them."""

from __future__ import annotations

from functools import lru_cache

from symabi.obligations.abi_internal import abi_internal
from symabi.obligations.callee_saved import preserved, untouched
from symabi.obligations.definition import Obligation
from symabi.obligations.direction_flag import FPCR, control_state, direction_flag, x87_mode
from symabi.obligations.faults import no_fault
from symabi.obligations.stack_pointer import RETURN, aligned_at_every_call, restore_sp
from symabi.obligations.stack_writes import WRITES_OWNED, stack_writes
from symabi.ports import HostAbi


@lru_cache(maxsize=None)
def for_host_abi(abi: HostAbi) -> tuple[Obligation, ...]:
    arch = abi.arch
    if arch.link_register:  # arm64: no DF; FPCR is callee-saved control state; reserved registers; SP aligned at BL
        return (*preserved(abi), restore_sp(arch), RETURN, stack_writes(abi), *(untouched(r) for r in abi.reserved),
                FPCR, *abi_internal(arch), aligned_at_every_call(arch), no_fault(arch))
    return (*preserved(abi), restore_sp(arch), RETURN, *direction_flag(abi), stack_writes(abi), WRITES_OWNED,
            *control_state(abi), *x87_mode(abi), *abi_internal(arch), no_fault(arch))


@lru_cache(maxsize=1)
def _by_id() -> dict[str, Obligation]:
    """Every host ABI's obligations by id. An id means one claim wherever it appears (the docs may word it
    for the architecture: no-fault)."""
    from symabi.ports import HOST_ABIS

    out: dict[str, Obligation] = {}
    for abi in HOST_ABIS.values():
        for ob in for_host_abi(abi):
            out.setdefault(ob.id, ob)
    return out


def definition(obligation_id: str) -> Obligation | None:
    """The definition of a host-ABI obligation by its id (what a witness names); None for another contract's."""
    return _by_id().get(obligation_id)
