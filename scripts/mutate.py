#!/usr/bin/env python3
"""Mutation campaign over the newest version of every shipped case (issues 6 and 9); see ``symabi.mutation``.

    python scripts/mutate.py [--case NAME ...] [--limit N] [--sample] [--shard K/N] [--only ID] [--seed S]
                             [--trials T] [--timeout S] [--jobs J] [--write-summary PATH] [--json PATH]
    python scripts/mutate.py --merge SHARD.json ... [--write-summary PATH] [--json PATH]

Each mutant gets symabi's verdict and a ground truth from random runs on the adversarial concrete
oracle (``symabi.replay``): "violates" if any run breaks any obligation (the replay of symabi's own
counterexample included), else "holds". Writes a
Markdown summary (default docs/mutation-campaign.md) and, with --json (default
docs/mutation-campaign.json for a full run), one record per mutant:

    {"mutants": [{"id", "case", "operator", "verdict": "proved|refuted|unknown|rejected|error",
                  "obligations": [...], "truth": "violates|holds", "replay": "confirmed|not-confirmed|null"}]}

``--shard K/N`` runs every N-th mutant starting at the K-th (1 <= K <= N), so N machines (or N runs
one after another) cover the campaign; ``--merge`` combines their JSON files into one summary.

Exit status 1 if any mutant is UNSOUND (PROVED while its truth is "violates") or a REFUTED
counterexample did not replay.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from symabi.casefile import parse_case
from symabi.mutation import (
    Outcome,
    choose,
    generate,
    judge_mutant,
    record,
    sample,
    sample_issue9,
)

CASES = ("crosscall2", "sigtramp", "callbackasm1", "tstart_stdcall")
_TOOLCHAIN = None


def _init(go: str | None) -> None:
    global _TOOLCHAIN
    import symabi.prover  # noqa: F401 - import angr once per worker
    from symabi.toolchain import find_toolchain

    _TOOLCHAIN = find_toolchain(go)


def _work(args) -> Outcome:
    mutant, case_dir, timeout, trials, seed = args
    return judge_mutant(mutant, Path(case_dir), _TOOLCHAIN, timeout_s=timeout, trials=trials, seed=seed)


def run_campaign(mutants, cases, *, timeout: float, trials: int, seed: int, jobs: int, go: str | None = None,
                 progress=None) -> list[Outcome]:
    work = [(m, str(cases[m.case].directory), timeout, trials, seed) for m in mutants]
    if jobs <= 1:
        _init(go)
        outcomes = (_work(w) for w in work)
        return [_report(o, progress) for o in outcomes]
    with ProcessPoolExecutor(max_workers=jobs, initializer=_init, initargs=(go,)) as pool:
        return [_report(o, progress) for o in pool.map(_work, work)]


def _report(o: Outcome, progress) -> Outcome:
    if progress:
        progress(o)
    return o


def shard(mutants: list, spec: str | None) -> list:
    """``K/N``: every N-th mutant from the K-th (1-based)."""
    if not spec:
        return mutants
    try:
        k, n = (int(x) for x in spec.split("/"))
    except ValueError:
        raise SystemExit(f"mutate.py: error: --shard wants K/N, not {spec!r}") from None
    if not 1 <= k <= n:
        raise SystemExit(f"mutate.py: error: --shard {spec}: K must be between 1 and N")
    return mutants[k - 1::n]


# ---- classes of a record ------------------------------------------------------------------------

def klass(r: dict) -> str:
    """rejected | error | refuted | unknown | equivalent (PROVED, holds) | unsound (PROVED, violates)."""
    if r["verdict"] in ("rejected", "error", "refuted", "unknown"):
        return r["verdict"]
    return "unsound" if r["truth"] == "violates" else "equivalent"


def tally(records: list[dict]) -> dict[str, int]:
    row = {k: 0 for k, _ in COLUMNS}
    row["mutants"] = len(records)
    for r in records:
        row[klass(r)] += 1
        row["replay-not-confirmed"] += r["verdict"] == "refuted" and r["replay"] == "not-confirmed"
        row["refuted-holds"] += r["verdict"] == "refuted" and r["truth"] == "holds"
        row["violates"] += r["truth"] == "violates"
        row["unknown-violates"] += r["verdict"] == "unknown" and r["truth"] == "violates"
    return row


COLUMNS = (("mutants", "mutants"), ("violates", "truth: violates"), ("rejected", "rejected by the assembler"),
           ("refuted", "REFUTED"), ("equivalent", "PROVED & holds"), ("unknown", "UNKNOWN"),
           ("unsound", "**unsound**"), ("replay-not-confirmed", "REFUTED, replay not confirmed"),
           ("refuted-holds", "REFUTED, truth holds"), ("unknown-violates", "UNKNOWN, truth violates"),
           ("error", "symabi error"))
FAMILY_COLUMNS = ("mutants", "violates", "refuted", "equivalent", "unknown", "unsound", "rejected", "error")


def _family(operator: str) -> str:
    import re

    return re.sub(r"[-+@].*$", "", operator)


# ---- the summary --------------------------------------------------------------------------------

INTRO = """# Mutation campaign

Generated by `scripts/mutate.py` (issues 6 and 9); do not edit by hand. Every record is in
`docs/mutation-campaign.json`. Each mutant changes one line of a case's newest version (sometimes with
the line it pairs with, or one declaration of its case file; operators in `symabi/mutation/`): the
classic ones (delete an instruction, move a save/restore SP displacement by ±8/±16, swap two restores,
drop CLD, change a stack adjustment) and those of issue 9 (a save slot below SP, overlapping slots,
partial XMM saves and restores with MOVSD/MOVQ/MOVLPS, a pointer argument aimed at a save slot, STD
before a CALL, POPFQ of a flags word modified in memory, branches on the return address, RFLAGS.AC,
RFLAGS.IF, CPUID and world pointers, SP reloaded from an unwritten slot, a noreturn callee that
returns). Each is assembled with the real Go assembler, judged by symabi (new version only), and run
on the adversarial concrete oracle (unicorn; random world addresses, return address, flags, CPUID;
Go callees that clobber every register, a 4-16 KiB frame below their SP and what their pointer
arguments reach; memory below RSP volatile; faults are violations) in every replay setup
(entry × world configuration): truth is "violates" if any run breaks any obligation.

- **PROVED & holds**: PROVED and no concrete run violated the contract.
- **unsound**: PROVED while a concrete run violated the contract. Must be 0.
- **REFUTED, replay not confirmed**: a counterexample whose replay on the oracle is not `confirmed`.
- **REFUTED, truth holds**: a refutation the random runs never saw (a value they did not draw, or a
  false alarm); **UNKNOWN, truth violates**: a bug symabi did not refute.
"""


def summary_markdown(records: list[dict], names: list[str], meta: dict, available: dict[str, int],
                     findings: dict[str, str]) -> str:
    lines = [INTRO,
             f"- date: {meta['date']}",
             f"- toolchain: {meta['toolchain']}",
             (f"- seed: {meta['seed']}; concrete runs per mutant: {meta['trials']} (split over the replay setups); "
              f"per-mutant timeout: {meta['timeout']} s; workers: {meta['jobs']}"),
             f"- selection: {meta['selection']}",
             f"- wall time: {meta['wall']:.0f} s", "",
             "| trampoline | generated | " + " | ".join(h for _, h in COLUMNS) + " |",
             "| --- | ---: | " + " | ".join("---:" for _ in COLUMNS) + " |"]
    for name in names:
        row = tally([r for r in records if r["case"] == name])
        lines.append(f"| {name} | {available.get(name, '')} | " + " | ".join(str(row[k]) for k, _ in COLUMNS) + " |")
    row = tally(records)
    lines.append(f"| **total** | {sum(available.get(n, 0) for n in names)} | "
                 + " | ".join(f"**{row[k]}**" for k, _ in COLUMNS) + " |")
    lines += ["", "`generated`: all mutants the operators produce for the trampoline; `mutants`: the ones run.", "",
              "## By operator family", "",
              "| family | " + " | ".join(FAMILY_COLUMNS) + " |", "| --- | " + " | ".join("---:" for _ in FAMILY_COLUMNS) + " |"]
    for family in sorted({_family(r["operator"]) for r in records}):
        row = tally([r for r in records if _family(r["operator"]) == family])
        lines.append(f"| {family} | " + " | ".join(str(row[k]) for k in FAMILY_COLUMNS) + " |")
    notable = [r for r in records if klass(r) in ("unsound", "error", "unknown")
               or (r["verdict"] == "refuted" and (r["replay"] == "not-confirmed" or r["truth"] == "holds"))]
    if notable:
        lines += ["", "## Findings", ""]
        lines += [f"- `{r['id']}` **{klass(r)}** (truth: {r['truth']}) — {findings.get(r['id'], '')}" for r in notable]
    return "\n".join(lines) + "\n"


def finding(o: Outcome) -> str:
    """One line about a notable mutant: what it is, what symabi said, what the oracle saw."""
    text = o.description
    if o.klass == "unsound":
        text += f"; concrete: {o.violating_trials}/{o.trials} runs violate, first: {o.concrete_violation}"
    elif o.klass == "refuted":
        text += (f"; symbolic {o.symbolic_obligations}; concrete {o.violating_trials}/{o.trials} runs violate "
                 f"{o.concrete_obligations}, endings {o.concrete_kinds}")
        if o.replay_not_confirmed:
            text += f"; not confirmed: {o.replay_not_confirmed[0][:300]}"
    elif o.detail:
        text += f"; {o.detail.splitlines()[0]}"
        if o.violating_trials:
            text += f"; concrete: {o.concrete_violation}"
    return text


# ---- the command --------------------------------------------------------------------------------

def _arguments(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--case", action="append", choices=CASES, help="only this case (repeatable)")
    p.add_argument("--cases-dir", default=str(REPO / "cases"))
    p.add_argument("--limit", type=int, help="at most N mutants per case (a deterministic spread over operators)")
    p.add_argument("--sample", action="store_true", help="only the small fixed sample the tests run")
    p.add_argument("--shard", metavar="K/N", help="only every N-th mutant, from the K-th (1-based)")
    p.add_argument("--only", action="append", metavar="ID", help="only the mutant with this id, as the JSON "
                   "lists it (repeatable): re-judge a finding")
    p.add_argument("--merge", nargs="+", metavar="JSON", help="combine shard JSON files instead of running")
    p.add_argument("--seed", type=int, default=6)
    p.add_argument("--trials", type=int, default=300, help="random concrete runs per mutant")
    p.add_argument("--timeout", type=float, default=60.0, help="symabi's per-mutant time bound (s)")
    p.add_argument("--jobs", type=int, default=2, help="worker processes (at most 2 on this machine)")
    p.add_argument("--go", help="the Go toolchain (default: the pinned one)")
    p.add_argument("--write-summary", metavar="PATH", help="default: docs/mutation-campaign.md for a full run")
    p.add_argument("--json", metavar="PATH", help="default: docs/mutation-campaign.json for a full run")
    return p.parse_args(argv)


def _run(args) -> dict:
    from symabi.toolchain import find_toolchain

    toolchain = find_toolchain(args.go)
    names = args.case or list(CASES)
    cases = {n: parse_case(Path(args.cases_dir) / n) for n in names}
    available = {n: len(generate(cases[n])) for n in names}
    if args.sample:
        issue9 = [m for m, _ in sample_issue9(cases) if m.case in names] if set(names) == set(CASES) else []
        mutants, selection = sample(cases, names) + issue9, "the fixed samples (`--sample`)"
    else:
        mutants = [m for n in names for m in choose(generate(cases[n]), args.limit, args.seed)]
        selection = (f"at most {args.limit} per case, spread round-robin over the operator families (seed {args.seed})"
                     if args.limit else "every generated mutant")
    mutants = shard(mutants, args.shard)
    selection += f", shard {args.shard}" if args.shard else ""
    if args.only:
        mutants = [m for m in mutants if m.ident in args.only]
        selection += f", only {', '.join(args.only)}"
    print(f"{len(mutants)} mutants over {', '.join(names)}", file=sys.stderr)
    began, done = time.monotonic(), [0]

    def progress(o: Outcome) -> None:
        done[0] += 1
        print(f"[{done[0]}/{len(mutants)}] {o.klass:10} {o.verdict or '-':8} {o.truth or '-':8} {o.seconds:5.1f}s "
              f"{o.violating_trials}/{o.trials}  {o.description}", file=sys.stderr, flush=True)

    outcomes = run_campaign(mutants, cases, timeout=args.timeout, trials=args.trials, seed=args.seed,
                            jobs=max(1, min(args.jobs, 2)), go=args.go, progress=progress)
    meta = {"date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), "toolchain": toolchain.version,
            "seed": args.seed, "trials": args.trials, "timeout": args.timeout, "jobs": args.jobs,
            "selection": selection, "wall": time.monotonic() - began, "names": names, "available": available}
    return {"meta": meta, "mutants": [record(o) for o in outcomes],
            "findings": {o.mutant: finding(o) for o in outcomes}}


def _merge(paths: list[str]) -> dict:
    parts = [json.loads(Path(p).read_text()) for p in paths]
    meta = dict(parts[0]["meta"])
    meta["wall"] = sum(p["meta"]["wall"] for p in parts)
    # a part is one shard ("..., shard 4/6") or an earlier merge, which lists its shards
    shards = [s for p in parts
              for s in (p["meta"].get("shards") or [p["meta"]["selection"].rpartition(", shard ")[2]])]
    meta["shards"] = shards
    meta["selection"] = f"every generated mutant, shards {', '.join(shards)} merged (wall: their sum)"
    return {"meta": meta, "mutants": [r for p in parts for r in p["mutants"]],
            "findings": {k: v for p in parts for k, v in p.get("findings", {}).items()}}


def main(argv=None) -> int:
    args = _arguments(argv)
    result = _merge(args.merge) if args.merge else _run(args)
    full = not (args.sample or args.limit or args.shard or args.case)
    summary = args.write_summary or (str(REPO / "docs" / "mutation-campaign.md") if full or args.merge else None)
    out_json = args.json or (str(REPO / "docs" / "mutation-campaign.json") if full or args.merge else None)
    meta = result["meta"]
    text = summary_markdown(result["mutants"], meta["names"], meta, meta["available"], result["findings"])
    if summary:
        Path(summary).parent.mkdir(parents=True, exist_ok=True)
        Path(summary).write_text(text)
    if out_json:
        Path(out_json).write_text(json.dumps(result, indent=1) + "\n")
    print(text)
    row = tally(result["mutants"])
    return 1 if row["unsound"] or row["replay-not-confirmed"] else 0


if __name__ == "__main__":
    sys.exit(main())
