"""Cases are data: ``cases/<trampoline>/case.toml`` says how a trampoline is entered and what it calls.

A user adds a trampoline by adding a folder. Every field is checked here, and a bad one is reported by
its path in the file (``versions[1].source``), never by a traceback further down the pipeline.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from symabi.errors import CaseError
from symabi.ports import DEFAULT_PORT, PORTS
from symabi.ports.abi import SYSV_AMD64

CASE_FILE = "case.toml"
CASES_ENV_VAR = "SYMABI_CASES"
RESERVED_REGIONS = ("stack", "code")  # the thread's stack and the assembled code (symabi.prover)


# A host-ABI callee receives its pointers in registers: a write through the pointer in argument register
# REGISTER_ORDER[k] is declared with ``register = "rsi"`` and stands at pointer_at REGISTER_ARGUMENT + 8*k,
# past any stack argument word (the same name the callee model and the replay give its words).
REGISTER_ARGUMENT = 0x1000
REGISTER_ORDER = SYSV_AMD64.integer_arguments


@dataclass(frozen=True)
class PointerWrite:
    """A callee also writes ``size`` bytes at ``offset`` from the pointer in its argument word ``pointer_at``
    (or, at REGISTER_ARGUMENT and above, in an argument register: see ``register``)."""

    pointer_at: int
    offset: int
    size: int = 8

    @property
    def register(self) -> str:
        """The argument register holding the pointer ("" for a stack argument word)."""
        k = (self.pointer_at - REGISTER_ARGUMENT) // 8
        return REGISTER_ORDER[k] if self.pointer_at >= REGISTER_ARGUMENT and k < len(REGISTER_ORDER) else ""


def register_slot(register: str) -> int:
    return REGISTER_ARGUMENT + 8 * REGISTER_ORDER.index(register)


@dataclass(frozen=True)
class CalleeSpec:
    """What the case declares about one external Go function the trampoline calls."""

    name: str  # the linker's name, e.g. "runtime.cgocallback"
    args: int = 0  # bytes of ABI0 argument words, at 8(SP) on entry to the callee
    args_stated: bool = False  # whether the case gives ``args`` (a host callee's stack arguments: host_unsaid)
    results: int = 0  # bytes of ABI0 result words, right after the arguments
    noreturn: bool = False
    doc: str = ""
    writes: tuple[PointerWrite, ...] = ()
    pointer_args: tuple[tuple[int, int], ...] = ()  # (argument offset, bytes it points to) compared by content
    # Why the callee writes only ``writes`` through its pointer arguments. Without it (the default) a
    # callee may write anything its pointer arguments reach, up to the end of the region they point into.
    writes_reason: str = ""
    # arm64: the callee loads g from the thread's TLS slot into R28 (runtime·load_g); every other Go
    # callee returns with R28 as it was at the call
    sets_g: bool = False
    # Narrows the registers the callee may change to these (lower case, "v27"), for a runtime assembly
    # function whose body is known; ``clobbers_reason`` says why. None: every register the model allows.
    clobbers: tuple[str, ...] | None = None
    clobbers_reason: str = ""
    # Registers the callee leaves as it found them. Empty for Go code (ABI0 keeps none but RSP); a callee
    # that is host-ABI code (crosscall2, a C function) keeps the host's callee-saved registers.
    keeps: tuple[str, ...] = ()
    # The callee's own model when it is not the case's ``callee_model``: a Go helper (``go-abi0``, e.g.
    # runtime·save_g) in a case whose callees are host code. "": the case's.
    model: str = ""
    # A world region whose address the callee returns in its result register (RAX, X0): libc's __error
    # returns &errno, the calling thread's. "": a fresh value, as the model has it. Read by the host callees
    # of symabi check's model (symabi.models.check_callees) and both oracles.
    returns_region: str = ""
    # crosscall2(fn, a, n, ctxt): what fn writes at a, by fn (its linker name -> bytes): the size of the T of
    # its Go declaration `func fn(a *T)` (symabi.check.callees). A fn not listed may write the whole region.
    fn_writes: tuple[tuple[str, int], ...] = ()

    @property
    def narrowed(self) -> bool:
        return bool(self.writes_reason)


@dataclass(frozen=True)
class EntryConvention:
    """How the host enters the trampoline (the named convention plus the case's parameters)."""

    name: str = "windows-x64-call"
    stack_args: int = 0  # bytes of the caller's stack arguments, above its 32-byte home area
    registers: dict[str, str] = field(default_factory=dict)  # register -> world value ("m", "teb+0x28", "0")
    table: str | None = None  # callbackasm-table: the table symbol, its entry stride and its size
    stride: int = 0
    table_entries: int = 0
    # a Go caller's stack (Go → host): "system" (g0's, gsignal's, a C thread's: room for C below it),
    # "goroutine" (a few hundred bytes are all Go promises below a NOSPLIT function: C cannot run there),
    # "" unstated: a system stack, printed as an assumption with the verdict
    stack: str = ""


GO_STACKS = ("", "system", "goroutine")


@dataclass(frozen=True)
class RegionSpec:
    name: str
    size: int
    writable: bool = False
    doc: str = ""
    free_below: int = 0  # for a stack region: offsets below this are free stack (a frame there is scratch)
    align: int = 8  # what Go or the OS guarantees about the region's address (its base is a multiple of this)


@dataclass(frozen=True)
class FieldSpec:
    """A word inside a world region, with every initial value the runtime can give it."""

    at: str  # "teb+0x28"
    values: tuple[str, ...]  # "0", "m", "m+0x58"
    labels: tuple[str, ...] = ()  # one phrase per value, for naming paths in words
    size: int = 8
    doc: str = ""
    running_on: tuple[str, ...] = ()  # per value: a stack region the trampoline is entered on ("" for none)


@dataclass(frozen=True)
class DataSpec:
    """An external data symbol the code reads (e.g. runtime.tls_g): the value the world gives it, or none
    (``value`` left out): the word holds whatever reality puts there (a C function pointer runtime/cgo sets, or
    nil), an unconstrained input named ``init.<symbol>+0x0``; a callee reached through it is declared as
    ``[callees."entry.<symbol>+0x0"]``."""

    symbol: str  # the linker's name, e.g. "runtime.tls_g"
    value: str  # a world value: "0x1480", "m+0x50"; "" = any value (an input)
    size: int = 8
    doc: str = ""


@dataclass(frozen=True)
class World:
    """The runtime's structures as the case assumes them: named regions and pointer fields."""

    doc: str = ""
    gs: str | None = None  # the region the GS base points at (the TEB)
    tls: str | None = None  # where the port's TLS segment register (symabi.ports: FS or GS) points: "tls+0x8"
    regions: tuple[RegionSpec, ...] = ()
    fields: tuple[FieldSpec, ...] = ()
    data: tuple[DataSpec, ...] = ()  # read-only data symbols outside the assembled file


@dataclass(frozen=True)
class VersionSpec:
    name: str
    source: Path
    revision: str
    include_dirs: tuple[Path, ...]
    deviations: tuple[str, ...] = ()


@dataclass(frozen=True)
class Case:
    name: str
    directory: Path
    summary: str
    entries: tuple[str, ...]  # the TEXT symbol(s) (linker names) the host calls; each is explored
    contract: str
    callee_model: str
    package: str | None
    defines: tuple[str, ...]
    versions: tuple[VersionSpec, ...]  # oldest first; the last one is what the gate judges
    callees: dict[str, CalleeSpec] = field(default_factory=dict)
    entry_convention: EntryConvention = field(default_factory=EntryConvention)
    world: World = field(default_factory=World)
    returns: int = 64  # bits of RAX the host reads as the result: 0 (none), 32 (EAX) or 64
    port: str = "windows/amd64"  # GOOS/GOARCH the versions are assembled for (symabi.ports)

    @property
    def entry(self) -> str:
        return ", ".join(self.entries)

    def version(self, name: str) -> VersionSpec:
        for v in self.versions:
            if v.name == name:
                return v
        raise CaseError(f"case {self.name} has no version {name!r} (it has: {', '.join(v.name for v in self.versions)})")

    @property
    def newest(self) -> VersionSpec:
        return self.versions[-1]


class _Fields:
    """Typed access to one TOML table that names the offending field on error."""

    def __init__(self, path: Path, where: str, table: Any):
        if not isinstance(table, dict):
            raise CaseError(f"{path}: field `{where}` must be a table")
        self.path, self.where, self.table = path, where, table

    def _name(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ..., *, required: bool = False) -> Any:
        if key not in self.table:
            if required or default is ...:
                raise CaseError(f"{self.path}: missing field `{self._name(key)}`")
            return default
        value = self.table[key]
        if kind is int and isinstance(value, bool) or not isinstance(value, kind):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise CaseError(f"{self.path}: field `{self._name(key)}` must be {names}, not {value!r}")
        if kind is int and value < 0:
            raise CaseError(f"{self.path}: field `{self._name(key)}` must not be negative")
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        values = self.get(key, list, [])
        if not all(isinstance(v, str) for v in values):
            raise CaseError(f"{self.path}: field `{self._name(key)}` must be a list of strings")
        return tuple(values)

    def sub(self, key: str, default: Any = ...) -> _Fields:
        return _Fields(self.path, self._name(key), self.get(key, dict, default))

    def reject_unknown(self, known: set[str]) -> None:
        extra = sorted(set(self.table) - known)
        if extra:
            raise CaseError(f"{self.path}: unknown field `{self._name(extra[0])}` (known: {', '.join(sorted(known))})")


def default_cases_dir() -> Path:
    if env := os.environ.get(CASES_ENV_VAR):
        return Path(env)
    shipped = Path(__file__).resolve().parent.parent / "cases"
    return shipped if shipped.is_dir() else Path.cwd() / "cases"


def list_cases(cases_dir: Path) -> list[str]:
    if not cases_dir.is_dir():
        raise CaseError(f"cases folder {cases_dir} does not exist")
    return sorted(p.name for p in cases_dir.iterdir() if (p / CASE_FILE).is_file())


def _version(path: Path, directory: Path, index: int, raw: Any) -> VersionSpec:
    f = _Fields(path, f"versions[{index}]", raw)
    f.reject_unknown({"name", "source", "revision", "includes", "deviations"})
    source = directory / f.get("source", str, required=True)
    if not source.is_file():
        raise CaseError(f"{path}: field `versions[{index}].source` names {source}, which does not exist")
    includes = tuple(directory / inc for inc in f.strings("includes")) or (source.parent,)
    for inc in includes:
        if not inc.is_dir():
            raise CaseError(f"{path}: field `versions[{index}].includes` names {inc}, which is not a folder")
    return VersionSpec(
        name=f.get("name", str, required=True),
        source=source,
        revision=f.get("revision", str, required=True),
        include_dirs=includes,
        deviations=f.strings("deviations"),
    )


def _callee(path: Path, name: str, raw: Any) -> CalleeSpec:
    f = _Fields(path, f"callees.{name}", raw)
    f.reject_unknown({"args", "results", "noreturn", "doc", "writes", "writes_reason", "pointer_args", "sets_g",
                     "clobbers", "clobbers_reason", "keeps", "model", "returns_region", "fn_writes"})
    pointer_args = []
    for i, raw_arg in enumerate(f.get("pointer_args", list, [])):
        pf = _Fields(path, f"callees.{name}.pointer_args[{i}]", raw_arg)
        pf.reject_unknown({"at", "size"})
        pointer_args.append((pf.get("at", int, required=True), pf.get("size", int, required=True)))
    fn_writes = []
    for i, raw_fn in enumerate(f.get("fn_writes", list, [])):
        ff = _Fields(path, f"callees.{name}.fn_writes[{i}]", raw_fn)
        ff.reject_unknown({"fn", "size"})
        fn_writes.append((ff.get("fn", str, required=True), ff.get("size", int, required=True)))
    writes = []
    for i, w in enumerate(f.get("writes", list, [])):
        wf = _Fields(path, f"callees.{name}.writes[{i}]", w)
        wf.reject_unknown({"pointer_at", "register", "offset", "size"})
        register = wf.get("register", str, "")
        if register and register not in REGISTER_ORDER:
            raise CaseError(f"{path}: field `callees.{name}.writes[{i}].register` must be one of "
                            f"{', '.join(REGISTER_ORDER)}")
        at = register_slot(register) if register else wf.get("pointer_at", int, required=True)
        writes.append(PointerWrite(at, wf.get("offset", int, 0), wf.get("size", int, 8)))
    spec = CalleeSpec(
        name=name,
        args=f.get("args", int, 0),
        args_stated="args" in f.table,
        results=f.get("results", int, 0),
        noreturn=f.get("noreturn", bool, False),
        doc=f.get("doc", str, ""),
        writes=tuple(writes),
        pointer_args=tuple(pointer_args),
        writes_reason=f.get("writes_reason", str, ""),
        sets_g=f.get("sets_g", bool, False),
        clobbers=tuple(r.lower() for r in f.strings("clobbers")) if "clobbers" in f.table else None,
        clobbers_reason=f.get("clobbers_reason", str, ""),
        keeps=f.strings("keeps"),
        model=f.get("model", str, ""),
        returns_region=f.get("returns_region", str, ""),
        fn_writes=tuple(fn_writes),
    )
    if spec.clobbers is not None and not spec.clobbers_reason:
        raise CaseError(f"{path}: field `callees.{name}.clobbers` narrows the registers the callee changes; "
                        f"say why in `callees.{name}.clobbers_reason`")
    if spec.writes and not spec.writes_reason:
        raise CaseError(f"{path}: field `callees.{name}.writes` narrows what the callee writes through its "
                        f"pointer arguments; say why in `callees.{name}.writes_reason`")
    for i, w in enumerate(spec.writes):
        if not w.register and w.pointer_at + 8 > spec.args:
            raise CaseError(f"{path}: field `callees.{name}.writes[{i}].pointer_at` is outside the "
                            f"{spec.args} bytes of arguments")
    return spec


def _entry_convention(path: Path, f: _Fields, default: str = "windows-x64-call") -> EntryConvention:
    f.reject_unknown({"name", "stack_args", "registers", "table", "stride", "table_entries", "stack"})
    registers = f.sub("registers", {})
    for reg in registers.table:
        registers.get(reg, str)
    stack = f.get("stack", str, "")
    if stack not in GO_STACKS:
        raise CaseError(f"{path}: entry_convention.stack must be \"system\" or \"goroutine\", not {stack!r}")
    return EntryConvention(
        stack=stack,
        name=f.get("name", str, default),
        stack_args=f.get("stack_args", int, 0),
        registers=dict(registers.table),
        table=f.get("table", str, None),
        stride=f.get("stride", int, 0),
        table_entries=f.get("table_entries", int, 0),
    )


def _world(path: Path, f: _Fields) -> World:
    f.reject_unknown({"doc", "gs", "tls", "regions", "fields", "data"})
    regions_table = f.sub("regions", {})
    regions = []
    for name, raw in regions_table.table.items():
        if name in RESERVED_REGIONS:  # the prover's own regions: a world region of that name would alias them
            raise CaseError(f"{path}: field `world.regions.{name}`: {name!r} is reserved "
                            f"({', '.join(RESERVED_REGIONS)} are the prover's own); choose another name")
        rf = _Fields(path, f"world.regions.{name}", raw)
        rf.reject_unknown({"size", "writable", "doc", "free_below", "align"})
        size = rf.get("size", int, required=True)
        if size == 0:
            raise CaseError(f"{path}: field `world.regions.{name}.size` must be positive")
        align = rf.get("align", int, 8)
        if align <= 0 or align & (align - 1):
            raise CaseError(f"{path}: field `world.regions.{name}.align` must be a power of two")
        regions.append(RegionSpec(name, size, rf.get("writable", bool, False), rf.get("doc", str, ""),
                                  rf.get("free_below", int, 0), align))
    fields = []
    for i, raw in enumerate(f.get("fields", list, [])):
        ff = _Fields(path, f"world.fields[{i}]", raw)
        ff.reject_unknown({"at", "values", "labels", "size", "doc", "running_on"})
        values, labels, running = ff.strings("values"), ff.strings("labels"), ff.strings("running_on")
        if running and len(running) != len(values):
            raise CaseError(f"{path}: field `world.fields[{i}].running_on` needs one entry per value "
                            f"({len(values)} values; \"\" where the trampoline runs on its own stack)")
        if not values:
            raise CaseError(f"{path}: field `world.fields[{i}].values` must list at least one value")
        if len(values) > 1 and len(labels) != len(values):
            raise CaseError(f"{path}: field `world.fields[{i}].labels` needs one label per value "
                            f"({len(values)} values)")
        fields.append(FieldSpec(ff.get("at", str, required=True), values, labels, ff.get("size", int, 8),
                                ff.get("doc", str, ""), running))
    data = []
    for symbol, raw in f.sub("data", {}).table.items():
        df = _Fields(path, f"world.data.{symbol}", raw)
        df.reject_unknown({"value", "size", "doc"})
        data.append(DataSpec(symbol, df.get("value", str, ""), df.get("size", int, 8),
                             df.get("doc", str, "")))
    return World(f.get("doc", str, ""), f.get("gs", str, None), f.get("tls", str, None), tuple(regions),
                 tuple(fields), tuple(data))


def read_toml(path: Path) -> dict:
    """A TOML file's table, or a CaseError that names the file and what is wrong with it."""
    try:
        return tomllib.loads(path.read_text())
    except OSError as exc:
        raise CaseError(f"{path}: cannot read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise CaseError(f"{path}: not valid TOML: {exc}") from None


def parse_case(directory: Path) -> Case:
    path = directory / CASE_FILE
    return case_from_table(read_toml(path), path, directory)


def case_from_table(raw: dict, path: Path, directory: Path) -> Case:
    """A case from its TOML table (``path`` names it in messages; sources are relative to ``directory``)."""
    top = _Fields(path, "", raw)
    top.reject_unknown({"case", "entry_convention", "versions", "callees", "world"})
    head = top.sub("case")
    head.reject_unknown({"name", "summary", "entry", "contract", "callee_model", "package", "defines", "returns",
                         "port"})
    port_name = head.get("port", str, DEFAULT_PORT)
    if port_name not in PORTS or PORTS[port_name].abi is None:
        known = ", ".join(n for n, p in sorted(PORTS.items()) if p.abi)
        raise CaseError(f"{path}: field `case.port` names {port_name!r}; known: {known}")
    port = PORTS[port_name]
    returns = head.get("returns", int, 64)
    if returns not in (0, 32, 64):
        raise CaseError(f"{path}: field `case.returns` must be 0, 32 or 64, not {returns}")
    conv = top.sub("entry_convention", {})
    versions_raw = top.get("versions", list, required=True)
    if not versions_raw:
        raise CaseError(f"{path}: field `versions` must list at least one version")
    versions = tuple(_version(path, directory, i, v) for i, v in enumerate(versions_raw))
    names = [v.name for v in versions]
    if len(set(names)) != len(names):
        raise CaseError(f"{path}: field `versions` repeats a version name ({', '.join(names)})")
    callees_table = top.sub("callees", {})
    callee_model = head.get("callee_model", str, "go-abi0")
    callees = {n: _callee(path, n, v) for n, v in callees_table.table.items()}
    for spec in callees.values():
        if spec.returns_region and _go_callee(spec, callee_model):
            raise CaseError(f"{path}: field `callees.{spec.name}.returns_region` is read for host callees only (C's "
                            f"__error returns &errno), and {spec.name} is Go code under callee model "
                            f"{spec.model or callee_model!r}: drop it")
    return Case(
        name=head.get("name", str, required=True),
        directory=directory,
        summary=head.get("summary", str, ""),
        entries=_entries(path, head),
        returns=returns,
        contract=head.get("contract", str, port.abi.name),
        callee_model=callee_model,
        package=head.get("package", str, None),
        defines=head.strings("defines"),
        versions=versions,
        callees=callees,
        entry_convention=_entry_convention(path, conv, port.abi.plain_call),
        world=_world(path, top.sub("world", {})),
        port=port_name,
    )


def _go_callee(spec: CalleeSpec, callee_model: str) -> bool:
    """Whether a callee is Go code: not under a host model ("host", "host-<abi>"), nor a callee that keeps
    registers under symabi check's mixed model ("go-abi0+<abi>-host": host-ABI code, crosscall2 or C)."""
    model = spec.model or callee_model
    if model == "host" or model.startswith("host-"):
        return False
    return not (model.endswith("-host") and spec.keeps)


def _entries(path: Path, head: _Fields) -> tuple[str, ...]:
    raw = head.get("entry", (str, list), required=True)
    entries = (raw,) if isinstance(raw, str) else tuple(raw)
    if not entries or not all(isinstance(e, str) and e for e in entries):
        raise CaseError(f"{path}: field `case.entry` must be a symbol name or a non-empty list of them")
    return entries


def load_case(cases_dir: Path, name: str) -> Case:
    known = list_cases(cases_dir)
    if name not in known:
        listed = ", ".join(known) or "none"
        raise CaseError(f"unknown case {name!r} in {cases_dir} (known cases: {listed})")
    return parse_case(cases_dir / name)
