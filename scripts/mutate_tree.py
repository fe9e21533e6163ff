"""The tree's own mutants, judged three ways: symabi's verdict, the unicorn replay of its counterexamples,
and the real run of the tree's runtime on the real OS ABI.

Each mutant is a copy of the Go tree (hard links, but for the one header written anew) with one line
removed from the shared host→Go macros: every register save and restore of PUSH_REGS_HOST_TO_ABI0 /
POP_REGS_HOST_TO_ABI0 in both branches of runtime/cgo/abi_amd64.h (GOOS_windows and System V), and of
SAVE_R19_TO_R28 / SAVE_F8_TO_F15 and their restores in runtime/cgo/abi_arm64.h. The mutants are found
by reading the headers, not listed here.

symabi's verdict is given for every mutant whose port symabi proves (``symabi.ports``: windows/amd64 and
linux/amd64 today, linux/arm64 once that port is registered); the others get their real run alone.

    python scripts/mutate_tree.py [--goroot DIR] [--only windows,sysv,arm64] [--limit N] [--skip N]
                                  [--json out.json] [--markdown docs/real-runs.md]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from symabi.gate import registry
from symabi.gate.run import (  # the gate's own proof of each entry point, without the cases
    Quiet,
    _tree_items,
)
from symabi.ports import PORTS
from symabi.prover import Options
from symabi.realrun import catalog
from symabi.realrun.build import go_command
from symabi.realrun.run import real_run
from symabi.toolchain import find_toolchain
from symabi.verdicts import Verdict

AMD64_H, ARM64_H = "src/runtime/cgo/abi_amd64.h", "src/runtime/cgo/abi_arm64.h"
# A register save or restore inside one of the macros: MOVQ/MOVUPS to or from an SP slot, STP/LDP/FSTPD/FLDPD.
_MOVE = re.compile(r"^\s*(MOVQ|MOVUPS|STP|LDP|FSTPD|FLDPD)\s+(.*?)\s*(\\)?\s*(/\*.*\*/)?\s*$")
_DEFINE = re.compile(r"^#define\s+(\w+)")
_REG = re.compile(r"\b(R\d+|X\d+|F\d+|DI|SI|BP|BX|g)\b")
_ARM_NAMES = {"g": "x28"}


@dataclass(frozen=True)
class Mutant:
    name: str  # "windows: no save of X9"
    branch: str  # windows | sysv | arm64
    header: str  # the file under the tree, relative
    line: int  # 1-based line removed
    text: str  # the line removed
    registers: tuple[str, ...]  # the registers the line saves or restores, lower-case host names


@dataclass
class Judged:
    mutant: Mutant
    symbolic: dict[str, str] = field(default_factory=dict)  # entry -> "REFUTED: r12" / "PROVED" / ...
    replay: dict[str, str] = field(default_factory=dict)  # entry -> "2 of 2 confirmed"
    real: dict[str, str] = field(default_factory=dict)  # "crosscall2 windows/amd64" -> "lost r12" / "clean"
    seconds: float = 0.0
    times: dict[str, list[float]] = field(default_factory=dict)  # "crosscall2 windows/amd64" -> [build s, run s]
    redirects: dict[str, str] = field(default_factory=dict)  # harness -> the disassembly check of its shim


def _host_name(reg: str, branch: str) -> str:
    if branch == "arm64":
        if reg in _ARM_NAMES:
            return _ARM_NAMES[reg]
        return ("d" + reg[1:]) if reg.startswith("F") else ("x" + reg[1:])
    return {"DI": "rdi", "SI": "rsi", "BP": "rbp", "BX": "rbx"}.get(reg, reg.lower().replace("x", "xmm", 1)
                                                                      if reg.startswith("X") else reg.lower())


def _operands(text: str) -> list[str]:
    """Split an instruction's operands at the commas outside parentheses."""
    parts, depth, current = [], 0, ""
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        if ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    return parts + [current.strip()]


def mutants(goroot: Path) -> list[Mutant]:
    out = []
    for header, branches in ((AMD64_H, ("windows", "sysv")), (ARM64_H, ("arm64",))):
        macro, branch = None, branches[0]
        for number, text in enumerate((goroot / header).read_text().splitlines(), 1):
            if text.startswith("#else"):
                branch = branches[-1]
            if m := _DEFINE.match(text):
                macro = m[1]
            if macro not in ("PUSH_REGS_HOST_TO_ABI0", "POP_REGS_HOST_TO_ABI0", "SAVE_R19_TO_R28",
                             "RESTORE_R19_TO_R28", "SAVE_F8_TO_F15", "RESTORE_F8_TO_F15"):
                continue
            if not (m := _MOVE.match(text)) or "SP" not in m[2]:
                continue
            register_operand = next(o for o in _operands(m[2]) if "SP)" not in o)
            regs = tuple(_host_name(r, branch) for r in _REG.findall(register_operand))
            if not regs:
                continue
            kind = "save" if macro.startswith(("PUSH", "SAVE")) else "restore"
            out.append(Mutant(f"{branch}: no {kind} of {'/'.join(r.upper() for r in regs)}", branch, header,
                              number, text.strip(), regs))
            if not text.rstrip().endswith("\\"):
                macro = None
    return out


def make_tree(goroot: Path, mutant: Mutant, into: Path) -> Path:
    subprocess.run(["cp", "-al", str(goroot), str(into)], check=True)
    target = into / mutant.header
    lines = target.read_text().splitlines(keepends=True)
    target.unlink()  # a hard link: never write through it into the original tree
    target.write_text("".join(lines[:mutant.line - 1] + lines[mutant.line:]))
    return into


_PORTS = {"windows": "windows/amd64", "sysv": "linux/amd64", "arm64": "linux/arm64"}


def judge(goroot: Path, mutant: Mutant, toolchain, scratch: Path) -> Judged:
    began = time.monotonic()
    judged = Judged(mutant)
    tree = make_tree(goroot, mutant, scratch / "tree")
    cat = catalog.load()
    port = _PORTS[mutant.branch]
    if port in PORTS and PORTS[port].abi is not None:  # a port symabi proves: its verdict beside the real run
        entries = [e for e in registry.load() if cat.harness(e.name, port)]
        items, _ = _tree_items(tree, toolchain, entries, PORTS[port], Options(), Quiet(), {}, scratch,
                               registry.REGISTRY)
        for item in items:
            if item.verdict is None:
                judged.symbolic[item.name] = "absent"
                continue
            regs = sorted({v.location for v in item.outcome.violations})
            judged.symbolic[item.name] = item.verdict.value.upper() + (f": {' '.join(regs)}" if regs else "")
            if item.verdict is Verdict.REFUTED:
                confirmed = sum(v.replay == "confirmed" for v in item.outcome.violations)
                judged.replay[item.name] = f"{confirmed} of {len(item.outcome.violations)} confirmed"
    go = go_command(tree, toolchain.go)
    for harness in cat.harnesses.values():
        if port not in harness.ports:
            continue
        run = real_run(harness, cat.runners[port], tree, go, toolchain.version, gocache=scratch / "gocache")
        judged.times[f"{harness.name} {port}"] = [round(run.build_s, 2), round(run.run_s, 2)]
        if run.redirect:
            judged.redirects[harness.name] = run.redirect
        judged.real[f"{harness.name} {port}"] = ("lost " + " ".join(run.lost)) if run.lost and run.status == "lost" \
            else (run.status if run.status != "error" else f"error: {run.detail[:120]}")
    judged.seconds = time.monotonic() - began
    return judged


def agreement(j: Judged) -> str:
    """Per entry point: do symabi's refutation and the real run name the same registers? "model only"
    is a register the model lets the Go callee clobber and the real callee keeps (an over-approximation;
    sound); "real only" is a register the real run lost and symabi did not name (unsound: a symabi bug)."""
    if not j.symbolic:
        return "real run only (no symbolic port yet)"
    out = []
    for entry, verdict in j.symbolic.items():
        named = set(verdict.split(": ", 1)[1].split()) if ": " in verdict else set()
        real = next((v for k, v in j.real.items() if k.startswith(entry + " ")), None)
        if real is None or real.startswith("error"):
            out.append(f"{entry}: no real run" + (f" ({real})" if real else ""))
            continue
        lost = set(real.removeprefix("lost ").split()) if real.startswith("lost") else set()
        if lost - named:
            out.append(f"{entry}: REAL ONLY {' '.join(sorted(lost - named))} (unsound)")
        if named - lost:
            out.append(f"{entry}: model only {' '.join(sorted(named - lost))}")
    return "; ".join(out) or "agree"


def markdown(judged: list[Judged], goroot: Path, version: str) -> str:
    rows = ["| mutant | line removed | symabi (the mutant's port) | unicorn replay | real run | agreement |",
            "| --- | --- | --- | --- | --- | --- |"]
    for j in judged:
        cell = lambda d: "<br>".join(f"{k.split()[0]}: {v}" for k, v in d.items()) or "—"
        line = " ".join(j.mutant.text.rstrip("\\ \t").split())
        rows.append(f"| {j.mutant.name} | `{line}` ({j.mutant.header.split('/')[-1]}:{j.mutant.line}) "
                    f"| {cell(j.symbolic)} | {cell(j.replay)} | {cell(j.real)} | {agreement(j)} |")
    verdicts = [agreement(j) for j in judged]
    tally = (f"{sum(v == 'agree' for v in verdicts)} agree, {sum('model only' in v for v in verdicts)} with a register "
             f"only the model names, {sum('REAL ONLY' in v for v in verdicts)} with a register only the real run lost, "
             f"{sum(v.startswith('real run only') for v in verdicts)} real run only")
    return "\n".join(rows) + f"\n\n{len(judged)} mutants of {goroot} ({version}): {tally}.\n" + timings(judged)


def timings(judged: list[Judged]) -> str:
    """Per port: the first harness's build of each mutant (cold: the mutant's own Go cache), the other
    harnesses' builds (the runtime and standard library cached by the first), the runs, and the time
    per mutant of that port (symabi's proofs and replays included)."""
    per_port: dict[str, dict[str, list[float]]] = {}
    for j in judged:
        for index, (key, (build, run)) in enumerate(j.times.items()):
            t = per_port.setdefault(key.split()[1], {"cold": [], "warm": [], "run": [], "mutant": []})
            t["cold" if index == 0 else "warm"].append(build)
            t["run"].append(run)
        for port in {k.split()[1] for k in j.times}:
            per_port[port]["mutant"].append(j.seconds)
    span = lambda xs: f"{min(xs):.1f}–{max(xs):.1f} s (median {sorted(xs)[len(xs) // 2]:.1f} s)" if xs else "—"
    lines = [f"| {port} | {span(t['cold'])} | {span(t['warm'])} | {span(t['run'])} | {span(t['mutant'])} |"
             for port, t in sorted(per_port.items())]
    head = ["| port | first build (cold) | other builds | run | per mutant |", "| --- | --- | --- | --- | --- |"]
    return ("\nBuild and run times, over the mutants:\n\n" + "\n".join(head + lines) + "\n") if lines else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--goroot", type=Path)
    parser.add_argument("--only", default="windows,sysv,arm64")
    parser.add_argument("--limit", type=int, default=0, help="at most N mutants per branch")
    parser.add_argument("--skip", type=int, default=0, help="leave out the first N of those chosen (to split a run)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--markdown", type=Path, help="write the table (not the rest of the document)")
    parser.add_argument("--render", type=Path, help="only turn an earlier --json file into --markdown")
    args = parser.parse_args(argv)
    toolchain = find_toolchain()
    goroot = (args.goroot or toolchain.goroot).resolve()
    if args.render:
        judged = [Judged(Mutant(**{**x["mutant"], "registers": tuple(x["mutant"]["registers"])}), x["symbolic"],
                         x["replay"], x["real"], x["seconds"], x.get("times", {}), x.get("redirects", {}))
                  for x in json.loads(args.render.read_text())]
        (args.markdown or Path("/dev/stdout")).write_text(markdown(judged, goroot, toolchain.version))
        return 0
    chosen, counts = [], {}
    for m in mutants(goroot):
        if m.branch in args.only.split(",") and (not args.limit or counts.get(m.branch, 0) < args.limit):
            counts[m.branch] = counts.get(m.branch, 0) + 1
            chosen.append(m)
    chosen = chosen[args.skip:]
    judged = []
    for index, m in enumerate(chosen, 1):
        with tempfile.TemporaryDirectory(prefix="symabi-mutant-") as scratch:
            j = judge(goroot, m, toolchain, Path(scratch))
        judged.append(j)
        print(f"[{index}/{len(chosen)}] {m.name}: symabi {j.symbolic or '-'} replay {j.replay or '-'} "
              f"real {j.real} -> {agreement(j)} ({j.seconds:.0f} s)", flush=True)
        if args.json:  # after every mutant: a long run interrupted keeps what it judged
            args.json.write_text(json.dumps([{**asdict(x), "agreement": agreement(x)} for x in judged], indent=2))
        if args.markdown:
            args.markdown.write_text(markdown(judged, goroot, toolchain.version))
    return 0


if __name__ == "__main__":
    sys.exit(main())
