"""A contract checked on one concrete run: the obligations of ``symabi.obligations`` (each defined once, with
its claim as data) judged by the concrete evaluator (``symabi.obligations.concrete``).

Same obligations, ids, locations and sites as the symbolic contract, because they are the same records: a
host ABI's (``for_host_abi``), go-to-host's (``symabi.obligations.go_to_host``) and a checked host entry's
calls into host code (``symabi.obligations.host_call``), found by the contract's name
(``symabi.obligations.contracts.for_contract``). ``evaluate(run, contract)`` gives one finding per
obligation the concrete evaluator judges, in the contract's order; ``judge_obligation(id, run, obligations)``
judges one obligation by id over the whole run (what replaying a witness needs: the run is the witness's
path, so the finding names the site the concrete evaluator saw, which need not be the symbolic one's).
"""

from __future__ import annotations

from symabi.obligations import concrete
from symabi.obligations.concrete import HOLDS, NA, UNKNOWN, VIOLATED, ConcreteFinding
from symabi.obligations.contracts import find, for_contract
from symabi.obligations.definition import Obligation
from symabi.obligations.host_abi import definition
from symabi.replay.machine import ConcreteRun
from symabi.verdicts import format_value

__all__ = ["HOLDS", "NA", "UNKNOWN", "VIOLATED", "ConcreteFinding", "ConcreteViolation", "check", "evaluate",
           "hex_value", "judge_obligation"]

ConcreteViolation = ConcreteFinding  # a finding whose status is "violated"
hex_value = format_value  # a value as the prover's reports render it (``Violation.entry`` / ``.exit``)


def _host_abi(run: ConcreteRun):
    """The host ABI of a run whose callees are host code (``callee_model`` "host-<abi>"), else None."""
    from symabi.ports import HOST_ABIS  # pure data

    return HOST_ABIS.get(run.callee_model.removeprefix("host-")) if run.callee_model else None


def evaluate(run: ConcreteRun, contract: str = "windows-x64") -> list[ConcreteFinding]:
    """One finding per obligation of ``contract`` (a contract's name: a host ABI's, go-to-host over the run's
    host callee model, ``<abi>+host-calls(...)``) the concrete oracle judges, in the contract's order."""
    obligations = for_contract(contract, _host_abi(run))
    if not obligations:  # judging against nothing would make every run look as if it kept the contract
        raise ValueError(f"no concrete definition of contract {contract!r}")
    findings = (concrete.evaluate(ob, run) for ob in obligations)
    return [f for f in findings if f is not None]


def check(run: ConcreteRun, contract: str = "windows-x64") -> list[ConcreteViolation]:
    """The obligations that fail on this run (an empty list: the run keeps the contract, as far as it went)."""
    return [f for f in evaluate(run, contract) if f.status == VIOLATED]


def judge_obligation(obligation_id: str, run, obligations: tuple[Obligation, ...] = ()) -> ConcreteFinding | None:
    """The obligation ``obligation_id`` on ``run``: by its definition among ``obligations`` (the run's
    contract's), else among the host ABIs'; None when the concrete oracle does not judge it."""
    ob = find(obligations, obligation_id) or definition(obligation_id)
    return None if ob is None else concrete.evaluate(ob, run)
