"""Make a witness that rests on reads through host-chosen addresses realizable on the oracle.

The model gives such a read a fresh value (``symabi.engine.memory.HostRead``): it assumes the host's
pointer reaches readable memory holding anything. The witness names that value (``host-mem[<address>]``)
but not where it lies, and the oracle maps no memory there. ``witness_memory`` fixes, from one model of
the path, every input the read addresses depend on and the bytes at each address (``init.mem@0x<a>.b``
inputs), so the oracle lays the host's memory where the witness's pointers lead. It prefers addresses
away from the stack and the null page, as a host's data would be.
"""

from __future__ import annotations

import claripy

from symabi.replay.constants import LOWEST_STACK

_LOW = LOWEST_STACK // 2  # below every stack the model allows, above the null page and the code
_HIGH = LOWEST_STACK - 0x10_0000


def witness_memory(inputs: dict[str, str], reads, constraints) -> dict[str, str]:
    """Extra witness inputs: the pinned leaves of the read addresses, and the bytes each read sees."""
    if not reads:
        return {}
    leaves = {leaf.args[0]: leaf for r in reads for leaf in r.expression.leaf_asts() if leaf.symbolic}
    values = {r.value: claripy.BVS(r.value, r.size * 8, explicit_name=True) for r in reads}
    given = [leaf == int(inputs[name], 0) for name, leaf in {**leaves, **values}.items() if name in inputs]
    placed = [claripy.And(claripy.UGE(r.expression, _LOW), claripy.ULE(r.expression, _HIGH - r.size)) for r in reads]
    solver = claripy.Solver()
    solver.add(list(constraints) + given)
    model = _model(solver, placed, [*leaves.values(), *(r.expression for r in reads), *values.values()])
    if model is None:
        return {}
    out = {name: hex(model[i]) for i, name in enumerate(leaves) if name not in inputs}
    for j, r in enumerate(reads):
        address, value = model[len(leaves) + j], model[len(leaves) + len(reads) + list(values).index(r.value)]
        for i, byte in enumerate(value.to_bytes(r.size, "little")):
            out[f"init.mem@{address + i:#x}.b"] = hex(byte)
    return out


def _model(solver, preferred, exprs) -> list[int] | None:
    for extra in (preferred, []):
        if solver.satisfiable(extra_constraints=extra):
            return list(solver.batch_eval(exprs, 1, extra_constraints=extra)[0])
    return None
