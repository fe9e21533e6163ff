"""The equivalence check skips a question only when its answer could add nothing to the result."""

import claripy

from symabi import equivalence as eq
from symabi.engine.registers import RegisterFile


def _pair(seen) -> eq._Pair:
    pair = eq._Pair.__new__(eq._Pair)  # only what _known reads: the register file and the reports so far
    pair.regs, pair.seen = RegisterFile.fresh(), set(seen)
    return pair


def test_a_question_is_asked_unless_another_pair_made_its_only_possible_report():
    regs = RegisterFile.fresh()
    a, b = regs["rbx"], regs["rbx"] + 1
    assert not _pair(set())._known("RBX at return", a, b, eq.BEHAVIOURAL)
    assert _pair({(eq.BEHAVIOURAL, "RBX at return")})._known("RBX at return", a, b, eq.BEHAVIOURAL)
    assert not _pair({(eq.BEHAVIOURAL, "RDI at return")})._known("RBX at return", a, b, eq.BEHAVIOURAL)
    assert _pair({(eq.CONTRACT_FIX, "RBX at return")})._known("RBX at return", a, b, eq.CONTRACT_FIX)
    assert not _pair({(eq.BEHAVIOURAL, "RBX at return")})._known("RBX at return", a, b, eq.CONTRACT_FIX)


def test_a_question_that_could_report_a_stack_layout_or_rest_on_approximations_is_asked():
    regs = RegisterFile.fresh()
    seen = {(eq.BEHAVIOURAL, "call 1 argument word 0")}
    rsp = regs.stack_pointer
    # both sides stack-relative: the answer may be a stack-layout difference instead
    assert not _pair(seen)._known("call 1 argument word 0", rsp + 8, rsp + 16, eq.BEHAVIOURAL)
    # a difference resting on a fresh below-RSP read is undecided, not a report: asked
    fresh = claripy.BVS("below-rsp#1", 64, explicit_name=True)
    assert not _pair(seen)._known("call 1 argument word 0", regs["rbx"], fresh, eq.BEHAVIOURAL)
    assert _pair(seen)._known("call 1 argument word 0", regs["rbx"], regs["rcx"], eq.BEHAVIOURAL)


def _outcome(seen, constraints, what, a, b, kind):
    """What ``differ`` gives on a pair with these path constraints: None, the kind it reports, or
    'undecided'; and whether ``_known`` skipped the question."""
    from symabi.contracts import solver

    pair = _pair(seen)
    base = solver.PathSolver(constraints, 10000).solver
    pair.solver = eq._PairSolver(list(constraints), solver.Joint(base, ()))
    skipped = pair._known(what, a, b, kind)
    try:
        d = pair.differ(what, a, b, kind)
    except eq._Undecided:
        return "undecided", skipped
    return (None if d is None else d.kind), skipped


def test_a_skipped_question_could_only_have_repeated_a_report_already_made():
    """Over random questions (stack-relative or not, resting on approximated reads or not, every kind),
    whenever ``_known`` skips one for the reports seen so far, asking it without the skip (no reports
    seen) would have given no report, or a report of a (kind, what) already seen: never another kind,
    never an undecided question (which changes a verdict from PROVED to UNKNOWN)."""
    import random

    rng = random.Random(7)
    regs = RegisterFile.fresh()
    rsp, rbx, rcx = regs.stack_pointer, regs["rbx"], regs["rcx"]
    fresh = claripy.BVS("below-rsp#9", 64, explicit_name=True)
    pool = [rbx, rcx, rbx + 1, rsp + 8, rsp + 16, rsp + rbx, rsp - 8 + 16, fresh, fresh + rsp,
            claripy.BVV(5, 64), claripy.If(rcx == 0, rsp + 8, rsp + 24)]
    constraint_sets = [[], [rbx == 5], [rcx == 0], [claripy.ULT(rcx, 2), rbx == 1]]
    kinds = (eq.BEHAVIOURAL, eq.CONTRACT_FIX, eq.REGRESSION)
    what = "call 1 argument word 0"
    skips = 0
    for _ in range(60):
        a, b, kind = rng.choice(pool), rng.choice(pool), rng.choice(kinds)
        constraints = rng.choice(constraint_sets)
        asked, _ = _outcome(set(), constraints, what, a, b, kind)
        for seen_kind in (*kinds, eq.STACK_LAYOUT):
            seen = {(seen_kind, what)}
            got, skipped = _outcome(seen, constraints, what, a, b, kind)
            if skipped:
                skips += 1
                assert got is None and (asked is None or (asked, what) in seen), (a, b, kind, seen, asked)
            else:
                assert got == asked
    assert skips  # the property was exercised
