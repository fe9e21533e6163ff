"""What an obligation is: a named unit defined once, and the claim it makes, stated as data.

An ``Obligation`` names what it is about (``location``), the family it belongs to, its doc, when it is
judged (``when``) and what is compared (``claim``). Two evaluators read the same record:
``symabi.obligations.symbolic`` asks Z3 over the engine's path record, ``symabi.obligations.concrete``
reads one unicorn run. Neither knows an obligation by its id: each interprets the claim's type.

This module is pure data (no angr, no claripy, no unicorn): replay imports it too.
"""

from __future__ import annotations

from dataclasses import dataclass

# When an obligation is judged
AT_RETURN = "at return"  # on the state where control returns to the caller; n/a on a path that never returns
AT_EVERY_CALL = "at every call into Go"  # over each call the path makes, and whatever it did before it ended
AT_EVERY_ABIINTERNAL_CALL = "at every call into Go with ABIInternal"
AT_EVERY_CALL_AND_RETURN = "at every call and at return"
AT_EVERY_HOST_CALL = "at every call into host code"  # which callees are host code: the claim's ``callees``
AT_RETURN_TO_ABIINTERNAL = "at return to an ABIInternal caller"  # as AT_RETURN; n/a when Go entered with ABI0
ON_EVERY_PATH = "on every path"  # over everything the path did, however it ended


# ---- claims: what is compared -------------------------------------------------------------------


@dataclass(frozen=True)
class SameAsEntry:
    """``register`` at return equals ``register`` at entry. Concretely the value is the low ``bits`` of
    ``source`` (D8 is V8's low 64 bits; a full register is its own source)."""

    register: str
    source: str
    bits: int
    broken: str = ""  # what a finding says when it fails ("" : "<REG> is not preserved")


@dataclass(frozen=True)
class StackPointerRestored:
    """The stack pointer at return equals the entry stack pointer + ``popped`` (the return address a RET
    pops: 8 on amd64, 0 with a link register)."""

    register: str
    popped: int


@dataclass(frozen=True)
class ReturnsToCaller:
    """Control reaches the caller's return address (an escape elsewhere violates it)."""


@dataclass(frozen=True)
class FlagClear:
    """A flag (``flag``: the engine's name, "df") is clear: at return, or at each call."""

    flag: str


@dataclass(frozen=True)
class RegisterZero:
    """``register`` (``bits`` wide) is zero at each call."""

    register: str
    bits: int


@dataclass(frozen=True)
class RegisterIsG:
    """``register`` holds the current g at each call: 0 only where the thread has none (the world's TLS g slot
    is nil); zero is not allowed on a thread that has a g."""

    register: str


@dataclass(frozen=True)
class Untouched:
    """``register`` is as at entry at every call and at return, and no instruction on the path writes it."""

    register: str


@dataclass(frozen=True)
class ControlStateKept:
    """``state`` (the x87 control word, MXCSR, FPCR) at return is as at entry: judged from the code, as no
    model tracks it: a path that executes an instruction writing it is unknown."""

    state: str
    name: str  # in words: "the x87 control word"


@dataclass(frozen=True)
class X87Empty:
    """The x87 register stack is empty, every one of its eight tags empty, so the CPU is in x87 mode, not MMX
    mode (an MMX instruction fills all eight tags until EMMS): at each call into host code, or at return.
    Both evaluators compare how many of the eight x87 registers hold a value (0: held), which does not
    depend on where the stack's top is."""


@dataclass(frozen=True)
class StoresInFrame:
    """Every store of the code lands in the allowed set: below the entry stack pointer, in the caller's
    ``home_area`` bytes above the ``return_slot``-byte return address, or in another stack's free space."""

    home_area: int
    return_slot: int
    stack_pointer: str  # its name in a finding ("RSP", "SP")

    def allows(self, offset: int, size: int) -> bool:
        """A store of ``size`` bytes at entry SP + ``offset``: below the entry SP, or in the home area."""
        home = self.home_area > 0 and self.return_slot <= offset and offset + size <= self.return_slot + self.home_area
        return offset + size <= 0 or home

    def what(self, offset: int) -> str:
        return "the return address" if offset < self.return_slot else "the caller's frame"


@dataclass(frozen=True)
class StoresInGoFrame:
    """Every store of the code lands below the entry stack pointer less ``reserved_below`` (arm64: the Go
    caller's saved frame pointer), in the argument and result words a Go caller lays out from ``args_at``
    above it (their size is the entry's: ``symabi.models.entry_go``), or in another stack's free space."""

    reserved_below: int
    return_slot: int
    args_at: int
    stack_pointer: str  # its name in a finding ("RSP", "SP")

    def allows(self, offset: int, size: int, frame: int) -> bool:
        """A store of ``size`` bytes at entry SP + ``offset``, ``frame`` bytes of argument and result words."""
        below = offset + size <= -self.reserved_below
        return below or self.args_at <= offset and offset + size <= self.args_at + frame

    def what(self, offset: int) -> str:
        if offset < 0 and self.reserved_below:
            return "the caller's saved frame pointer"
        if offset < self.return_slot:
            return "the return address"
        return "the caller's saved-LR slot" if offset < self.args_at else "the caller's frame"


@dataclass(frozen=True)
class StackAligned:
    """At each call into host code the stack pointer, before the call pushes anything (amd64: the callee's
    RSP + 8; arm64: SP, a BL pushes nothing), is a multiple of ``modulus``. ``callees``: the host callees
    by name; empty when every callee is host code (go-to-host's callee model)."""

    modulus: int
    callees: frozenset[str] = frozenset()


@dataclass(frozen=True)
class HomeAreaReserved:
    """At each call into host code the ``size``-byte home area above the callee's return address (which the
    callee may write) lies in the trampoline's own frame: below its return address (the entry stack
    pointer), or below the free-space limit of another stack the world declares. ``callees``: as
    ``StackAligned``'s."""

    size: int
    callees: frozenset[str] = frozenset()


def judged_at(claim, callee: str) -> bool:
    """Whether a claim judged at host calls applies to a call of ``callee``."""
    callees = getattr(claim, "callees", frozenset())
    return not callees or callee in callees


@dataclass(frozen=True)
class StoresOwned:
    """No store goes through an address the host's values choose; a witness aims it ``aim`` bytes into the
    caller's own frame."""

    aim: int


@dataclass(frozen=True)
class NoFault:
    """No instruction faults; deliberate ends (INT $3, BRK, a noreturn callee, a declared crash) excuse."""


Claim = (SameAsEntry | StackPointerRestored | ReturnsToCaller | FlagClear | RegisterZero | RegisterIsG | Untouched
         | ControlStateKept | X87Empty | StoresInFrame | StoresInGoFrame | StackAligned | HomeAreaReserved | StoresOwned | NoFault)


@dataclass(frozen=True)
class Obligation:
    id: str  # stable identifier, usable as a SARIF rule id: "preserve-rbx", "df-clear-at-call"
    location: str  # what it is about: "rbx", "xmm6", "rsp", "df", "return_address", "stack"
    family: str  # "callee-saved", "stack-pointer", "return", "direction-flag", "stack-writes", "host-call"
    doc: str
    when: str  # AT_RETURN, AT_EVERY_CALL, ...
    claim: Claim  # what is compared
    applies_on_abort: bool = False  # most obligations are about returning; some hold at every call


def define(id: str, location: str, family: str, doc: str, when: str, claim: Claim) -> Obligation:
    """An obligation with its claim: it applies on an aborting path unless it is judged at the return."""
    at_return = when in (AT_RETURN, AT_RETURN_TO_ABIINTERNAL)
    return Obligation(id, location, family, doc, when, claim, applies_on_abort=not at_return)
