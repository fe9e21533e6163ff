"""Callees from what the code calls: every CALL or JMP to a symbol outside the assembled file gets a model.

    runtime.cgocallback     Go, ABI0, 24 bytes of arguments (fn, frame, ctxt)
    crosscall2              host-ABI code (runtime/cgo): keeps the host's callee-saved registers, may
                            clobber the rest and, on Windows, its 32-byte home area
    a function of the module  Go, ABI0: its argument bytes from its TEXT line (``$16-24``: 24) or from
                            its Go declaration (``func f(a, b uintptr) int32``)
    any other symbol        a host (C) function, as crosscall2

A Go function whose argument bytes cannot be found (another module's, or a type whose size is not
plain) is not guessed: the check is UNKNOWN, naming the ``[callees."name"]`` table that would say it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from symabi.frontend import Listing
from symabi.ports import Port

CALL_RELOCATIONS = ("R_CALL", "R_CALLIND", "R_CALLARM64")
CGOCALLBACK = "runtime.cgocallback"
HOST_CODE = ("crosscall2", "_crosscall2")
_SIZES = {**dict.fromkeys(("int", "uint", "uintptr", "int64", "uint64", "float64", "unsafe.Pointer", "complex64"), 8),
          **dict.fromkeys(("int32", "uint32", "float32", "rune"), 4), **dict.fromkeys(("int16", "uint16"), 2),
          **dict.fromkeys(("int8", "uint8", "byte", "bool"), 1), "string": 16, "complex128": 16, "any": 16,
          "error": 16}
_ALIGN = {"complex64": 4}  # the types whose alignment is not min(size, 8)
_FUNC = re.compile(r"^func[ \t]+(\w+)[ \t]*\(", re.M)  # the parameter list is read bracket-balanced: _signature


@dataclass(frozen=True)
class Inferred:
    """One callee as the check models it, with the sentence that says where the model comes from."""

    table: dict  # a case.toml [callees."name"] table
    how: str
    host: bool = False  # host-ABI code: the host-call obligations apply at its calls
    missing: str = ""  # why it cannot be modelled (the check is UNKNOWN)


def reachable(listing: Listing, entry: str) -> list:
    """The entry's TEXT symbol and the file's own TEXT symbols it calls, jumps to or takes the address of."""
    texts = {s.name: s for s in listing.text_symbols()}
    order, work = [], [entry]
    while work:
        name = work.pop()
        if name in texts and texts[name] not in order:
            order.append(texts[name])
            work += [r.target for r in texts[name].relocations if r.target in texts]
    return order


def called(listing: Listing, entry: str) -> list[str]:
    """Symbols outside the file that the entry's code calls or jumps to, in order of first use."""
    own = {s.name for s in listing.symbols}
    out: dict[str, None] = {}
    for symbol in reachable(listing, entry):
        for reloc in symbol.relocations:
            if reloc.type in CALL_RELOCATIONS and reloc.target and reloc.target not in own:
                out[reloc.target] = None
    return list(out)


def _type_size(text: str) -> int | None:
    text = text.strip()
    if text.startswith(("*", "func", "map[", "chan ", "<-chan", "chan<-")):
        return 8
    if text.startswith("[]"):
        return 24
    if text.startswith("interface"):
        return 16
    return _SIZES.get(text)


def _type(text: str) -> tuple[int, int] | None:
    """(size, alignment) of a Go type: a complex64 is two float32s, 4-aligned (cmd/compile/internal/types)."""
    size = _type_size(text)
    if size is None:
        return None
    return size, _ALIGN.get(text.strip(), min(size, 8))


def _fields(params: str) -> list[tuple[int, int]] | None:
    """The (size, alignment) of a Go parameter list's values ("a, b uintptr, c int32" -> [(8, 8), (8, 8), (4, 4)])."""
    params = params.strip()
    if not params:
        return []
    groups, pending = [], 0
    for part in (p.strip() for p in _top_level(params)):
        words = part.split(None, 1)
        if len(words) == 2 and re.fullmatch(r"\w+", words[0]):
            size = _type(words[1])
            if size is None:
                return None
            groups += [size] * (pending + 1)
            pending = 0
        elif len(words) == 1 and re.fullmatch(r"\w+", words[0]) and _type_size(words[0]) is None:
            pending += 1  # a name whose type follows
        else:
            size = _type(part)  # an unnamed parameter
            if size is None:
                return None
            groups.append(size)
    return None if pending else groups


def _top_level(params: str) -> list[str]:
    """A parameter list split at its top-level commas: ``fn func(a, b int), x uintptr`` is two parameters."""
    parts, depth, start = [], 0, 0
    for i, c in enumerate(params):
        depth += (c in "([{") - (c in ")]}")
        if c == "," and depth == 0:
            parts.append(params[start:i])
            start = i + 1
    last = params[start:]
    return parts + [last] if last.strip() or not parts else parts  # gofmt's trailing comma ends a list


def _closing(text: str, at: int) -> int | None:
    """The index right after the bracket that closes the one at ``text[at]``."""
    depth = 0
    for i in range(at, len(text)):
        depth += (text[i] in "([{") - (text[i] in ")]}")
        if depth == 0:
            return i + 1
    return None


def _signature(text: str, m: re.Match) -> tuple[str, str] | None:
    """The parameter list and the results of the declaration ``m`` starts (``func f(`` matched), brackets
    balanced: in ``func f(fn func()) (a, b uintptr)`` the parameters end at the second ')', not the first.
    None when a comment inside makes the brackets unreliable."""
    end = _closing(text, m.end() - 1)
    if end is None:
        return None
    params = text[m.end():end - 1]
    rest = text[end:].lstrip(" \t")
    at = len(text) - len(rest)
    if rest.startswith("("):
        close = _closing(text, at)
        if close is None:
            return None
        results = text[at + 1:close - 1]
    else:  # one unnamed result, up to the body, a comment or the end of the line (interface{}: "interface")
        results = re.match(r"[^{\n]*", rest)[0].split("//")[0]
    if any(c in params + results for c in ("//", "/*")):
        return None
    return params, results


def _layout(fields: list[tuple[int, int]], at: int = 0) -> int:
    for size, align in fields:
        at = -(-at // align) * align + size
    return at


def go_frame(gofiles: list[Path], name: str) -> tuple[int, int] | None:
    """(argument bytes, result bytes) of ``func name(...)`` in the package's Go files, ABI0 layout."""
    for path in gofiles:
        text = path.read_text(errors="replace")
        for m in _FUNC.finditer(text):
            if m[1] != name:
                continue
            signature = _signature(text, m)
            if signature is None:
                return None
            params, results = _fields(signature[0]), _fields(signature[1])
            if params is None or results is None:
                return None
            args = (_layout(params) + 7) // 8 * 8
            return args, (_layout(results, args) + 7) // 8 * 8 - args
    return None


_STRUCT = re.compile(r"^type[ \t]+(\w+)[ \t]+struct[ \t]*\{", re.M)


def _struct_size(text: str, name: str) -> int | None:
    """sizeof(T) for ``type name struct {...}`` in ``text``, fields of plain types only (no embedded field, tag
    or comment: None), laid out as cmd/compile does (each field at its alignment, the end at the largest)."""
    m = next((m for m in _STRUCT.finditer(text) if m[1] == name), None)
    end = _closing(text, m.end() - 1) if m else None
    if end is None:
        return None
    body = text[m.end():end - 1]
    if any(c in body for c in ("//", "/*", "`", '"', ";")):
        return None
    fields = _fields(", ".join(line.strip() for line in body.splitlines() if line.strip()))
    if not fields:
        return None
    align = max(a for _, a in fields)
    return -(-_layout(fields) // align) * align


def pointee_writes(gofiles: dict[str, list[Path]]) -> list[dict]:
    """crosscall2's fn, by what its Go declaration lets it write at a: every ``func f(a *T)`` of the module
    whose T is a plain-typed struct of its package (or a plain type), with sizeof(T). Type safety bounds what
    f writes through a to *a (and what the pointers stored there reach); an unsafe.Pointer parameter bounds
    nothing, and is not listed."""
    out = []
    for package, paths in gofiles.items():
        texts = [p.read_text(errors="replace") for p in paths]
        for text in texts:
            for m in _FUNC.finditer(text):
                signature = _signature(text, m)
                params = _top_level(signature[0]) if signature else []
                words = params[0].split() if len(params) == 1 else []
                if len(words) != 2 or not words[1].startswith("*"):
                    continue
                pointee = words[1][1:]
                size = _type_size(pointee) if pointee != "unsafe.Pointer" else None
                if size is None and re.fullmatch(r"\w+", pointee):
                    size = next((n for t in texts if (n := _struct_size(t, pointee)) is not None), None)
                if size:
                    out.append({"fn": f"{package}.{m[1]}", "size": size})
    return out


def infer(name: str, port: Port, asm_args: dict[str, int], gofiles: dict[str, list[Path]]) -> Inferred:
    """``asm_args``: linker name -> argument bytes of every TEXT line of the module's assembly;
    ``gofiles``: package import path -> its Go files."""
    abi = port.abi
    keeps = list(abi.callee_saved_registers)
    host = {"args": abi.home_area, "keeps": keeps}
    if name == CGOCALLBACK:
        return Inferred({"args": 24, "doc": "func cgocallback(fn, frame unsafe.Pointer, ctxt uintptr), ABI0"},
                        "runtime·cgocallback: Go, ABI0, 24 bytes of arguments")
    if name in HOST_CODE:
        return Inferred({**host, "fn_writes": pointee_writes(gofiles),
                         "doc": "crosscall2 (runtime/cgo): host-ABI code that saves the host's "
                         "callee-saved registers and calls runtime·cgocallback"},
                        f"{name}: host-ABI code ({abi.name}): keeps {', '.join(r.upper() for r in keeps)}", True)
    package, dot, function = name.rpartition(".")
    if name in asm_args:
        return Inferred({"args": asm_args[name], "doc": f"{function}: Go assembly, ABI0 (its TEXT line)"},
                        f"{name}: Go, ABI0, {asm_args[name]} bytes of arguments (its TEXT line)")
    if dot and package in gofiles:
        frame = go_frame(gofiles[package], function.split("<")[0].removesuffix(".abi0"))
        if frame is None:
            return Inferred({}, "", missing=f"the module calls {name}, a Go function whose argument bytes symabi "
                            "cannot work out from its declaration")
        args, results = frame
        return Inferred({"args": args, "results": results, "doc": f"{function}: Go, ABI0 (its Go declaration)"},
                        f"{name}: Go, ABI0, {args} bytes of arguments and {results} of results (its Go declaration)")
    if dot and "/" in package or package in ("runtime", "syscall") or dot and package.islower():
        return Inferred({}, "", missing=f"the code calls {name}, a Go function outside the module whose ABI "
                        "symabi does not know")
    return host_function(name, port)


def host_function(name: str, port: Port) -> Inferred:
    """A host (C, the OS) function of the port's ABI: it keeps the ABI's callee-saved registers. How many stack
    arguments it takes is not said (no ``args``: symabi.models.host_unsaid), unless the case says it: a C function
    named by its symbol may take seven (red team 4: `CALL f7(SB)` with the saved BP in the 7th argument's slot
    was PROVED, as stated `args = 0`; gcc's f7 rewrites that slot)."""
    abi = port.abi
    keeps = list(abi.callee_saved_registers)
    return Inferred({"keeps": keeps, "doc": f"{name}: a host ({abi.name}) function"},
                    f"{name}: a host function ({abi.name}): keeps {', '.join(r.upper() for r in keeps)}", True)
