"""``//symabi:host-call``: Go code that calls the host (a Go → C call stub), checked with the go-to-host
contract (``symabi.contracts.go_to_host``): at each call into host code the stack is aligned as the host
requires, the home area (Windows) lies in the stub's own frame and DF is clear; back in Go, RSP, the
return address and RBP are as the Go caller left them, and no store lands in the caller's frame.

How the stub is entered and what it calls follow from the source, as for a host-entry function:

    entry       Go ABI0 (module assembly is ABI0): its argument and result words above the return
                address, as its Go declaration lays them out (or, without one, the TEXT line's ``$0-24``)
    callees     every symbol it calls is host code (``callee_model = "host"``: the port's host ABI); a code
                pointer the Go caller passes in an argument word is a host function too (``entry.stack+0x8``,
                declared for each argument word when the stub calls or jumps through a register)

A stub that also calls Go code is not modelled (every callee of the contract is host code): UNKNOWN,
saying so. So is a port whose go-to-host contract symabi does not have.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from symabi.check.callees import go_frame, reachable
from symabi.check.directives import TextDecl
from symabi.contracts import CONTRACTS
from symabi.errors import CaseError
from symabi.frontend import Listing
from symabi.ports import Port

CONTRACT = "go-to-host"
CALLEE_MODEL = "host"  # the port's host callee model (symabi.models.host_callee)
# The entry convention of a Go ABI0 caller, per architecture (symabi.models.entry_go).
GO_ENTRY = {"amd64": "go-abi0-call", "arm64": "go-abi0-arm64-call"}
_INDIRECT = re.compile(r"^(CALL|JMP|BL|B)\t\(?R?[A-Z0-9]+\)?$")


@dataclass(frozen=True)
class HostCall:
    """What a host-call function's case says beyond a host-entry one's."""

    convention: dict  # the case's [entry_convention]
    callees: dict  # argument words the stub may call through: "entry.stack+0x8" -> its [callees] table
    words: tuple[str, ...]  # the callee models, in words


def frame(text: TextDecl, gofiles: list[Path]) -> tuple[int, int] | None:
    """(argument bytes, result bytes) above the return address: the Go declaration's, which is the frame
    the compiler lays out at every Go call site (a TEXT line that says otherwise, `$0-0` for a function of
    56 bytes, or `$0-24` for one of 16, is what vet's asmdecl reports; the caller follows the declaration,
    so a store past it lands in the caller's own frame); the TEXT line's total, as arguments, when there is
    no declaration; None when neither gives a size."""
    # only ·f is the package's f, which a Go declaration can declare (not f<>, file-local, nor a bare or
    # another package's symbol, whose namesake in the package's Go code is another function)
    ours = text.written.startswith("\u00b7") and not text.written.endswith("<>")
    declared = go_frame(gofiles, text.name.rpartition(".")[2]) if ours else None
    if declared is not None or text.args is None:
        return declared
    return text.args, 0


def plan(text: TextDecl, port: Port, listing: Listing, host_callees: frozenset[str], callees: dict,
         gofiles: list[Path]) -> tuple[HostCall | None, str]:
    """The host-call parts of ``text``'s case, or None and why it cannot be checked. ``callees``: the
    callee tables already found (what the code calls by name, what symabi.toml declares)."""
    try:
        CONTRACTS[CONTRACT].for_port(port)
    except CaseError as exc:
        return None, f"//symabi:host-call needs the {CONTRACT} contract, which is not supported on {port.name} yet ({exc})"
    if port.goarch not in GO_ENTRY:
        return None, f"//symabi:host-call: symabi check has no Go entry convention for {port.goarch} yet"
    go = sorted(name for name in callees if name not in host_callees and not name.startswith(("entry.", "world.")))
    if go:
        return None, (f"it calls {go[0]}, Go code: the {CONTRACT} contract models every callee as host code, so a "
                      "stub that also calls Go is not checked")
    sizes = frame(text, gofiles)
    if sizes is None:
        return None, (f"the argument bytes of {text.written} are unknown: give them on its TEXT line "
                      "(`$0-24`) or declare it in the package's Go code")
    args, results = sizes
    through = {}
    if _calls_through_a_register(listing, text.name):
        for offset in range(8, 8 + args, 8):
            name = f"entry.stack+{offset:#x}"
            through[name] = {"doc": f"a host function whose address the Go caller passes in the argument word at "
                                    f"entry RSP+{offset:#x}"}
    words = tuple(f"{name}: a host function ({port.abi.name}), if the stub calls through that argument word"
                  for name in through if name not in callees)
    convention = {"name": GO_ENTRY[port.goarch], "stack_args": args + results}
    return HostCall(convention, {k: v for k, v in through.items() if k not in callees}, words), ""


def _calls_through_a_register(listing: Listing, entry: str) -> bool:
    return any(_INDIRECT.match(ins.text) for symbol in reachable(listing, entry)
               for ins in symbol.real_instructions())
