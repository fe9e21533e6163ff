"""What a host callee may own of its caller's frame when the case does not say: its stack arguments and the
objects its pointer arguments point to.

A C function owns its incoming stack arguments (gcc rewrites one in place for a sibling call: ``addq $1,
8(%rsp); jmp h``) and writes through the pointers it is given. Where the case gives a callee's ``args`` or
``writes`` (with its ``writes_reason``, which alone says it writes nothing through them), the host callee
model honours them; where it does not, two signs say the callee may own words
of the trampoline's frame:

    stack arguments   (amd64) the code stored into the first stack-argument slot, above the return address
                      and the home area, with the stack pointer as at the call (no instruction moved it in
                      between): the run of words it stored so from there up may be the callee's stack
                      arguments (a caller lays out its outgoing arguments once its stack pointer is set for
                      the call; what it saved before it last moved the stack pointer is its own frame). Not on arm64, where every Go frame keeps
                      its saved FP and LR at the SP of its calls, the first stack-argument slot: there a callee
                      takes stack arguments only as the case's ``args`` say (an assumption the model prints)
    pointers          an argument register points into the trampoline's own frame (between the callee's
                      stack pointer and the top of the frame): every word it stored from there up may be
                      the object the callee writes

Such a word is "unsaid": a read of it after the call, before the code stores it again, ends the path
UNKNOWN (the model does not know whether it survived). A word the code stores only to pass it, and never
reads back, changes nothing.
"""

from __future__ import annotations

from symabi.casefile import CalleeSpec
from symabi.engine.memory import UNSAID


def mark(state, guard, abi, spec: CalleeSpec, region: str, offset: int, top: int, *, pointers: bool = True) -> None:
    """Record the words of the trampoline's frame (``region`` offsets [``offset``, ``top``): the callee's stack
    pointer to the top of the frame) the callee may own without the case saying so. ``pointers``: whether
    its writes through pointer arguments are this model's to judge (symabi check's model havocs them)."""
    stored = sorted({w for a in state.globals["writes"] if a.region == region
                     for w in range(a.offset // 8 * 8, a.offset + a.size, 8) if offset <= w < top})
    if not stored:
        return
    unsaid = dict(state.globals.get(UNSAID, {}))
    if not spec.args_stated and not abi.arch.link_register:
        why = (f"{spec.name} may take stack arguments (the code laid out its first stack-argument slot for the call, "
               "and the case gives no `args`), which it may rewrite")
        unsaid.update({(region, w): why for w in _outgoing(state, abi, region, offset) if (region, w) not in unsaid})
    if pointers and not spec.narrowed:  # `writes_reason` says what it writes through them (maybe nothing)
        for reg in abi.integer_arguments:
            value = state.registers.load(reg)
            at = guard.locate(state, value)
            if at is None and unplaced(guard, value, region):  # red team 4: SP + (x & 8), not a constant offset
                at = (region, offset + abi.arch.return_slot)
                where = "into the trampoline's own frame at an offset the model cannot place"
            elif at is None or at[0] != region or not offset + abi.arch.return_slot <= at[1] < top:
                continue
            else:
                where = "into the trampoline's own frame"
            why = (f"{reg.upper()} points {where} at the call to {spec.name}, which may write there (the case "
                   "does not say what it writes through its pointers: `writes`, `writes_reason`)")
            unsaid.update({(region, w): why for w in stored if w >= at[1] // 8 * 8 and (region, w) not in unsaid})
    state.globals[UNSAID] = unsaid


def unplaced(guard, value, region: str) -> bool:
    """Whether ``value`` is computed from ``region``'s base at an offset the model cannot place (``locate`` gave
    None): a pointer that may point anywhere in that region."""
    return any(r.name == region and value.variables & r.base.variables for r in guard.symbolic)


def _outgoing(state, abi, region: str, offset: int) -> list[int]:
    """The run of words from the callee's first stack-argument slot up that the code stored with its stack
    pointer as at the call (the callee's, ``offset``, plus the return address): empty when the first is not."""
    call_sp = state.regs.sp + abi.arch.return_slot
    at_call = {w for a in state.globals["writes"] if a.region == region and a.sp is not None
               and _same(a.sp, call_sp) for w in range(a.offset // 8 * 8, a.offset + a.size, 8)}
    run, word = [], offset + abi.arch.return_slot + abi.home_area
    while word in at_call:
        run.append(word)
        word += 8
    return run


def _same(a, b) -> bool:
    """Whether two stack pointer values are the same expression up to a constant that cancels: the stack pointer
    no instruction moved in between (an ``ANDQ $~15, SP`` that happens to leave its value is a move)."""
    (base_a, off_a), (base_b, off_b) = _split(a), _split(b)
    return off_a == off_b and hash(base_a) == hash(base_b)


def _split(expr) -> tuple:
    """(base, constant) with ``expr`` = base + constant, the constant taken from additions and subtractions."""
    constant = 0
    while expr.op in ("__add__", "__sub__"):
        fixed = [a for a in expr.args if not a.symbolic]
        moving = [a for a in expr.args if a.symbolic]
        if len(moving) != 1 or (expr.op == "__sub__" and expr.args[0] is not moving[0]):
            break
        value = sum(a.concrete_value for a in fixed)
        constant += -value if expr.op == "__sub__" else value
        expr = moving[0]
    return expr, constant % 2**64
