"""JSON rendering of a CaseResult (the schema is documented in the README)."""

from __future__ import annotations

import json
from dataclasses import asdict

from symabi.verdicts import EXIT_CODES, CaseResult, SourceLine, VersionResult
from symabi.writers import origin

SCHEMA_VERSION = 1


def _line(line: SourceLine | None) -> dict | None:
    return None if line is None else {"address": hex(line.address), "location": line.location, "text": line.text}


def _version(v: VersionResult) -> dict:
    return {
        "verdict": v.verdict.value,
        "revision": v.revision,
        "source": v.source,
        "error": v.error or None,
        "deviations": list(v.deviations),
        "violations": [
            {
                "obligation": x.obligation,
                "location": x.location,
                "entry": x.entry,
                "exit": x.exit,
                "detail": x.detail,
                "site": _line(x.site),
                "path_index": x.path,
                "path": [str(line) for line in x.path_lines],
                "inputs": x.inputs,
                "replay": x.replay or None,
                "origin": {"inputs": list(x.origin), "exact": x.origin_exact, "said": origin.sentence(x),
                           "calls": {k: _line(line) for k, line in x.call_sites.items()},
                           "saved_at": _line(x.saved_at)},
            }
            for x in v.violations
        ],
        "unknowns": [
            {"obligation": u.obligation, "path_index": u.path, "reason": u.reason, "site": _line(u.site)}
            for u in v.unknowns
        ],
        "paths": [
            {
                "index": p.index,
                "kind": p.kind,
                "label": p.label,
                "reason": p.reason or None,
                "lines": [str(line) for line in p.lines],
                "obligations": p.statuses,
            }
            for p in v.paths
        ],
        "timings": {k: round(s, 4) for k, s in v.timings.items()},
    }


def to_dict(result: CaseResult) -> dict:
    return {
        "schema": SCHEMA_VERSION,
        "case": result.case,
        "summary": result.summary,
        "entry": result.entry,
        "toolchain": result.toolchain,
        "contract": {"name": result.contract, "doc": result.contract_doc,
                     "obligations": [asdict(o) for o in result.obligations]},
        "assumptions": {k: list(v) for k, v in result.assumptions.items()},
        "judged": result.judged.name,
        "exit_code": EXIT_CODES[result.judged.verdict],
        "versions": {v.name: _version(v) for v in result.versions},
        "equivalence": _equivalence(result.equivalence),
        "cached": result.cached,
    }


def _equivalence(eq) -> dict | None:
    if eq is None:
        return None
    return {
        "old": eq.old,
        "new": eq.new,
        "verdict": eq.verdict.value,
        "reason": eq.reason or None,
        "differences": [asdict(d) for d in eq.differences],
    }


def render(result: CaseResult) -> str:
    return json.dumps(to_dict(result), indent=2)
