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
