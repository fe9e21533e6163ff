"""The engine's Z3 set-up changes how much work a question costs, never its answer."""

import claripy
import z3

from symabi.engine import z3_setup

z3_setup.install()  # as importing the prover does (idempotent)


def test_a_copied_solver_asks_the_same_question_with_the_same_limits():
    x = claripy.BVS("x", 32)
    parent = claripy.Solver(timeout=1234)
    parent.add(claripy.UGT(x, 5))
    assert parent.satisfiable()
    child = parent.branch()
    child.add(claripy.ULT(x, 7))  # the copy is made here, from the parent's Z3 solver
    assert child.eval(x, 3) == (6,)
    assert sorted(parent.eval(x, 3)) != [6]  # the parent keeps only its own constraint
    backend = claripy.backends.z3
    made = backend.solver(timeout=1234)
    made.add(backend.convert(claripy.UGT(x, 5)))
    copy = backend.clone_solver(made)
    assert copy.symabi_limits == (1234, None)
    assert [str(a) for a in copy.assertions()] == [str(a) for a in made.assertions()]


def test_a_solver_tracking_assertions_is_still_translated():
    backend = claripy.backends.z3
    made = backend.solver()
    x = claripy.BVS("y", 8)
    backend.add(made, [x == 3], track=True)
    assert made.symabi_tracks
    copy = backend.clone_solver(made)
    assert copy.check() == z3.sat
    assert len(copy.assertions()) == len(made.assertions())
