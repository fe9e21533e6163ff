"""Ask Z3 (through claripy) whether an obligation can fail on a path, and for a small witness if so."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import claripy

T = TypeVar("T")

HOLDS, VIOLATED, UNKNOWN = "holds", "violated", "unknown"
SHRINK_BOUNDS = (0x0, 0xF, 0xFF)  # try each input at 0, then ≤ 0xf, then ≤ 0xff (Alive2's habit)


@dataclass(frozen=True)
class Answer:
    status: str
    values: dict[str, int] = field(default_factory=dict)  # the observed expressions, by name
    inputs: dict[str, int] = field(default_factory=dict)  # every input symbol the witness fixes
    reason: str = ""


def _leaves(exprs) -> list[claripy.ast.BV]:
    seen: dict[str, claripy.ast.BV] = {}
    for expr in exprs:
        for leaf in expr.leaf_asts():
            if leaf.symbolic and leaf.op == "BVS":
                seen.setdefault(leaf.args[0], leaf)
    return [seen[name] for name in sorted(seen)]


class Joint:
    """Constraints asked of a solver that holds only some of them (``base``): the rest (``own``) go with
    every question as extra constraints. The question is the same conjunction; what Z3 learnt about the
    base's constraints serves every question asked this way, instead of a new solver solving them again."""

    def __init__(self, base, own: tuple):
        self.base, self.own = base, own

    def satisfiable(self, extra_constraints=()) -> bool:
        return self.base.satisfiable(extra_constraints=(*self.own, *extra_constraints))

    def batch_eval(self, exprs, n: int, extra_constraints=()):
        return self.base.batch_eval(exprs, n, extra_constraints=(*self.own, *extra_constraints))

    def eval(self, expr, n: int, extra_constraints=()):
        return self.base.eval(expr, n, extra_constraints=(*self.own, *extra_constraints))


def canonical(constraints) -> list:
    """``constraints`` in an order of their own: by claripy's structural hash, which is the same in every
    process. angr keeps a state's constraints in an order that follows Python's string hashing (a new
    ``PYTHONHASHSEED`` each run), and Z3's model depends on the order it is told things in: without this a
    counterexample's values would change from run to run with nothing else changed."""
    return sorted(constraints, key=lambda c: c.hash())


class PathSolver:
    """One Z3 solver per path, its constraints asserted once and reused for every question about it
    (creating a solver and re-asserting the path costs more than most of the questions).

    ``entry``: the solver of the state the path started from, whose constraints the path's include (a
    path only adds constraints to its start's). Its questions then go to that solver, with the path's
    own constraints as extra ones (``Joint``): every path from one start shares what Z3 learnt there."""

    def __init__(self, constraints, timeout_ms: int, entry: PathSolver | None = None):
        self.constraints = canonical(constraints)
        if entry is None:
            self.solver = claripy.Solver(timeout=timeout_ms)
            self.solver.add(self.constraints)
        else:
            known = {id(c) for c in entry.constraints}  # the same AST object: the same constraint
            self.solver = Joint(entry.solver, tuple(c for c in self.constraints if id(c) not in known))
        self.witnesses: list[dict[str, int]] = []  # the path's witnesses ``ask`` found so far (``_reused``)

    def satisfiable(self, extra=()) -> bool:
        return self.solver.satisfiable(extra_constraints=tuple(extra))

    def eval(self, expr, n: int):
        return self.solver.eval(expr, n)


class DryRun:
    """A path's solver in a dry run (``all_hold``): every ``ask`` is answered HOLDS, and its question kept."""

    def __init__(self, constraints):
        self.constraints = constraints
        self.asked: list[claripy.ast.Bool] = []


def all_hold(path_solver: PathSolver, run: Callable[[PathSolver], T]) -> T:
    """``run(path_solver)``, which asks its questions through ``ask``, at the cost of one Z3 check when
    every answer is HOLDS (as on most paths).

    ``run`` goes first on a ``DryRun``, where every ``ask`` holds. One question to the real solver then
    settles all of them: if none of the asked violations can hold (their disjunction is unsatisfiable
    under the path's constraints), each answer was Z3's own, so the dry run did what the real run would
    have done, question by question, and its outcome is kept. Otherwise (some violation is satisfiable, or
    the solver gives no answer) ``run`` runs again on the real solver, asking each question. ``run`` must
    depend on nothing but the answers (no other state), which holds for the obligations' evaluators. (A
    witness an answer gives may be one an earlier answer found, ``ask``: only a violation has one.)"""
    outcome, asked = dry_run(path_solver, run)
    return outcome if none_violated(path_solver, asked) else run(path_solver)


def dry_run(path_solver: PathSolver, run: Callable[[PathSolver], T]) -> tuple[T, list[claripy.ast.Bool]]:
    """``run`` on a ``DryRun`` of ``path_solver``: its outcome with every ask answered HOLDS, and the
    violations it asked about."""
    dry = DryRun(path_solver.constraints)
    return run(dry), dry.asked


def none_violated(path_solver: PathSolver, asked: list[claripy.ast.Bool]) -> bool:
    """Whether Z3 shows, in one check, that none of ``asked`` can hold under the path's constraints
    (False when one can, or the solver gives no answer)."""
    if not asked:
        return True
    anything = asked[0] if len(asked) == 1 else claripy.Or(*asked)
    try:
        return not path_solver.satisfiable((anything,))
    except claripy.errors.ClaripyError:
        return False


class EntrySolvers:
    """The solver of each start state a version's paths came from (``ENTRY_CONSTRAINTS``), made once."""

    def __init__(self, timeout_ms: int):
        self.timeout_ms = timeout_ms
        self._solvers: dict[tuple[int, ...], tuple[tuple, PathSolver]] = {}

    def for_path(self, state) -> PathSolver:
        entry = state.globals.get(ENTRY_CONSTRAINTS)
        if entry is None:
            return PathSolver(state.solver.constraints, self.timeout_ms)
        key = tuple(id(c) for c in entry)  # (the entry tuple is kept beside its solver: its ids stay its own)
        if key not in self._solvers:
            self._solvers[key] = (entry, PathSolver(entry, self.timeout_ms))
        return PathSolver(state.solver.constraints, self.timeout_ms, self._solvers[key][1])


ENTRY_CONSTRAINTS = "entry_constraints"  # the state.globals key: a start state's constraints, set by the prover


def check(constraints, violated: claripy.ast.Bool, observe: dict[str, claripy.ast.BV], timeout_ms: int) -> Answer:
    """HOLDS if ``violated`` is unsatisfiable under ``constraints``; else a shrunk witness."""
    return ask(PathSolver(constraints, timeout_ms), violated, observe)


def ask(path_solver: PathSolver, violated: claripy.ast.Bool, observe: dict[str, claripy.ast.BV]) -> Answer:
    """Like ``check``, on a solver that already holds the path's constraints (or on a ``DryRun``).

    A witness the path already has that shows the violation too answers first (``_reused``): it is a model
    of the path and ``violated``, so Z3 could only agree, and nothing is shrunk. Else Z3 says whether
    ``violated`` can hold, and a new shrunk witness (``_shrunk``) is kept for the next questions."""
    if isinstance(path_solver, DryRun):
        path_solver.asked.append(violated)
        return Answer(HOLDS)
    answer = _reused(path_solver, violated, observe)
    if answer is not None:
        return answer
    try:
        if not path_solver.solver.satisfiable(extra_constraints=(violated,)):
            return Answer(HOLDS)
        answer = _shrunk(path_solver, violated, observe)
        path_solver.witnesses.append(answer.inputs)
    except claripy.errors.ClaripyError as exc:
        return Answer(UNKNOWN, reason=f"solver gave no answer: {exc}")
    return answer


def _shrunk(path_solver: PathSolver, violated: claripy.ast.Bool, observe: dict[str, claripy.ast.BV]) -> Answer:
    """A model of the path and ``violated``, each observed input shrunk in turn to the smallest bound it
    can take; ``inputs`` fixes every input of ``violated``, of ``observe`` and of the path's constraints,
    so an input it leaves out occurs in none of them (``_reused`` rests on that)."""
    solver = path_solver.solver
    extra = [violated]
    for leaf in _leaves(observe.values()):
        for bound in SHRINK_BOUNDS:
            candidate = leaf == 0 if bound == 0 else claripy.ULE(leaf, bound)
            if solver.satisfiable(extra_constraints=(*extra, candidate)):
                extra.append(candidate)
                break
    names = list(observe)
    leaves = _leaves([*observe.values(), violated, *path_solver.constraints])
    exprs = [observe[n] for n in names] + leaves
    (row,) = solver.batch_eval(exprs, 1, extra_constraints=tuple(extra))
    values = dict(zip(names, row[: len(names)]))
    inputs = {leaf.args[0]: value for leaf, value in zip(leaves, row[len(names) :])}
    return Answer(VIOLATED, values, inputs)


def _reused(path_solver: PathSolver, violated: claripy.ast.Bool, observe: dict[str, claripy.ast.BV]) -> Answer | None:
    """A witness the path already has that shows ``violated`` too, or None.

    A witness (``_shrunk``) is a model of the path's constraints over every input they name. The inputs of
    ``violated`` and ``observe`` it does not fix occur in none of its constraints, nor in any violation it
    showed, so any values of theirs extend it to a model of all of those: a few small guesses
    (``_guesses``) are tried, and the first under which ``violated`` evaluates true concretely makes the
    witness, widened by them (and kept widened, so the violations it shows share one witness)."""
    leaves = _leaves([violated, *observe.values()])
    for n, known in enumerate(path_solver.witnesses):
        for guess in _guesses([leaf.args[0] for leaf in leaves if leaf.args[0] not in known]):
            inputs = {**known, **guess}
            if _concrete(violated, inputs) is True:
                values = {name: _concrete(expr, inputs) for name, expr in observe.items()}
                if any(v is None for v in values.values()):
                    break
                path_solver.witnesses[n] = inputs
                return Answer(VIOLATED, values, inputs)
    return None


def _guesses(free: list[str]):
    """Values for the inputs a witness leaves free: all 0, then one of them 1 (the last named first)."""
    yield dict.fromkeys(free, 0)
    for name in reversed(free):
        yield {**dict.fromkeys(free, 0), name: 1}


def _concrete(expr, inputs: dict[str, int]):
    """``expr`` evaluated with each input at its value in ``inputs`` (an int, or a bool), by claripy's
    concrete backend; None when an input has no value or the evaluation fails (a division by zero)."""
    leaves = [leaf for leaf in expr.leaf_asts() if leaf.symbolic]
    if any(leaf.op != "BVS" or leaf.args[0] not in inputs for leaf in leaves):
        return None
    try:
        done = claripy.replace_dict(expr, {leaf.hash(): claripy.BVV(inputs[leaf.args[0]], leaf.size())
                                           for leaf in leaves})
    except claripy.errors.ClaripyError:
        return None
    return None if done.symbolic else done.concrete_value
