"""Verdicts as plain data: what was proved, refuted or left unknown, and under which assumptions.

Writers (terminal, JSON, ...) render these; nothing here knows about angr or claripy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Verdict(str, Enum):
    PROVED = "proved"
    REFUTED = "refuted"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class SourceLine:
    address: int
    location: str  # "asm_amd64.s:42"
    text: str  # the assembler's instruction text

    def __str__(self) -> str:
        return f"{self.location}: {self.text}"


@dataclass(frozen=True)
class ListingRow:
    """One emitted instruction, for side-by-side listings: source line, assembler text, bytes."""

    address: int
    symbol: str
    location: str
    text: str
    code: bytes


CONFIRMED = "confirmed"  # Violation.replay of a witness the concrete replay reproduced


@dataclass(frozen=True)
class Violation:
    obligation: str  # obligation id, e.g. "preserve-xmm6"
    location: str  # "rbx", "xmm6", "rsp", "df", "return_address", "stack"
    path: int
    entry: str | None  # hex, XMM as all 128 bits
    exit: str | None
    detail: str
    site: SourceLine | None
    path_lines: tuple[SourceLine, ...]
    inputs: dict[str, str] = field(default_factory=dict)  # the witness: every input symbol it fixes
    replay: str = ""  # "confirmed" | "not reproduced: <why>" once replayed concretely; "" if not replayed
    origin: tuple[str, ...] = ()  # the inputs the exit value is made of (names as in ``inputs``)
    origin_exact: bool = False  # the exit value is exactly the one input in ``origin``
    # the CALL of each call whose output the exit value is made of ("runtime.mstart#1" -> its line): the
    # line that matters besides ``site``
    call_sites: dict[str, SourceLine] = field(default_factory=dict)
    saved_at: SourceLine | None = None  # where the code saved the location's entry value (it was not restored)


@dataclass(frozen=True)
class Unknown:
    obligation: str
    path: int
    reason: str
    site: SourceLine | None


@dataclass(frozen=True)
class PathSummary:
    index: int
    kind: str  # returned | aborted | faulted | escaped | unknown
    label: str  # the path in words
    reason: str
    lines: tuple[SourceLine, ...]
    statuses: dict[str, str]  # obligation id -> holds | violated | unknown | n/a


@dataclass(frozen=True)
class VersionResult:
    name: str
    revision: str
    source: str
    verdict: Verdict
    violations: tuple[Violation, ...] = ()
    unknowns: tuple[Unknown, ...] = ()
    paths: tuple[PathSummary, ...] = ()
    deviations: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    error: str = ""  # why the whole version is UNKNOWN before any path ran (e.g. a relocation)
    listing: tuple[ListingRow, ...] = ()  # every instruction of the laid-out image, in address order
    host_reads: tuple[str, ...] = ()  # assumptions a path made: memory a host-chosen address reaches is readable


@dataclass(frozen=True)
class Difference:
    """One observable difference between two versions (old ≡ new checking)."""

    kind: str  # "contract-fix" | "regression" (the reverse) | "stack-layout" | "behavioural"
    what: str  # "call 1 (runtime.cgocallback) argument 2", "rax", "write to g0+0x8", "xmm6 at return"
    old: str | None  # the value in the old version, in the witness
    new: str | None
    detail: str
    stack_delta: int | None = None  # when the two differ by a stack-relative constant
    inputs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Equivalence:
    old: str  # version names compared
    new: str
    verdict: Verdict  # PROVED = equivalent apart from contract fixes; REFUTED = a difference; UNKNOWN
    differences: tuple[Difference, ...] = ()
    reason: str = ""


@dataclass(frozen=True)
class ObligationInfo:
    id: str
    location: str
    family: str
    doc: str


@dataclass(frozen=True)
class CaseResult:
    case: str
    summary: str
    entry: str
    contract: str
    contract_doc: str
    obligations: tuple[ObligationInfo, ...]
    assumptions: dict[str, tuple[str, ...]]  # section title -> statements
    versions: tuple[VersionResult, ...]
    toolchain: str = ""
    equivalence: Equivalence | None = None
    cached: bool = False  # read back from the verdict cache (symabi.verdict_cache), not proved in this run
    arch: str = "amd64"  # the port's architecture: which disassembler reads the code

    @property
    def judged(self) -> VersionResult:
        """The version the exit code is about: the newest one that was checked."""
        return self.versions[-1]


def combine(statuses: list[str]) -> Verdict:
    """A witnessed violation refutes; otherwise any gap leaves the verdict unknown; else proved."""
    if "violated" in statuses:
        return Verdict.REFUTED
    if "unknown" in statuses:
        return Verdict.UNKNOWN
    return Verdict.PROVED


def format_value(value: int | None, location: str) -> str | None:
    """A witness value as reports show it: XMM as 128-bit hex, GPRs as 64-bit hex, DF as clear/set, a
    stack write by its offset from the entry RSP."""
    if value is None:
        return None
    if location == "df":
        return "set" if value else "clear"
    if location == "stack":
        return f"{value:+#x}"
    digits = 32 if location.startswith("xmm") else 16
    return f"0x{value:0{digits}x}"


EXIT_CODES = {Verdict.PROVED: 0, Verdict.REFUTED: 1, Verdict.UNKNOWN: 2}
