"""A fault an instruction may raise, recorded where it is found and turned into its own path later.

The engine's checks (CPU rules VEX leaves out, memory the model knows can be unmapped) call
``may_fault`` with the condition under which the instruction faults. The condition is kept on the path
(``state.globals["faults"]``) and the path goes on only where it does not hold; the explorer turns each
recorded condition into a faulted path, on which the no-fault obligation fails.
"""

from __future__ import annotations

from dataclasses import dataclass

import claripy


@dataclass(frozen=True)
class Fault:
    ins_addr: int | None
    condition: claripy.ast.Bool  # where this instruction faults and no earlier one on the path did
    reason: str
    alone: claripy.ast.Bool  # where this instruction faults, whatever came before


def may_fault(state, ins_addr: int | None, condition, reason: str) -> None:
    """Record that the instruction faults where ``condition`` holds, if it can; go on where it does not.

    The faulted path is built later from the state before the block, so the condition it keeps also says
    that no earlier instruction faulted (an earlier fault in the same block would be the one that happens).
    """
    if not state.solver.satisfiable(extra_constraints=[condition]):
        return
    earlier = state.globals.get("faults", ())
    first = claripy.And(condition, *(claripy.Not(f.alone) for f in earlier)) if earlier else condition
    state.globals["faults"] = earlier + (Fault(ins_addr, first, reason, condition),)
    state.add_constraints(claripy.Not(condition))
