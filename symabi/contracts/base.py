"""What every contract is made of: named obligations, and findings about one path each."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from symabi.contracts.solver import EntrySolvers
from symabi.engine.explore import PathOutcome
from symabi.engine.registers import RegisterFile
from symabi.loader import Image
from symabi.obligations.definition import Obligation  # defined once, with its claim (symabi.obligations)


@dataclass(frozen=True)
class Finding:
    """One obligation on one path: holds, violated (with a witness), unknown, or not applicable."""

    obligation: Obligation
    path: int
    status: str  # "holds" | "violated" | "unknown" | "n/a"
    entry: int | None = None  # the location's value at entry, in the witness
    exit: int | None = None  # its value at the point of failure, in the witness
    detail: str = ""
    site: int | None = None  # the instruction the finding points at (the RET, the CALL, the store)
    inputs: dict[str, int] = field(default_factory=dict)
    # where the failing value comes from: the input symbols of the observed exit expression, and whether
    # that expression is exactly one of them (the value is that input, not computed from inputs)
    origin: tuple[str, ...] = ()
    origin_exact: bool = False


@dataclass(frozen=True)
class CheckContext:
    regs: RegisterFile
    image: Image
    timeout_ms: int
    # Other stacks the world declares (g0's): region name -> offset below which it is free. A write at or
    # above that offset lands in the live frames of whoever owns that stack.
    other_stacks: dict[str, int] = field(default_factory=dict)
    # Where the caller's own frame begins, as an offset from the entry RSP: above the return address, the
    # home area and the stack arguments. A witness for a wild write aims there.
    caller_frame: int = 0x28
    # The solvers of the start states the paths came from, shared by their paths (None: one per path).
    solvers: EntrySolvers | None = field(default=None, compare=False)


class Contract(Protocol):
    name: str
    doc: str
    obligations: tuple[Obligation, ...]

    def check(self, path: PathOutcome, ctx: CheckContext) -> list[Finding]: ...
