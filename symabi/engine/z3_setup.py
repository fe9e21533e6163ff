"""How claripy drives Z3, made cheaper once when the engine is imported. Every query, and every
answer, is Z3's as before: only the work spent reaching it changes.

* claripy asks every new Z3 solver for its parameter descriptions (``str(solver.param_descrs())``) only
  to learn whether this Z3 build names its timeout ``soft_timeout``; the question costs ~7 ms a solver
  (Z3 builds the solver's internals to answer it). The text is the same for every plain solver of this Z3
  build, whatever its context (every proof has a context of its own, engine.isolation), so it is asked
  once per process; anything else asked of the descriptions is asked of the solver's own.
* Z3's default solver answers its first check with a one-shot tactic (bit-blast everything, then SAT)
  and every later one (claripy passes extra constraints as assumptions) with its incremental SMT core,
  which starts over on the same assertions. Our path conditions are dominated by the entry's address
  placement (a hundred non-overlap and alignment constraints), so the first check costs 4x what the
  incremental core spends on it, and is then paid again: ``combined_solver.ignore_solver1`` answers
  every check with the incremental core. Its relevancy filter (``smt.relevancy``), which pays off on
  quantifiers, only slows these quantifier-free bit-vector checks (by a tenth of all proving): off.
* When an angr state is copied and then constrained further, claripy copies its solver (with
  ``Solver.translate``, ~130 ms for those path conditions) and the copy solves the shared conditions
  again from nothing (~50 ms). A copy here is a ``Derived`` solver instead: it asks the solver it was
  copied from, passing its own further assertions as assumptions with every check, so what Z3 learnt
  about the shared conditions serves every state below (a check costs about a millisecond). The
  question asked is the same conjunction, under the same timeout and memory limit.
"""

from __future__ import annotations

import z3
from claripy.backends.backend_z3 import BackendZ3
from z3.z3 import _get_args

_plain = z3.Solver.param_descrs
_new_solver = BackendZ3.solver
_add = BackendZ3._add
_translate = BackendZ3.clone_solver


class _Descriptions:
    """A solver's parameter descriptions: their text from the first solver asked (the same for every
    plain solver of this Z3 build), anything else from the solver's own (``z3.ParamDescrsRef``)."""

    text: str | None = None  # the process's one answer

    def __init__(self, solver: z3.Solver):
        self.solver = solver

    def __str__(self) -> str:
        if _Descriptions.text is None:
            _Descriptions.text = str(_plain(self.solver))
        return _Descriptions.text

    def __getattr__(self, name):
        return getattr(_plain(self.solver), name)


def _param_descrs(self: z3.Solver) -> _Descriptions:
    return _Descriptions(self)


class _Root(z3.Solver):
    """A solver claripy made. Once ``Derived`` copies ask it, claripy never asserts into it again (it
    copies a solver only when the frontend holding it was branched, and a branched frontend copies
    before it adds); ``epoch`` counts changes to its assertions outside a push (an assertion, tracked
    or not, a reset, a parse), so a copy can tell if that ever fails. ``_depth`` counts open scopes: a
    copy must not ask the root while one is open (claripy's ``batch_eval`` leaves its scope, and the
    assertions in it, open when a check inside it times out), as the root then holds more than the
    copy's base."""

    symabi_limits: tuple = (None, None)
    symabi_tracks = False
    epoch = 0
    _depth = 0

    def assert_exprs(self, *args):
        if not self._depth:
            self.epoch += 1
        super().assert_exprs(*args)

    def assert_and_track(self, a, p):  # z3py's goes straight to the C API, past assert_exprs
        if not self._depth:
            self.epoch += 1
        self.symabi_tracks = True  # (its copies are translated: a tracked assertion is an implication)
        super().assert_and_track(a, p)

    def from_file(self, filename):
        self.epoch += 1
        super().from_file(filename)

    def from_string(self, s):
        self.epoch += 1
        super().from_string(s)

    def reset(self):
        self.epoch += 1
        super().reset()
        self._depth = 0

    def push(self):
        super().push()
        self._depth += 1

    def pop(self, num=1):
        super().pop(num)  # (an invalid pop raises here and leaves the count as it was)
        self._depth -= num


class Derived:
    """A copy of ``root`` plus assertions of its own, which go to the root as assumptions with every
    check. It answers what claripy asks of a solver (add, push, pop, check, model, reason_unknown,
    assertions); anything else, or a root that changed, turns it into a plain solver first (``_real``)."""

    def __init__(self, root: _Root, base: list, own: list, known: set):
        self.root, self.base, self.own, self.known = root, base, own, known
        self.epoch = root.epoch
        self.symabi_limits = root.symabi_limits
        self.symabi_tracks = False
        self._scopes: list[tuple[int, set]] = []
        self._real: z3.Solver | None = None

    @property
    def ctx(self):
        return self.root.ctx

    def _solver(self) -> z3.Solver | None:
        """The plain solver this copy became, if it had to become one: once the root holds anything
        but the copy's base (it was changed, or is inside a scope), the copy stops asking it."""
        if self._real is None and (self.root.epoch != self.epoch or self.root._depth):
            self.materialize()
        return self._real

    def materialize(self) -> z3.Solver:
        if self._real is None:
            real = _Root(ctx=self.root.ctx)
            _limit(real, *self.symabi_limits)
            real.add(self.base)
            done = 0
            for start, _ in self._scopes:  # the same scopes, so that a pending pop still matches
                real.add(self.own[done:start])
                real.push()
                done = start
            real.add(self.own[done:])
            self._real = real
        return self._real

    def add(self, *args):
        if (real := self._solver()) is not None:
            return real.add(*args)
        for arg in _get_args(args):
            for f in (arg if isinstance(arg, (z3.AstVector, z3.Goal)) else (arg,)):
                f = z3.BoolSort(self.root.ctx).cast(f)  # as z3.Solver.add does (a Python bool, say)
                key = f.get_id()
                if key not in self.known:
                    self.known.add(key)
                    self.own.append(f)

    assert_exprs = add

    def push(self):
        if (real := self._solver()) is not None:
            return real.push()
        self._scopes.append((len(self.own), set(self.known)))

    def pop(self, num=1):
        if (real := self._solver()) is not None:
            return real.pop(num)
        for _ in range(num):
            size, self.known = self._scopes.pop()
            del self.own[size:]

    def check(self, *assumptions):
        if (real := self._solver()) is not None:
            return real.check(*assumptions)
        return self.root.check(*self.own, *_get_args(assumptions))

    def model(self):
        return self._real.model() if self._real is not None else self.root.model()

    def reason_unknown(self):
        return self._real.reason_unknown() if self._real is not None else self.root.reason_unknown()

    def assertions(self):
        return self._real.assertions() if self._real is not None else [*self.base, *self.own]

    def __getattr__(self, name):  # anything claripy might ask that a copy does not answer itself
        return getattr(self.materialize(), name)


def _limit(solver: z3.Solver, timeout, max_memory) -> None:
    """The limits claripy gives a new solver (``BackendZ3.solver``), for a copy made here."""
    if timeout is not None:
        if "soft_timeout" in str(solver.param_descrs()):
            solver.set("soft_timeout", timeout)
            solver.set("solver2_timeout", timeout)
        else:
            solver.set("timeout", timeout)
    if max_memory is not None:
        solver.set("max_memory", max_memory)
    solver.symabi_limits = (timeout, max_memory)


def _solver(self: BackendZ3, timeout=None, max_memory=None) -> z3.Solver:
    solver = _new_solver(self, timeout=timeout, max_memory=max_memory)  # claripy's, with its limits
    if not self.reuse_z3_solver:  # (a reused solver is reset, never copied)
        solver.__class__ = _Root
        solver.symabi_limits = (timeout, max_memory)
    return solver


def _tracking_add(self: BackendZ3, s, c, track: bool = False):
    if track:
        if isinstance(s, Derived):
            s = s.materialize()
        s.symabi_tracks = True
    return _add(self, s, c, track=track)


def _clone(self: BackendZ3, s):
    if isinstance(s, Derived):
        if s._solver() is None:
            return Derived(s.root, s.base, list(s.own), set(s.known))
        s = s._real
    if not isinstance(s, _Root) or s.symabi_tracks or s._depth:
        return _translate(self, s)
    base = list(s.assertions())
    return Derived(s, base, [], {f.get_id() for f in base})


def install() -> None:
    z3.Solver.param_descrs = _param_descrs
    z3.set_param("combined_solver.ignore_solver1", True)
    z3.set_param("smt.relevancy", 0)
    BackendZ3.solver = _solver
    BackendZ3._add = _tracking_add
    BackendZ3.clone_solver = _clone
