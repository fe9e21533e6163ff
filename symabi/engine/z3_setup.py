"""One fix to how claripy drives Z3, applied once when the engine is imported.

claripy asks every new Z3 solver for its parameter descriptions (``str(solver.param_descrs())``) only
to learn whether this Z3 build names its timeout ``soft_timeout``; the question costs ~7 ms a solver
(Z3 builds the solver's internals to answer it), about a third of proving crosscall2 after import.
The answer is the same for every plain solver of one context, so it is asked once per context.
Nothing else changes: the timeout claripy sets, and every query, are Z3's as before.
"""

from __future__ import annotations

import z3

_asked: dict[int, z3.ParamDescrsRef] = {}
_plain = z3.Solver.param_descrs


def _param_descrs(self: z3.Solver) -> z3.ParamDescrsRef:
    key = id(self.ctx)
    if key not in _asked:
        _asked[key] = _plain(self)
    return _asked[key]


def install() -> None:
    z3.Solver.param_descrs = _param_descrs
