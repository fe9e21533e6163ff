"""fault: no instruction faults; only a deliberate end (the runtime's crash, a callee that never returns, an
instruction the case declares as the intended crash) ends a path on purpose."""

from __future__ import annotations

from symabi.obligations.definition import ON_EVERY_PATH, NoFault, Obligation, define
from symabi.ports.arch import Architecture

NO_FAULT = define("no-fault", "fault", "fault",
                  "no instruction faults (#DE, #DB, #GP, a page fault); only INT $3 and a callee that never "
                  "returns end a path on purpose", ON_EVERY_PATH, NoFault())
NO_FAULT_ARM64 = define("no-fault", "fault", "fault",
                        "no instruction faults (an SP alignment fault, a page fault); only BRK and a callee that "
                        "never returns end a path on purpose", ON_EVERY_PATH, NoFault())


def no_fault(arch: Architecture) -> Obligation:
    return NO_FAULT if arch.name == "amd64" else NO_FAULT_ARM64
