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
    assert len(parent.eval(x, 3)) == 3  # the parent keeps only its own constraint
    grandchild = child.branch()
    grandchild.add(x != 6)
    assert not grandchild.satisfiable()
    assert child.satisfiable() and parent.satisfiable()
    backend = claripy.backends.z3
    made = backend.solver(timeout=1234)
    made.add(backend.convert(claripy.UGT(x, 5)))
    copy = backend.clone_solver(made)
    assert isinstance(copy, z3_setup.Derived) and copy.symabi_limits == (1234, None)
    assert [str(a) for a in copy.assertions()] == [str(a) for a in made.assertions()]


def test_a_copy_keeps_its_scopes_and_becomes_a_plain_solver_if_the_original_changes():
    backend = claripy.backends.z3
    x = z3.BitVec("x", 8, ctx=backend._context)
    root = backend.solver(timeout=1000)
    root.add(z3.UGT(x, 5))
    copy = backend.clone_solver(root)
    copy.add(z3.ULT(x, 8))
    copy.push()
    copy.add(x != 6)
    assert copy.check() == z3.sat and copy.model()[x].as_long() == 7
    copy.pop()
    copy.push()
    copy.add(x != 6, x != 7)
    assert copy.check() == z3.unsat
    root.add(x == 200)  # never done by claripy to a copied solver; the copy must not see it
    assert copy.check() == z3.unsat  # still inside the scope that excludes 6 and 7
    copy.pop()
    assert copy.check() == z3.sat and copy.model()[x].as_long() in (6, 7)
    assert root.check() == z3.sat and root.model()[x].as_long() == 200


def test_a_solver_tracking_assertions_is_still_translated():
    backend = claripy.backends.z3
    made = backend.solver()
    x = claripy.BVS("y", 8)
    backend.add(made, [x == 3], track=True)
    assert made.symabi_tracks
    copy = backend.clone_solver(made)
    assert not isinstance(copy, z3_setup.Derived)
    assert copy.check() == z3.sat
    assert len(copy.assertions()) == len(made.assertions())


def test_parameter_descriptions_read_as_each_context_s_own():
    plain = z3_setup._plain
    for solver in (z3.Solver(), z3.Solver(ctx=z3.Context())):  # the second in a context of its own
        descrs = solver.param_descrs()
        assert str(descrs) == str(plain(solver))  # the text claripy searches for its timeout's name
        assert descrs.size() == plain(solver).size()  # anything else: the solver's own descriptions
