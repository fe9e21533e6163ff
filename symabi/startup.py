"""How the command line starts fast without holding garbage later.

Importing angr creates about a million objects and no garbage, yet the interpreter scans them for
cycles over and over (a tenth of the import). The CLI raises the collection thresholds while it
imports; once the engine is imported (``engine_imported``, at the end of ``symabi.prover``) what
exists is frozen (never scanned again, and shared untouched by the gate's forked workers) and the
usual thresholds return: proving makes cyclic garbage (angr states), which must be collected.
"""

from __future__ import annotations

import gc

IMPORT_THRESHOLDS = (100_000, 50, 100)  # gen0 every 100 000 allocations (Python's default: 700)
_usual: tuple[int, int, int] | None = None


def fast_imports() -> None:
    global _usual
    _usual = gc.get_threshold()
    gc.set_threshold(*IMPORT_THRESHOLDS)


def engine_imported() -> None:
    if _usual is not None and gc.get_threshold() == IMPORT_THRESHOLDS:
        gc.freeze()
        gc.set_threshold(*_usual)
