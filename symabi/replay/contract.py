"""A host ABI's contract checked on one concrete run: the obligations of ``symabi.obligations`` (each defined
once, with its claim as data) judged by the concrete evaluator (``symabi.obligations.concrete``).

Same obligations, ids, locations and sites as the symbolic contract, because they are the same records.
``evaluate(run, contract)`` gives one finding per obligation the concrete evaluator judges, in the
contract's order; ``judge_obligation(id, run)`` judges one obligation by id (what replaying a witness needs).

``CHECKS`` and ``obligation`` are only for contracts whose obligations are not yet definitions with a
claim (symabi.replay.go_to_host's, symabi.check.contract's host calls): they register a concrete check per
obligation id there. An obligation neither knows gets no concrete finding (it is not replayed).
"""

from __future__ import annotations

from collections.abc import Callable

from symabi.obligations import concrete
from symabi.obligations.concrete import HOLDS, NA, UNKNOWN, VIOLATED, ConcreteFinding, ending
from symabi.obligations.definition import AT_RETURN, Obligation
from symabi.obligations.host_abi import definition, for_host_abi
from symabi.replay.constants import GO_TO_HOST_OBLIGATIONS
from symabi.replay.machine import ConcreteRun
from symabi.verdicts import format_value

__all__ = ["CHECKS", "HOLDS", "NA", "UNKNOWN", "VIOLATED", "ConcreteFinding", "ConcreteViolation", "check",
           "evaluate", "hex_value", "judge_obligation", "obligation"]

ConcreteViolation = ConcreteFinding  # a finding whose status is "violated"
hex_value = format_value  # a value as the prover's reports render it (``Violation.entry`` / ``.exit``)
Check = Callable[[ConcreteRun, str, str], ConcreteFinding]
CHECKS: dict[str, Check] = {}  # obligation id -> check, for obligations without a definition (see the module doc)


def obligation(*ids: str):
    """Register a concrete check for the obligations ``ids`` of a contract that defines no claim for them."""
    def register(check: Check) -> Check:
        for ob in ids:
            CHECKS[ob] = check
        return check
    return register


def _unfinished(run: ConcreteRun, ob: str, loc: str) -> ConcreteFinding | None:
    return concrete.unfinished(run, ob, loc)


def _on_return(check: Check) -> Check:
    """A registered check that applies only when the run returned (``symabi.obligations.concrete``'s rule)."""
    def gated(run: ConcreteRun, ob: str, loc: str) -> ConcreteFinding:
        decided = ending(Obligation(ob, loc, "", "", when=AT_RETURN), run)
        return decided if decided is not None else check(run, ob, loc)
    gated.__name__ = check.__name__
    return gated


def evaluate(run: ConcreteRun, contract: str = "windows-x64") -> list[ConcreteFinding]:
    """One finding per obligation of ``contract`` (a host ABI's name, or go-to-host) the concrete oracle
    judges, in the contract's order."""
    from symabi.ports import HOST_ABIS  # pure data

    if contract == "go-to-host":
        findings = (judge_obligation(ob, location, run) for ob, location in GO_TO_HOST_OBLIGATIONS)
    else:
        findings = (concrete.evaluate(ob, run) for ob in for_host_abi(HOST_ABIS[contract]))
    return [f for f in findings if f is not None]


def check(run: ConcreteRun, contract: str = "windows-x64") -> list[ConcreteViolation]:
    """The obligations that fail on this run (an empty list: the run keeps the contract, as far as it went)."""
    return [f for f in evaluate(run, contract) if f.status == VIOLATED]


def judge_obligation(obligation_id: str, location: str, run) -> ConcreteFinding | None:
    """The obligation ``obligation_id`` on ``run``: by its definition, else by a registered check; None when
    the concrete oracle does not judge it."""
    ob = definition(obligation_id)
    if ob is not None:
        return concrete.evaluate(ob, run)
    if obligation_id in CHECKS:
        return CHECKS[obligation_id](run, obligation_id, location)
    return None
