"""Each proof with solver state of its own, so that its counterexamples depend on nothing else that ran.

Z3's models depend on the history of the context they are found in (the order its terms were made in
steers its search), and claripy keeps one context, with its caches of converted terms, per thread for
the life of the process. A proof that followed other proofs in one process (a gate worker, ``symabi
check`` over several functions) would otherwise find other values than the same proof alone, and a
gate's values would depend on which worker its scheduler gave each proof to. claripy gives every
thread a context and caches of its own, so a proof run on a thread of its own starts from nothing,
wherever it runs. The verdicts never depended on this; the values shown with them now do not either.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def isolated(fn: Callable[..., T], *args, **kwargs) -> T:
    """``fn(*args, **kwargs)`` on a new thread, waited for; what it raises is raised here."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread as it was
            outcome["error"] = exc

    # a daemon: an interrupted caller (Ctrl-C during the wait) does not wait for the proof at exit
    thread = threading.Thread(target=run, name="symabi-proof", daemon=True)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
