#!/usr/bin/env python3
"""Where symabi's time goes.

Prints, from one run:

* per phase (assemble, load, explore, solve, and any other phase the prover records, such as
  equivalence) for each version of each shipped case, measured in this process by the prover itself
  (``VersionResult.timings``);
* the wall time of the whole ``symabi prove crosscall2`` command in a fresh process, first run and
  best of ``--repeat``;
* beside it the floor, ``python -c "import angr"`` with the same interpreter, measured the same way
  (interleaved with the command, so both see the same machine state).

    python scripts/bench.py [--repeat N] [--case NAME] [--cases-dir DIR] [--go PATH] [--json]

Timings only: nothing here asserts a number.
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


def measured(cmd: list[str], env: dict[str, str]) -> tuple[float, int, float]:
    """Wall seconds, exit code and peak resident memory (MiB) of one child process."""
    began = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - began, proc.returncode, usage.ru_maxrss / 1024


def measure_cold_warm(cases_dir: Path | None, go: str | None) -> list[dict]:
    """Each shipped case and the whole gate as fresh processes: cold (an empty cache) and warm (a filled one)."""
    import tempfile

    from symabi.casefile import default_cases_dir, list_cases

    extra = (["--cases-dir", str(cases_dir)] if cases_dir else []) + (["--go", go] if go else [])
    jobs = [(f"prove {name}", [*symabi_command(), "prove", name, *extra])
            for name in list_cases(cases_dir or default_cases_dir())]
    jobs.append(("gate", [*symabi_command(), "gate", "--baseline", str(REPO / "gate-baseline.json"), "--json",
                          *(["--go", go] if go else [])]))
    jobs.append(("gate --ports all", [*symabi_command(), "gate", "--ports", "all", "--baseline",
                                      str(REPO / "gate-baseline.json"), "--json", *(["--go", go] if go else [])]))
    rows = []
    with tempfile.TemporaryDirectory(prefix="symabi-bench-") as tmp:
        for label, cmd in jobs:
            cold_dir = Path(tmp) / f"cold-{len(rows)}"
            env = dict(os.environ, SYMABI_CACHE_DIR=str(cold_dir))
            env.pop("SYMABI_DEBUG", None)
            cold = measured(cmd, env)
            warm = measured(cmd, env)  # the same cache folder, now filled
            rows.append({"what": label, "cold": cold[0], "warm": warm[0], "exit_code": warm[1],
                         "peak_mib": max(cold[2], warm[2])})
    return rows


def measure_commands(case: str, repeat: int, cases_dir: Path | None, go: str | None) -> dict:
    env = dict(os.environ)
    env.pop("SYMABI_DEBUG", None)
    prove = [*symabi_command(), "prove", case]
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
    if report.get("cold_warm"):
        lines.append("")
        lines.append("fresh processes, cold (empty cache) and warm (cache filled by the cold run); peak memory")
        lines.append(f"  {'':<28}{'cold s':>10}{'warm s':>10}{'peak MiB':>10}{'exit':>6}")
        for r in report["cold_warm"]:
            lines.append(f"  {'symabi ' + r['what']:<28}{r['cold']:>10.3f}{r['warm']:>10.3f}{r['peak_mib']:>10.0f}"
                         f"{r['exit_code']:>6}")
        proves = [r for r in report["cold_warm"] if r["what"].startswith("prove ")]
        lines.append(f"  {'every shipped case, summed':<28}{sum(r['cold'] for r in proves):>10.3f}"
                     f"{sum(r['warm'] for r in proves):>10.3f}")
        all_cases = sum(r["timings_total"] for r in report.get("case_totals", []))
        if all_cases:
            lines.append(f"  every shipped case in one process (no start-up): {all_cases:.3f} s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each whole command (default 3)")
    parser.add_argument("--case", default="crosscall2", help="the case the whole command proves")
    parser.add_argument("--cases-dir", type=Path, default=None, help="cases folder (default: the shipped cases)")
    parser.add_argument("--go", default=None, help="the go command (default: as symabi chooses)")
    parser.add_argument("--json", action="store_true", help="print the measurements as JSON")
    parser.add_argument("--quick", action="store_true", help="skip the cold/warm runs of every case and the gate")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    sys.path.insert(0, str(REPO))  # a checkout without an install still benchmarks its own code
    commands = measure_commands(args.case, args.repeat, args.cases_dir, args.go)
    phases = measure_phases(args.cases_dir, args.go)
    cold_warm = [] if args.quick else measure_cold_warm(args.cases_dir, args.go)
    import angr

    report = {
        "python": platform.python_version(),
        "interpreter": sys.executable,
        "machine": f"{platform.machine()} · {os.cpu_count()} CPUs · {platform.platform(terse=True)}",
        "angr": angr.__version__ if isinstance(angr.__version__, str) else ".".join(map(str, angr.__version__)),
        "toolchain": phases["toolchain"],
        "phases": phases,
        "commands": commands,
        "cold_warm": cold_warm,
        "case_totals": [{"case": r["case"], "timings_total": r["wall"]} for r in phases["rows"] if "wall" in r],
    }
    print(json.dumps(report, indent=2) if args.json else render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
