"""Concrete replay: run a trampoline on unicorn, independently of angr, and check the contract on the run.

Two uses: confirm every symbolic counterexample (``confirm``: same obligation, same instruction, same
values), and serve as ground truth for randomized testing of mutants (``ConcreteInputs.random`` +
``replay`` + ``check``).

    inputs = ConcreteInputs.from_witness(violation.inputs)      # or ConcreteInputs.random(rng)
    run = replay(image, image.symbols["crosscall2"], inputs, case.callees)
    check(run)                                                   # -> [ConcreteViolation, ...]
    confirm(violation, image, entry, case.callees)               # -> "confirmed" | "not reproduced: ..."

For a whole case: ``setups_for_case(case, image)`` gives one ``ReplaySetup`` per entry symbol and world
configuration (regions with their field values, GS base, bound registers, entry convention), and
``confirm_result(version_result, setups)`` replays every violation in the setup its path ran in.

Importing this package imports neither angr nor claripy: the engine's conventions it relies on are
restated in ``symabi.replay.constants`` (and tested to agree). Only ``setups_for_case`` reaches into
``symabi.models.world`` (which does), when called.
"""

from symabi.replay.confirm import (
    CONFIRMED,
    NOT_REPRODUCED,
    ReplaySetup,
    confirm,
    confirm_result,
    judge,
    select,
    setups_for_case,
)
from symabi.replay.contract import ConcreteFinding, ConcreteViolation, check, evaluate, hex_value
from symabi.replay.inputs import CalleeOutputs, ConcreteInputs, default_value
from symabi.replay.machine import (
    ABORTED,
    DEFAULT_BUDGET,
    ERROR,
    ESCAPED,
    LOOP,
    RETURNED,
    ConcreteCall,
    ConcreteRun,
    ConcreteWrite,
    Region,
    ReplayError,
    replay,
)

__all__ = [
    "ABORTED",
    "CONFIRMED",
    "DEFAULT_BUDGET",
    "ERROR",
    "ESCAPED",
    "LOOP",
    "NOT_REPRODUCED",
    "RETURNED",
    "CalleeOutputs",
    "ConcreteCall",
    "ConcreteFinding",
    "ConcreteInputs",
    "ConcreteRun",
    "ConcreteViolation",
    "ConcreteWrite",
    "Region",
    "ReplayError",
    "ReplaySetup",
    "check",
    "confirm",
    "confirm_result",
    "default_value",
    "evaluate",
    "hex_value",
    "judge",
    "replay",
    "select",
    "setups_for_case",
]
