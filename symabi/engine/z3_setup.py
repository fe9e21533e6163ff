"""How claripy drives Z3, made cheaper once when the engine is imported. Every query, and every
answer, is Z3's as before: only the work spent reaching it changes.

* claripy asks every new Z3 solver for its parameter descriptions (``str(solver.param_descrs())``) only
  to learn whether this Z3 build names its timeout ``soft_timeout``; the question costs ~7 ms a solver
  (Z3 builds the solver's internals to answer it). The answer is the same for every plain solver of one
  context, so it is asked once per context.
* Z3's default solver answers its first check with a one-shot tactic (bit-blast everything, then SAT)
  and every later one (claripy passes extra constraints as assumptions) with its incremental SMT core,
  which starts over on the same assertions. Our path conditions are dominated by the entry's address
  placement (a hundred non-overlap and alignment constraints), so the first check costs 4x what the
  incremental core spends on it, and is then paid again: ``combined_solver.ignore_solver1`` answers
  every check with the incremental core.
* When an angr state is copied and then constrained further, claripy copies its solver with
  ``Solver.translate``, which re-internalizes the incremental core's state (~130 ms a copy for those
  path conditions). A new solver given the same assertions, with the same timeout and memory limit,
  is the same question for a tenth of that. (A solver that tracks assertions for unsat cores is still
  translated: its assertions are not all it holds.)
"""

from __future__ import annotations

import z3
from claripy.backends.backend_z3 import BackendZ3

_asked: dict[int, z3.ParamDescrsRef] = {}
_plain = z3.Solver.param_descrs
_new_solver = BackendZ3.solver
_add = BackendZ3._add
_translate = BackendZ3.clone_solver


def _param_descrs(self: z3.Solver) -> z3.ParamDescrsRef:
    key = id(self.ctx)
    if key not in _asked:
        _asked[key] = _plain(self)
    return _asked[key]


def _solver(self: BackendZ3, timeout=None, max_memory=None) -> z3.Solver:
    solver = _new_solver(self, timeout=timeout, max_memory=max_memory)
    solver.symabi_limits = (timeout, max_memory)  # what the copy must be made with
    return solver


def _tracking_add(self: BackendZ3, s: z3.Solver, c, track: bool = False):
    if track:
        s.symabi_tracks = True
    return _add(self, s, c, track=track)


def _clone(self: BackendZ3, s: z3.Solver) -> z3.Solver:
    limits = getattr(s, "symabi_limits", None)
    if limits is None or getattr(s, "symabi_tracks", False) or self.reuse_z3_solver:
        return _translate(self, s)
    copy = _solver(self, *limits)
    copy.add(s.assertions())
    return copy


def install() -> None:
    z3.Solver.param_descrs = _param_descrs
    z3.set_param("combined_solver.ignore_solver1", True)
    BackendZ3.solver = _solver
    BackendZ3._add = _tracking_add
    BackendZ3.clone_solver = _clone
