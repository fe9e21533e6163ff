"""What one exploration did, kept so that another world configuration can take the parts it shares.

World configurations of one entry (``models/world.py``) differ only in the initial values of some
fields. An execution is determined by the values it reads, so until a path reads (or writes, or a
callee havocs) a field on which two configurations differ, the second configuration's path is the
first's, state for state, except for the bytes of those unread fields. ``Explorer.run`` with
``record`` keeps a ``Node`` for every state it advanced: the state as it was before, what advancing it
ended and produced, and every word any of those states touched. Another configuration's run (``reuse``)
walks the same tree: where a node touched no word the two configurations disagree on, it takes the
node's outcomes, each state copied with its own values laid into the unread fields (``Reuse.moved``);
anywhere else it advances the state itself, as it would have without the tree. The outcomes, their
order and the path and block limits are the same either way (tests/test_exact_shortcuts.py checks
whole verdicts against the long way).

A node whose advance raised (an uncovered access, an unmodelled callee, an angr error) is never taken:
the state angr was stepping, and the reads it had made, went with the exception.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


@dataclass
class Node:
    """One state the explorer advanced (or had not yet advanced when the run stopped)."""

    state: object  # the state as the explorer produced it
    before: object | None = None  # a copy taken before advancing it (advancing may change ``state``)
    ended: list | None = None  # PathOutcomes; None: never advanced
    children: list[Node] = field(default_factory=list)
    touched: frozenset = frozenset()  # (region, offset, size) of every word read, written or havocked
    opaque: bool = False  # advancing it raised: what it read is not known

    @property
    def source(self):
        """The state to copy for another configuration: as it was before this run advanced it."""
        return self.before if self.before is not None else self.state


@dataclass(frozen=True)
class Reuse:
    """A recorded tree and how another configuration differs from the one that recorded it."""

    root: Node
    agrees: Callable[[frozenset], bool]  # whether the configurations agree on every word of a touched set
    moved: Callable[[object], object]  # a copy of a recorded state, with this configuration's field values

    def takes(self, node: Node) -> bool:
        return node.ended is not None and not node.opaque and self.agrees(node.touched)


def touched(states) -> frozenset[tuple[str, int, int]]:
    """(region, offset, size) of every word the states' paths read or wrote, and of every span a callee
    havocked on them (a havoc replaces a field's bytes, whichever configuration laid them)."""
    out = set()
    for state in states:
        found = state.globals
        out.update((a.region, a.offset, a.size) for a in (*found["reads"], *found["writes"]))
        out.update((h.region, h.low, h.high - h.low) for h in found["havocs"])
    return frozenset(out)
