"""Mutation campaign: systematic mutants of a case's newest version, judged by symabi and by the
concrete adversarial oracle (``symabi.replay``); ``scripts/mutate.py`` runs it.

    operators     the mutants of a case (``generate``, ``choose``, ``apply``)
    environment   the operators of issue 9 (what callees, the OS, the host and the CPU may do)
    judge         one mutant's verdict, ground truth and campaign record
"""

from symabi.mutation.judge import (
    CLASSES,
    SAMPLE,
    SAMPLE_ISSUE9,
    Outcome,
    as_dict,
    concrete_trials,
    judge_mutant,
    record,
    sample,
    sample_issue9,
)
from symabi.mutation.mutant import Mutant
from symabi.mutation.operators import apply, choose, generate

__all__ = ["CLASSES", "SAMPLE", "SAMPLE_ISSUE9", "Mutant", "Outcome", "apply", "as_dict", "choose",
           "concrete_trials", "generate", "judge_mutant", "record", "sample", "sample_issue9"]
