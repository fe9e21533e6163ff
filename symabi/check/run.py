"""``symabi check``: find the marked functions of a module's packages, build each one's case from the
port and from what its code calls, prove it. Stages: module (go list, the build plan, go_asm.h) ->
directives and symabi.toml -> callees and world needs -> a Case -> the prover -> ``Checked`` records.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from symabi.casefile import Case, case_from_table
from symabi.check import callees as infer
from symabi.check import config as configs
from symabi.check import contract as host_calls
from symabi.check import host_call
from symabi.check.directives import TextDecl, marks, text_decls
from symabi.models.check_callees import MODELS
from symabi.check.module import Module, Package, find_module, packages, plan
from symabi.errors import AssemblerError, CaseError, SymabiError
from symabi.frontend import Listing
from symabi.gate import build
from symabi.gate import ports as gate_ports
from symabi.obligations import signal_handler
from symabi.ports import DEFAULT_PORT, Port
from symabi.prover import Options, prove_case
from symabi.toolchain import find_toolchain
from symabi.verdicts import CaseResult, Verdict

VERSION = "module"
# Thread-local storage: amd64's TLS pseudo-register and segment prefixes; arm64's thread pointer registers
# (MRS TPIDR_EL0, R0, or the MRS_TPIDR_R0 macro's WORD), and R18 on windows/arm64 (the TEB) is a register the
# contract itself guards.
_SEGMENT = re.compile(r"\((TLS|GS|FS)\)|\b(GS|FS):|\d\((GS|FS)\)|\(TLS\)|\bTPIDR(RO)?_EL0\b")
_DATA_RELOCATIONS = ("R_PCREL", "R_ADDR", "R_GOTPCREL", "R_ADDRARM64", "R_ARM64_PCREL_LDST8",
                     "R_ARM64_PCREL_LDST16", "R_ARM64_PCREL_LDST32", "R_ARM64_PCREL_LDST64", "R_ARM64_GOTPCREL")


class NothingMarked(SymabiError):
    pass


@dataclass(frozen=True)
class Target:
    """A function to check: marked in the source, or named in symabi.toml."""

    package: Package
    text: TextDecl
    kind: str
    keys: dict[str, str]
    marked_at: str  # "file:line:col" of the directive, or "symabi.toml"
    returns: int | None = None
    entry_convention: dict = field(default_factory=dict)


@dataclass
class Checked:
    target: Target
    port: str
    result: CaseResult | None = None
    reason: str = ""  # UNKNOWN before any path ran: why
    models: tuple[str, ...] = ()  # the callee models, in words

    @property
    def verdict(self) -> Verdict:
        return self.result.judged.verdict if self.result is not None else Verdict.UNKNOWN


@dataclass
class CheckRun:
    module: Module
    checked: list[Checked]
    ports: tuple[str, ...]
    notes: dict[str, str] = field(default_factory=dict)  # a port not checked -> why

    @property
    def exit_code(self) -> int:
        verdicts = {c.verdict for c in self.checked}
        if Verdict.REFUTED in verdicts:
            return 1
        return 2 if Verdict.UNKNOWN in verdicts else 0


def _targets(pkgs: list[Package], config: configs.Config, goarch: str) -> list[Target]:
    out, named = [], {name: fc.on(goarch) for name, fc in config.functions.items()}
    for pkg in pkgs:
        for name in pkg.sfiles:
            path = pkg.directory / name
            for m in marks(path, pkg.import_path):
                fc = named.get(m.text.name)  # symabi.toml may add to a directive; the directive's keys win
                keys = {**(fc.keys if fc else {}), **m.keys}
                out.append(Target(pkg, m.text, m.kind, keys, m.where, *_settings(fc)))
            for decl in text_decls(path, pkg.import_path):
                fc = named.get(decl.name)
                if fc is not None and not any(t.text.name == decl.name and t.package is pkg for t in out):
                    out.append(Target(pkg, decl, fc.kind, fc.keys, config.where, fc.returns, fc.entry_convention))
    return out


def _settings(fc: configs.FunctionConfig | None) -> tuple:
    return (fc.returns, fc.entry_convention) if fc is not None else (None, {})


def _here(path: Path) -> str:
    """A path as the user can click it: relative to the working folder when under it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _tls_need(ins, folder: Path) -> str:
    return (f"thread-local storage ({ins.text.split(chr(9))[0]} at {_here(folder / ins.location)}): declare where "
            "the TLS segment points, `tls = \"REGION+OFFSET\"`, and the region (`[worlds.NAME.regions.REGION] "
            "size = ...`) with its words (`[[worlds.NAME.fields]]`)")


def _data_need(target: str, ins, folder: Path) -> str:
    return (f"{target} ({_here(folder / ins.location)}: {ins.text.replace(chr(9), ' ')}), data outside the file: "
            f"declare what it holds, `[worlds.NAME.data.\"{target}\"] value = \"REGION\"` (the address of a "
            "`[worlds.NAME.regions.REGION]` it points to) or a number")


def world_needs(listing: Listing, entry: str, folder: Path, world: dict, callee_names: set[str]) -> list[str]:
    """What the code reads that only a world can say: TLS, and data symbols outside the file (with the
    line that reads each), unless ``world`` (a case.toml [world] table) already covers it."""
    own = {s.name for s in listing.symbols}
    declared = set((world.get("data") or {}).keys())
    needs: dict[str, None] = {}
    for symbol in infer.reachable(listing, entry):
        instructions = symbol.real_instructions()
        for ins in instructions:
            if _SEGMENT.search(ins.text) and not (world.get("tls") or world.get("gs")):
                needs[_tls_need(ins, folder)] = None
        for reloc in symbol.relocations:
            target = reloc.target
            if reloc.type not in _DATA_RELOCATIONS or not target or target in own | callee_names | declared:
                continue
            ins = next((i for i in reversed(instructions) if i.offset <= reloc.offset), None)
            if ins is None or "$" in ins.text or ins.text.startswith("LEAQ"):
                continue  # the address is taken, nothing is read
            needs[_data_need(target, ins, folder)] = None
    return list(needs)


def _declared(name: str, port: Port, config: configs.Config) -> tuple[dict, str, bool]:
    """A callee as symabi.toml declares it: its case table, the words that say so, whether it is host code
    (``keeps`` registers, or ``host = true``: a host function of the port's ABI, symabi.check.callees)."""
    table = dict(config.callees[name])
    host = table.pop("host", False)
    if not isinstance(host, bool):
        raise CaseError(f"{config.where}: field `callees.\"{name}\".host` must be true or false")
    if host:
        model = infer.host_function(name, port)
        return {**model.table, **table}, f"{model.how} (as {config.where} declares it)", True
    return table, f"{name}: as {config.where} declares it", bool(table.get("keeps"))


def _reaches(name: str, regions: set[str]) -> bool:
    """Whether a symabi.toml callee named by an input or the world applies to a function whose world has
    ``regions``: ``entry.rcx`` and ``entry.stack+0x8`` to every function, ``world.fn`` and
    ``entry.info+0x0`` to one whose world has the region."""
    if name.startswith("world."):
        return name.removeprefix("world.") in regions
    region, plus, _ = name.removeprefix("entry.").partition("+0x")
    return not plus or region == "stack" or region in regions


def _callees(listing: Listing, entry: str, port: Port, config: configs.Config, asm_args, gofiles,
             regions: set[str]):
    tables, words, missing, host = {}, [], [], set()
    # what the code calls by name, then what it reaches through an input or the world ("entry.rcx", "world.fn")
    reached = [*infer.called(listing, entry),
               *(n for n in config.callees if n.startswith(("entry.", "world.")) and _reaches(n, regions))]
    for name in dict.fromkeys(reached):
        if name in config.callees:
            got = _declared(name, port, config)
        else:
            got = infer.infer(name, port, asm_args, gofiles)
            if got.missing:
                missing.append(f"{got.missing}: declare `[callees.\"{name}\"] args = N` (bytes of ABI0 arguments) "
                               f"in {config.where}")
                continue
            got = (got.table, got.how, got.host)
        tables[name], is_host = got[0], got[2]
        words.append(got[1])
        if is_host:
            host.add(name)
    return tables, tuple(words), missing, frozenset(host)


def case_for(target: Target, port: Port, listing: Listing, module: Module, config: configs.Config,
             asm_args: dict[str, int], gofiles: dict[str, list[Path]]) -> tuple[Case | None, tuple[str, ...], str]:
    """The target's case (None with the reason when it cannot be checked) and its callee models."""
    world_name = target.keys.get("world")
    if world_name is not None and world_name not in config.worlds:
        raise CaseError(f"{target.marked_at}: world={world_name} names no [worlds.{world_name}] table in "
                        f"{config.where}")
    world = config.worlds.get(world_name, {}) if world_name else {}
    regions = set(world.get("regions", {})) if isinstance(world, dict) else set()
    tables, words, missing, host = _callees(listing, target.text.name, port, config, asm_args, gofiles, regions)
    needs = world_needs(listing, target.text.name, target.text.file.parent, world, set(tables))
    if missing or needs:
        hint = "" if world_name else \
            f" (in {config.where}, under a [worlds.NAME] table the function names with world=NAME)"
        said = "; ".join(missing + [f"it reads {n}" for n in needs])
        return None, words, f"{said}{hint if needs else ''}"
    named = target.keys.get("contract")
    if named == signal_handler.NAME:  # the kernel enters the handler: linux only (its doc says why)
        if target.kind == "host-call":
            raise CaseError(f"{target.marked_at}: contract={named} is for a handler the kernel enters "
                            "(host-entry), not for Go code that calls the host (host-call)")
        why = signal_handler.why_not(port.goos, port.contract)
        if why:
            return None, words, why
    if target.kind == "host-call":
        calling, why = host_call.plan(target.text, port, listing, host, tables,
                                      gofiles.get(target.package.import_path, []))
        if calling is None:
            return None, words, why
        tables, words = {**tables, **calling.callees}, words + calling.words
        contract, model, convention = named or host_call.CONTRACT, host_call.CALLEE_MODEL, calling.convention
        convention = {**convention, "stack": target.keys.get("stack", "goroutine")}  # casefile checks the value
        returns = 0  # the result words are Go's, checked as stack writes; no host reads RAX
    else:
        contract, model = host_calls.register(port.abi, host, named), MODELS[port.abi.name].name
        plain = signal_handler.ENTRY_CONVENTIONS[port.abi.name] if named == signal_handler.NAME else port.abi.plain_call
        convention, returns = {"name": plain}, 64
    convention = {**convention, **({"name": target.keys["convention"]} if "convention" in target.keys else {}),
                  **target.entry_convention}
    table = {
        "case": {"name": target.text.name, "summary": f"{target.kind} {target.text.written} ({target.marked_at})",
                 "entry": target.text.name, "contract": contract, "callee_model": model,
                 "package": target.package.import_path, "port": port.name,
                 "returns": returns if target.returns is None else target.returns},
        "entry_convention": convention,
        "callees": tables,
        "world": world,
        "versions": [{"name": VERSION, "source": str(target.text.file), "revision": "the module's working tree"}],
    }
    return case_from_table(table, config.path or target.text.file, module.root), words, ""


def _assemble(tree: build.Tree, target: Target) -> tuple[Listing | None, str]:
    command = tree.command(target.package.import_path, target.text.file.name)
    if command is None:
        return None, f"the {tree.port.name} build plan does not assemble {target.text.file.name}"
    if build.needs_go_asm_h(command):
        build.generate_header(tree, command.package)
    try:
        return build.assemble_file(tree, command), ""
    except AssemblerError as exc:
        return None, f"{target.text.file.name} does not assemble for {tree.port.name}: {exc}"


def _check_port(module: Module, config: configs.Config, toolchain, port: Port, patterns, options: Options,
                scratch: Path, seen: set[str]) -> list[Checked]:
    """``seen`` collects the import paths the patterns match."""
    pkgs = packages(module, toolchain, patterns, port, scratch)
    seen.update(p.import_path for p in pkgs)
    targets = _targets([p for p in pkgs if p.sfiles], config, port.goarch)
    if not targets:
        return []
    tree = plan(module, toolchain, [p for p in pkgs if p.sfiles], port, scratch)
    asm_args = {d.name: d.args for p in pkgs for f in p.sfiles for d in text_decls(p.directory / f, p.import_path)
                if d.args is not None}
    gofiles = {p.import_path: [p.directory / g for g in p.gofiles] for p in pkgs}
    out = []
    for target in targets:
        item = Checked(target, port.name)
        out.append(item)
        listing, item.reason = _assemble(tree, target)
        if listing is None:
            continue
        case, item.models, item.reason = case_for(target, port, listing, module, config, asm_args, gofiles)
        if case is not None:
            item.result = prove_case(case, tree.toolchain, options=options, listings={VERSION: listing})
    return out


def check(start: Path, patterns: tuple[str, ...] = ("./...",), ports: tuple[str, ...] = (DEFAULT_PORT,),
          go: str | None = None, options: Options = Options()) -> CheckRun:
    """Raises SymabiError for bad input (no module, a bad directive, nothing marked)."""
    module = find_module(start)
    config = configs.load(module.root)
    toolchain = find_toolchain(go)
    chosen, notes = gate_ports.choose(ports, toolchain.goroot, toolchain)
    checked, seen = [], set()
    with tempfile.TemporaryDirectory(prefix="symabi-check-") as scratch:
        for port in chosen:
            checked += _check_port(module, config, toolchain, port, patterns, options,
                                   Path(scratch) / port.name.replace("/", "_"), seen)
    # a symbol of a package the patterns leave out is not looked for; one of a matched package must exist
    unmatched = sorted(name for name in set(config.functions) - {c.target.text.name for c in checked}
                       if name.rpartition(".")[0] in seen or "/" not in name)
    if unmatched:
        raise CaseError(f"{config.where}: [functions.\"{unmatched[0]}\"] names no TEXT symbol of the .s files "
                        f"{' '.join(patterns)} assembles for {', '.join(p.name for p in chosen)} (a linker name: "
                        "\"example.com/m/pkg.f\" for ·f, \"f\" for f)")
    if not checked:
        raise NothingMarked(f"no function in {' '.join(patterns)} of {module.path} is marked //symabi:host-entry "
                            f"or named in {configs.CONFIG_FILE} (for {', '.join(p.name for p in chosen)}); "
                            "see docs/check.md")
    return CheckRun(module, checked, tuple(p.name for p in chosen), notes)
