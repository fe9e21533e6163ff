"""Concrete replay: run a trampoline on unicorn, independently of angr, and check the contract on the run.

Two uses: confirm every symbolic counterexample (``confirm``: same obligation, same instruction, same
values), and serve as ground truth for randomized testing of mutants (``ConcreteInputs.random`` +
``replay`` + ``check``). It is an oracle, not a restatement of the model: what a witness fixes is used,
everything else (the world's addresses, the host's return address, RFLAGS.AC/ID, what each Go callee
leaves in registers, below its SP and behind its pointer arguments, CPUID, memory below RSP that the OS
may overwrite) is drawn from the run's own seed.

    inputs = ConcreteInputs.from_witness(violation.inputs)      # or ConcreteInputs.random(rng)
    run = replay(image, image.symbols["crosscall2"], inputs, case.callees)
    check(run)                                                   # -> [ConcreteViolation, ...]
    confirm(violation, image, entry, case.callees)               # -> "confirmed" | "not reproduced: ..."

For a whole case: ``setups_for_case(case, image)`` gives one ``ReplaySetup`` per entry symbol and world
configuration (a ``WorldPlan``: regions by size and alignment, field values as text, bound registers),
and
``confirm_result(version_result, setups)`` replays every violation in the setup its path ran in.

Importing this package imports neither angr nor claripy: the engine's conventions it relies on are
restated in ``symabi.replay.constants`` (and tested to agree); the world is read from the case's data.
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
from symabi.replay.contract import (
    ConcreteFinding,
    ConcreteViolation,
    check,
    evaluate,
    hex_value,
)
from symabi.replay.inputs import ConcreteInputs, default_value
from symabi.replay.machine import (
    ABORTED,
    DEFAULT_BUDGET,
    ERROR,
    ESCAPED,
    FAULTED,
    LOOP,
    RETURNED,
    ConcreteCall,
    ConcreteRun,
    ConcreteWrite,
    Region,
    ReplayError,
    replay,
)
from symabi.replay.world import RegionPlan, WordPlan, WorldPlan

__all__ = [
    "ABORTED",
    "CONFIRMED",
    "DEFAULT_BUDGET",
    "ERROR",
    "ESCAPED",
    "FAULTED",
    "LOOP",
    "NOT_REPRODUCED",
    "RETURNED",
    "ConcreteCall",
    "ConcreteFinding",
    "ConcreteInputs",
    "ConcreteRun",
    "ConcreteViolation",
    "ConcreteWrite",
    "Region",
    "RegionPlan",
    "ReplayError",
    "ReplaySetup",
    "WordPlan",
    "WorldPlan",
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
