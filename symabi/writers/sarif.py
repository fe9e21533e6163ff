"""SARIF 2.1.0 for code-scanning tools: one rule per contract obligation, one result per finding.

A violation is an ``error`` result located at the ``.s`` file and line of the offending instruction
(the RET that returns a clobbered register, the CALL made with DF set, the store outside the frame),
with the path to it as a code flow, the counterexample and where the failing value came from in the
message, and the CALL that produced it and the save that was not restored as related locations. An
obligation left UNKNOWN is a ``warning`` result at the instruction where the analysis stopped.
Findings that do not fail the run (a baseline accepts them, or they are about an older version the
gate compares but does not judge) are ``note`` results; accepted ones carry a suppression with the
baseline's reason. ``baselineState`` says whether a finding is new.

File locations are relative to a named root (``uriBaseId``: GOROOT for a Go tree's files, SRCROOT
for the working directory) when they lie under one, else absolute ``file:`` URIs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from symabi import __version__
from symabi.verdicts import CaseResult, ObligationInfo, SourceLine, VersionResult
from symabi.writers import origin

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SARIF_VERSION = "2.1.0"


@dataclass(frozen=True)
class Subject:
    """One checked version, as the SARIF file reports it."""

    key: str  # how the findings are labelled: "tree/sigtramp", "case/crosscall2/new"
    result: CaseResult
    version: str  # the version of ``result`` this subject is about
    accepted: str | None = None  # a baseline accepts these findings, for this reason
    baseline_state: str | None = None  # "new" | "unchanged" | "updated" (None: no baseline)
    failing: bool = True  # the findings fail the run: errors (UNKNOWN: warnings); else notes

    @property
    def outcome(self) -> VersionResult:
        return next(v for v in self.result.versions if v.name == self.version)


class _Locations:
    def __init__(self, roots: dict[str, Path]):
        self.roots = {name: path.resolve() for name, path in roots.items()}

    def artifact(self, file: str) -> dict:
        path = Path(file)
        path = (path if path.is_absolute() else Path.cwd() / path).resolve()
        for name, root in self.roots.items():
            if path.is_relative_to(root):
                return {"uri": path.relative_to(root).as_posix(), "uriBaseId": name}
        return {"uri": path.as_uri()}

    def physical(self, line: SourceLine | None, fallback: str) -> dict:
        if line is None:
            return {"artifactLocation": self.artifact(fallback)}
        file, _, number = line.location.rpartition(":")
        location = {"artifactLocation": self.artifact(file or line.location)}
        if number.isdigit():
            location["region"] = {"startLine": int(number), "snippet": {"text": line.text}}
        return location

    def original_uri_base_ids(self) -> dict:
        return {name: {"uri": root.as_uri() + "/"} for name, root in self.roots.items()}


def _rules(obligations: Sequence[ObligationInfo]) -> list[dict]:
    return [{
        "id": o.id,
        "name": "".join(w.capitalize() for w in o.id.split("-")),
        "shortDescription": {"text": o.doc},
        "fullDescription": {"text": f"{o.doc} ({o.family}; about {o.location})."},
        "defaultConfiguration": {"level": "error"},
        "properties": {"family": o.family, "location": o.location},
    } for o in obligations]


def _fingerprint(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


def _flow(label: str, lines: Iterable[SourceLine], where: _Locations, fallback: str) -> list[dict]:
    steps = [{"location": {"physicalLocation": where.physical(line, fallback), "message": {"text": line.text}}}
             for line in lines]
    if not steps:
        return []
    return [{"message": {"text": label}, "threadFlows": [{"locations": steps}]}]


def _related(x, where: _Locations, fallback: str) -> list[dict]:
    """The CALL whose result the failing value is, and the save of the entry value that was not restored."""
    lines = [(line, f"the {origin.ordinal(int(key.rpartition('#')[2]))} call to {key.rpartition('#')[0]}")
             for key, line in x.call_sites.items()]
    if x.saved_at is not None:
        lines.append((x.saved_at, f"{x.location.upper()}'s entry value is saved here and not restored"))
    return [{"id": i, "physicalLocation": where.physical(line, fallback), "message": {"text": text}}
            for i, (line, text) in enumerate(lines)]


def _common(subject: Subject, level: str, rule: int, text: str, fingerprint: str) -> dict:
    out = {"ruleIndex": rule, "level": level, "message": {"text": text},
           "partialFingerprints": {"symabiFinding/v1": fingerprint}}
    if subject.baseline_state:
        out["baselineState"] = subject.baseline_state
    if subject.accepted is not None:
        out["suppressions"] = [{"kind": "external", "status": "accepted",
                                "justification": subject.accepted or "accepted by the baseline"}]
    return out


def _results(subject: Subject, index: dict[str, int], where: _Locations) -> list[dict]:
    v = subject.outcome
    labels = {p.index: p.label for p in v.paths}
    out = []
    for x in v.violations:
        label = labels.get(x.path, f"path {x.path}")
        witness = ", ".join(f"{k}={val}" for k, val in x.inputs.items())
        values = f" (entry {x.entry}, exit {x.exit})" if x.entry is not None or x.exit is not None else ""
        said = origin.sentence(x)
        text = (f"[{subject.key}] {x.obligation}: {x.detail}{values} on path {x.path} ({label})."
                + (f" {said[0].upper()}{said[1:]}." if said else "")
                + (f" Counterexample: {witness}." if witness else "")
                + (f" Replay: {x.replay}." if x.replay else ""))
        result = {"ruleId": x.obligation, **_common(subject, "error" if subject.failing else "note",
                                                     index[x.obligation], text,
                                                     _fingerprint(subject.key, x.obligation, label)),
                  "locations": [{"physicalLocation": where.physical(x.site, v.source)}],
                  "relatedLocations": _related(x, where, v.source),
                  "codeFlows": _flow(label, x.path_lines, where, v.source),
                  "properties": {"item": subject.key, "path": label, "entry": x.entry, "exit": x.exit,
                                 "inputs": x.inputs}}
        for empty in ("codeFlows", "relatedLocations"):
            if not result[empty]:
                del result[empty]
        out.append(result)
    for u in v.unknowns:
        label = labels.get(u.path, f"path {u.path}")
        text = f"[{subject.key}] {u.obligation} not proved on path {u.path} ({label}): {u.reason}"
        out.append({"ruleId": u.obligation, **_common(subject, "warning" if subject.failing else "note",
                                                       index[u.obligation], text,
                                                       _fingerprint(subject.key, u.obligation, label, "unknown")),
                    "locations": [{"physicalLocation": where.physical(u.site, v.source)}],
                    "properties": {"item": subject.key, "path": label}})
    return out


def to_dict(subjects: Sequence[Subject], obligations: Sequence[ObligationInfo], roots: dict[str, Path],
            notes: Sequence[str] = (), exit_code: int = 0, properties: dict | None = None) -> dict:
    """The SARIF log of one run; ``notes`` become tool notifications (an absent entry point, a version
    that could not be analysed at all)."""
    where = _Locations(roots)
    index = {o.id: i for i, o in enumerate(obligations)}
    results = [r for s in subjects for r in _results(s, index, where)]
    notes = list(notes) + [f"{s.key}: {s.outcome.error}" for s in subjects if s.outcome.error]
    invocation = {"executionSuccessful": True, "exitCode": exit_code}
    if notes:
        invocation["toolExecutionNotifications"] = [{"level": "note", "message": {"text": n}} for n in notes]
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {"name": "symabi", "version": __version__, "semanticVersion": __version__,
                                "rules": _rules(obligations)}},
            "originalUriBaseIds": where.original_uri_base_ids(),
            "invocations": [invocation],
            "results": results,
            "columnKind": "unicodeCodePoints",
            **({"properties": properties} if properties else {}),
        }],
    }


def render(subjects: Sequence[Subject], obligations: Sequence[ObligationInfo], roots: dict[str, Path],
           notes: Sequence[str] = (), exit_code: int = 0, properties: dict | None = None) -> str:
    return json.dumps(to_dict(subjects, obligations, roots, notes, exit_code, properties), indent=2,
                      ensure_ascii=False)
