#!/usr/bin/env python3
"""Where symabi's time goes, and issue 15's speed figures.

Prints, from one run:

* per phase (assemble, load, explore, solve, and any other phase the prover records, such as
  equivalence) for each version of each shipped case, measured in this process by the prover itself
  (``VersionResult.timings``);
* the wall time of the whole ``symabi prove crosscall2 --no-cache`` command in a fresh process, first
  run and best of ``--repeat``, beside the floor, ``python -c "import angr"`` with the same interpreter,
  measured the same way (interleaved with the command, so both see the same machine state);
* the targets, each in fresh processes interleaved with the floor, as a ratio to it, with the CPU
  seconds spent (user + sys, the gate's workers included: a figure a shared machine disturbs less than
  wall time) and the peak resident memory of the largest process (``ru_maxrss``, the gate's workers
  included): cold
  ``symabi prove crosscall2`` (nothing cached; <= 1.15x), the same answered from the verdict cache,
  ``symabi gate --no-cache`` on windows/amd64 (<= floor + the Go build plan + 2 s), ``symabi gate`` on an
  unchanged tree (<= 0.5x) and ``symabi gate --ports all --no-cache`` (<= 60 s). They run in a private
  cache folder seeded with the user's listings and go_asm.h files, so verdicts start empty.

    python scripts/bench.py [--repeat N] [--repeat-all N] [--jobs N] [--case NAME] [--cases-dir DIR]
                            [--go PATH] [--json] [--quick]

On a loaded machine take the best runs, and quote the first beside them. Timings only: nothing here
asserts a number (a target is reported as met or not).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PHASES = ("assemble", "load", "explore", "solve")


def symabi_command() -> list[str]:
    """The installed ``symabi`` script beside this interpreter, else ``python -m symabi``."""
    script = Path(sys.executable).with_name("symabi")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "symabi"]


def wall(cmd: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    began = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - began
    return seconds, proc.returncode, proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""


def _seeded_cache(tmp: Path) -> Path:
    """A private cache folder holding the user's assembled listings and generated go_asm.h files (both
    keyed by content, so reusing them is safe) and no verdicts: every figure starts from the same state."""
    import shutil

    from symabi.cache import cache_root

    folder = tmp / "cache"
    folder.mkdir()
    for part in ("listings", "go_asm_h"):
        if (cache_root() / part).is_dir():
            shutil.copytree(cache_root() / part, folder / part)
    return folder


def _gate_seconds(stdout: str, prefix: str) -> float | None:
    """The share of a ``symabi gate --json`` run its timings starting with ``prefix`` took: ``plan `` (the Go
    build plan), ``go_asm.h `` (the generated headers: seconds when built, not when the cache has them)."""
    try:
        timings = json.loads(stdout)["timings"]
    except (ValueError, KeyError, TypeError):
        return None
    return sum(v for k, v in timings.items() if k.startswith(prefix))


def run_child(cmd: list[str], env: dict[str, str]) -> dict:
    """One fresh process: wall seconds, exit code, peak resident memory (MiB: ru_maxrss of the child and the
    processes it waited for, e.g. the gate's workers) and the build plan's seconds when it is a gate."""
    began = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    stdout = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"seconds": time.perf_counter() - began, "exit_code": proc.returncode, "peak_mib": usage.ru_maxrss / 1024,
            "cpu": usage.ru_utime + usage.ru_stime, "plan": _gate_seconds(stdout, "plan ") if "gate" in cmd else None,
            "headers": _gate_seconds(stdout, "go_asm.h ") if "gate" in cmd else None}


def _summary(runs: list[dict]) -> dict:
    best = min(runs, key=lambda r: r["seconds"])
    return {"runs": [r["seconds"] for r in runs], "first": runs[0]["seconds"], "best": best["seconds"],
            "peak_mib": max(r["peak_mib"] for r in runs), "exit_code": runs[-1]["exit_code"],
            "plan": best["plan"], "headers": best.get("headers"), "cpu": min(r.get("cpu", 0.0) for r in runs)}


def measure_targets(repeat: int, repeat_all: int, go: str | None, jobs: int | None) -> dict:
    """The figures issue 15 sets, each measured in fresh processes beside the floor, interleaved with it."""
    import tempfile

    sym = symabi_command()
    extra = ["--go", go] if go else []
    gate = [*sym, "gate", "--baseline", str(REPO / "gate-baseline.json"), "--json", *extra,
            *(["--jobs", str(jobs)] if jobs else [])]
    commands = {
        "floor": [sys.executable, "-c", "import angr"],
        "prove_cold": [*sym, "prove", "crosscall2", "--no-cache", *extra],
        "prove_warm": [*sym, "prove", "crosscall2", *extra],
        "gate_cold": [*gate, "--no-cache"],
        "gate_warm": gate,
    }
    with tempfile.TemporaryDirectory(prefix="symabi-bench-") as tmp:
        env = dict(os.environ, SYMABI_CACHE_DIR=str(_seeded_cache(Path(tmp))))
        for var in ("SYMABI_DEBUG", "SYMABI_NO_CACHE"):
            env.pop(var, None)
        run_child(commands["prove_warm"], env)  # fill the verdict cache (these runs are not figures)
        run_child(commands["gate_warm"], env)
        runs: dict[str, list[dict]] = {k: [] for k in commands}
        for _ in range(repeat):
            for key, cmd in commands.items():
                runs[key].append(run_child(cmd, env))
        all_ports = [run_child([*gate, "--ports", "all", "--no-cache"], env) for _ in range(repeat_all)]
    out = {key: {"argv": commands[key], **_summary(r)} for key, r in runs.items()}
    if all_ports:
        out["gate_all_cold"] = {"argv": [*gate, "--ports", "all", "--no-cache"], **_summary(all_ports)}
    out["jobs"] = jobs or os.cpu_count()
    return out


def measure_commands(case: str, repeat: int, cases_dir: Path | None, go: str | None) -> dict:
    env = dict(os.environ)
    env.pop("SYMABI_DEBUG", None)
    prove = [*symabi_command(), "prove", case, "--no-cache"]
    if cases_dir is not None:
        prove += ["--cases-dir", str(cases_dir)]
    if go is not None:
        prove += ["--go", go]
    commands = {
        "floor": [sys.executable, "-c", "import angr"],
        "command": prove,
    }
    runs: dict[str, list[float]] = {k: [] for k in commands}
    status: dict[str, tuple[int, str]] = {}
    for _ in range(repeat):
        for key, cmd in commands.items():  # interleaved: floor, command, floor, command, ...
            seconds, code, last = wall(cmd, env)
            runs[key].append(seconds)
            status[key] = (code, last)
    out = {}
    for key, cmd in commands.items():
        code, last = status[key]
        out[key] = {"argv": cmd, "runs": runs[key], "first": runs[key][0], "best": min(runs[key]),
                    "exit_code": code, "stderr": last}
    return out


def measure_phases(cases_dir: Path | None, go: str | None) -> dict:
    began = time.perf_counter()
    from symabi.casefile import default_cases_dir, list_cases, parse_case
    from symabi.errors import SymabiError
    from symabi.prover import prove_case
    from symabi.toolchain import find_toolchain

    imported = time.perf_counter() - began
    toolchain = find_toolchain(go)
    folder = cases_dir or default_cases_dir()
    rows = []
    for name in list_cases(folder):
        began = time.perf_counter()
        try:
            result = prove_case(parse_case(folder / name), toolchain)
        except SymabiError as exc:
            rows.append({"case": name, "version": "-", "verdict": "error", "timings": {}, "error": str(exc)})
            continue
        except Exception as exc:  # noqa: BLE001 - a benchmark reports a crash and measures the rest
            rows.append({"case": name, "version": "-", "verdict": "crash", "timings": {},
                         "error": f"{type(exc).__name__}: {exc}"})
            continue
        total = time.perf_counter() - began
        for v in result.versions:
            rows.append({"case": name, "version": v.name, "verdict": v.verdict.value, "timings": dict(v.timings),
                         "error": v.error or None})
        rows.append({"case": name, "version": "(all)", "verdict": result.judged.verdict.value,
                     "timings": {}, "wall": total, "error": None})
    return {"toolchain": toolchain.version, "import_seconds": imported, "rows": rows}


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def render(report: dict) -> str:
    lines = [f"symabi benchmark · python {report['python']} · {report['toolchain']} · angr {report['angr']}",
             f"{report['machine']}", ""]
    phases = report["phases"]
    extra = sorted({k for r in phases["rows"] for k in r["timings"]} - set(PHASES))
    columns = [*PHASES, *extra, "total"]
    lines.append(f"per phase, in this process (seconds; `import symabi.prover` took {phases['import_seconds']:.2f})")
    header = f"  {'case':<16}{'version':<9}{'verdict':<9}" + "".join(f"{c:>12}" for c in columns)
    lines.append(header)
    lines.append("  " + "-" * (len(header) - 2))
    for r in phases["rows"]:
        t = r["timings"]
        total = r.get("wall") if r["version"] == "(all)" else (sum(t.values()) if t else None)
        cells = [_s(t.get(c)) if c != "total" else _s(total) for c in columns]
        if r["version"] == "(all)":
            cells = ["" for _ in columns[:-1]] + [_s(total)]
        lines.append(f"  {r['case']:<16}{r['version']:<9}{r['verdict']:<9}" + "".join(f"{c:>12}" for c in cells))
        if r.get("error"):
            lines.append(f"      {r['error'].splitlines()[0]}")
    cmds = report["commands"]
    n = len(cmds["command"]["runs"])
    lines.append("")
    lines.append(f"whole command, fresh process each run (seconds; {n} run{'s' if n != 1 else ''} each, interleaved)")
    lines.append(f"  {'':<44}{'cold':>10}{'best':>10}")
    floor, command = cmds["floor"], cmds["command"]
    floor_label = 'python -c "import angr"  (the floor)'
    lines.append(f"  {floor_label:<44}{floor['first']:>10.3f}{floor['best']:>10.3f}")
    label = "symabi " + " ".join(command["argv"][command["argv"].index("prove"):])
    suffix = f"  (exit {command['exit_code']})"
    lines.append(f"  {label:<44}{command['first']:>10.3f}{command['best']:>10.3f}{suffix}")
    lines.append(f"  {'above the floor':<44}{command['first'] - floor['first']:>10.3f}"
                 f"{command['best'] - floor['best']:>10.3f}")
    if command["exit_code"] not in (0, 1, 2) or (command["exit_code"] == 2 and command["stderr"]):
        lines.append(f"  note: the command said: {command['stderr']}")
    if report.get("targets"):
        lines += ["", *render_targets(report["targets"])]
    return "\n".join(lines)


def _row(label: str, run: dict, floor: dict, target: str, met: bool | None) -> str:
    ratio = f"{run['first'] / floor['first']:.2f}x/{run['best'] / floor['best']:.2f}x"
    verdict = "" if met is None else ("  met" if met else "  NOT met")
    cpu = f"{run['cpu']:.2f}" if "cpu" in run else "-"
    return (f"  {label:<36}{run['first']:>8.2f}{run['best']:>8.2f}{ratio:>14}{cpu:>8}{run['peak_mib']:>9.0f}"
            f"{run['exit_code']:>6}  {target}{verdict}")


def render_targets(t: dict) -> list[str]:
    """Issue 15's figures: each as a ratio to the floor of the same run (first run/best run), peak memory."""
    floor = t["floor"]
    title = (f"targets (fresh processes; first and best of {len(floor['runs'])} interleaved runs; ratio to the floor "
             f"first/best; CPU seconds (user + sys, the gate's workers included) of the least costly run; peak RSS "
             f"of the largest process; gate with --jobs {t['jobs']})")
    lines = [title,
             f"  {'':<36}{'first s':>8}{'best s':>8}{'x floor':>14}{'CPU s':>8}{'peak MiB':>9}{'exit':>6}  target"]
    lines.append(_row('python -c "import angr" (the floor)', floor, floor, "", None))
    lines.append(_row("prove crosscall2 (nothing cached)", t["prove_cold"], floor, "<= 1.15x floor",
                      t["prove_cold"]["best"] <= 1.15 * floor["best"]))
    lines.append(_row("prove crosscall2 (verdict cached)", t["prove_warm"], floor, "", None))
    cold, plan = t["gate_cold"], t["gate_cold"]["plan"] or 0.0
    lines.append(_row("gate --no-cache (windows/amd64)", cold, floor, f"<= floor + plan ({plan:.2f}) + 2 s",
                      cold["best"] <= floor["best"] + plan + 2))
    lines.append(_row("gate, unchanged tree (cached)", t["gate_warm"], floor, "<= 0.5x floor",
                      t["gate_warm"]["best"] <= 0.5 * floor["best"]))
    if "gate_all_cold" in t:
        headers = t["gate_all_cold"].get("headers") or 0.0  # > 1 s a port: go_asm.h built, not from the cache
        lines.append(_row("gate --ports all --no-cache", t["gate_all_cold"], floor,
                          f"<= 60 s (go_asm.h: {headers:.1f} s)", t["gate_all_cold"]["best"] <= 60))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each whole command (default 3)")
    parser.add_argument("--case", default="crosscall2", help="the case the whole command proves")
    parser.add_argument("--cases-dir", type=Path, default=None, help="cases folder (default: the shipped cases)")
    parser.add_argument("--go", default=None, help="the go command (default: as symabi chooses)")
    parser.add_argument("--json", action="store_true", help="print the measurements as JSON")
    parser.add_argument("--quick", action="store_true", help="skip the target figures (the gate runs)")
    parser.add_argument("--repeat-all", type=int, default=1, help="runs of `symabi gate --ports all` (default 1; 0: "
                        "skip it)")
    parser.add_argument("--jobs", type=int, default=None, help="the gate's --jobs (default: its own, the cores)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    sys.path.insert(0, str(REPO))  # a checkout without an install still benchmarks its own code
    commands = measure_commands(args.case, args.repeat, args.cases_dir, args.go)
    # before this process imports angr: a child forked from a big process reports its size as its peak
    targets = None if args.quick else measure_targets(args.repeat, args.repeat_all, args.go, args.jobs)
    phases = measure_phases(args.cases_dir, args.go)
    import angr

    report = {
        "python": platform.python_version(),
        "interpreter": sys.executable,
        "machine": f"{platform.machine()} · {os.cpu_count()} CPUs · {platform.platform(terse=True)}",
        "angr": angr.__version__ if isinstance(angr.__version__, str) else ".".join(map(str, angr.__version__)),
        "toolchain": phases["toolchain"],
        "phases": phases,
        "commands": commands,
        "targets": targets,
    }
    print(json.dumps(report, indent=2) if args.json else render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
