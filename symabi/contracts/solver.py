"""Ask Z3 (through claripy) whether an obligation can fail on a path, and for a small witness if so."""

from __future__ import annotations

from dataclasses import dataclass, field

import claripy

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


class PathSolver:
    """One Z3 solver per path, its constraints asserted once and reused for every question about it
    (creating a solver and re-asserting the path costs more than most of the questions)."""

    def __init__(self, constraints, timeout_ms: int):
        self.constraints = list(constraints)
        self.solver = claripy.Solver(timeout=timeout_ms)
        self.solver.add(self.constraints)

    def satisfiable(self, extra=()) -> bool:
        return self.solver.satisfiable(extra_constraints=tuple(extra))

    def eval(self, expr, n: int):
        return self.solver.eval(expr, n)


def check(constraints, violated: claripy.ast.Bool, observe: dict[str, claripy.ast.BV], timeout_ms: int) -> Answer:
    """HOLDS if ``violated`` is unsatisfiable under ``constraints``; else a shrunk witness."""
    return ask(PathSolver(constraints, timeout_ms), violated, observe)


def ask(path_solver: PathSolver, violated: claripy.ast.Bool, observe: dict[str, claripy.ast.BV]) -> Answer:
    """Like ``check``, on a solver that already holds the path's constraints."""
    solver, constraints = path_solver.solver, path_solver.constraints
    try:
        if not solver.satisfiable(extra_constraints=(violated,)):
            return Answer(HOLDS)
        extra = [violated]
        for leaf in _leaves(observe.values()):
            for bound in SHRINK_BOUNDS:
                candidate = leaf == 0 if bound == 0 else claripy.ULE(leaf, bound)
                if solver.satisfiable(extra_constraints=(*extra, candidate)):
                    extra.append(candidate)
                    break
        names = list(observe)
        leaves = _leaves([*observe.values(), *constraints])
        exprs = [observe[n] for n in names] + leaves
        (row,) = solver.batch_eval(exprs, 1, extra_constraints=tuple(extra))
    except claripy.errors.ClaripyError as exc:
        return Answer(UNKNOWN, reason=f"solver gave no answer: {exc}")
    values = dict(zip(names, row[: len(names)]))
    inputs = {leaf.args[0]: value for leaf, value in zip(leaves, row[len(names) :])}
    return Answer(VIOLATED, values, inputs)
