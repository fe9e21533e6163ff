"""Where an address comes from, judged by the inputs it depends on.

An address the guard cannot place in a region is either the host's doing or a gap in the model:

* ``HOST``: every input it depends on is the host's to choose: an entry register, a word of the caller's
  frame (``init.stack+0x..``), what a host-chosen address held (``host-mem[...]``). A write there lands wherever the host's values lead (its own frame, say):
  the writes-owned-memory obligation refutes it. A read gives a fresh value, an assumption the report
  prints (the host's pointer is readable).
* ``GARBAGE``: the host's, and it depends on memory nobody wrote (stack below the entry RSP the code never
  stored, ``init.stack-0x..``, or bytes below the stack pointer, ``below-rsp#..``): whatever the bytes
  happened to be, so a read through it can fault (null included), a write through it is wild.
* ``None``: it depends on something else, a callee's output or the runtime world: a gap the case must
  close with a declaration, so the access stays UNKNOWN. A callee declared by the input that holds it
  names its outputs after that input (``entry.rcx#1.rax``, ``entry.stack+0x8#1.rdx``): they are the
  callee's, not the host's.
"""

from __future__ import annotations

HOST, GARBAGE = "host", "garbage"
_GARBAGE = ("init.stack-", "below-rsp#")
_HOST = ("entry.", "init.stack+", "host-mem[", *_GARBAGE)  # host-mem[: read through a host-chosen address


def _callee_output(name: str) -> bool:
    return name.startswith("entry.") and "#" in name  # (callee)#(ordinal).(what): models/go_abi0.fresh


def origin(address) -> str | None:
    names = address.variables
    if not names or not all(n.startswith(_HOST) and not _callee_output(n) for n in names):
        return None
    return GARBAGE if any(n.startswith(_GARBAGE) for n in names) else HOST
