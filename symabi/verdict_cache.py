"""Nothing proved twice: a case's result, stored under a hash of everything that decides it.

The key covers the assembled bytes and relocations of every version checked (the listings, which the
assembler itself caches by content), the case after the gate's substitutions (entry convention,
callees, world, contract, callee model and port names), symabi's own source (every file of the
package, so a changed model, contract or convention definition is a different key), the versions of
angr, claripy, pyvex, Z3, unicorn and Python, the Go toolchain's version and the working folder
(reports name files relative to it). A hit is answered without importing angr; bytes the cache has
not seen are never looked up under another key, so they are always proved.

Only an unbounded run is stored (no --timeout, default limits), and never one a solver left without
an answer: both depend on the machine, not on the code. ``SYMABI_NO_CACHE=1`` or ``--no-cache`` turn
the cache off; deleting the folder is always safe.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
from dataclasses import replace
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from symabi import cache
from symabi.casefile import Case
from symabi.frontend import Listing, assemble, request_for
from symabi.toolchain import GoToolchain
from symabi.verdicts import CaseResult

if TYPE_CHECKING:
    from symabi.prover import Options

FORMAT = 1  # of the stored record; a new one misses every old entry
DEPENDENCIES = ("angr", "claripy", "pyvex", "archinfo", "cle", "z3-solver", "unicorn", "capstone")
MACHINE_DEPENDENT = ("solver gave no answer",)  # an UNKNOWN a faster machine might not give


@lru_cache(maxsize=1)
def code_version() -> str:
    """A hash of every file of the symabi package (models, contracts, conventions, engine, ports) and
    of the libraries the verdicts are computed with."""
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parent
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    for name in DEPENDENCIES:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "-"
        digest.update(f"{name}={version}\0".encode())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def key(case: Case, toolchain: GoToolchain, versions: tuple[str, ...], listings: dict[str, Listing]) -> str:
    digest = hashlib.sha256(f"symabi verdict {FORMAT}\0{code_version()}\0{toolchain.version}\0".encode())
    digest.update(f"{Path.cwd().resolve()}\0{versions!r}\0".encode())
    digest.update(pickle.dumps(case, protocol=5))
    for name in versions:
        digest.update(name.encode() + b"\0" + pickle.dumps(listings[name], protocol=5))
    return digest.hexdigest()


def _path(entry: str) -> Path:
    return cache.cache_root() / "verdicts" / entry[:2] / f"{entry}.pickle"


def load(entry: str) -> CaseResult | None:
    try:
        with _path(entry).open("rb") as f:
            result = pickle.load(f)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, ValueError):
        return None  # absent, or written by another symabi: proved again
    return replace(result, cached=True) if isinstance(result, CaseResult) else None


def store(entry: str, result: CaseResult) -> None:
    if any(phrase in u.reason for v in result.versions for u in v.unknowns for phrase in MACHINE_DEPENDENT):
        return
    path = _path(entry)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_bytes(pickle.dumps(replace(result, cached=False), protocol=5))
        os.replace(temporary, path)  # a reader sees the whole record or none
    except OSError:
        pass  # a read-only or full cache folder costs a proof next time, nothing else


def _keyed(case: Case, toolchain: GoToolchain, versions: list[str] | None,
           listings: dict[str, Listing] | None) -> tuple[tuple[str, ...], dict[str, Listing], str]:
    """The versions checked, every one's listing (assembled here when the caller has not) and the key."""
    chosen = tuple(case.version(v).name for v in versions) if versions else tuple(v.name for v in case.versions)
    listings = dict(listings or {})
    for version in case.versions:
        if version.name in chosen and version.name not in listings:
            listings[version.name] = assemble(toolchain, request_for(case, version))
    return chosen, listings, key(case, toolchain, chosen, listings)


def cached(case: Case, toolchain: GoToolchain, listings: dict[str, Listing] | None = None,
           versions: list[str] | None = None) -> CaseResult | None:
    """The stored result for exactly these bytes and this case, or None."""
    if not cache.enabled():
        return None
    return load(_keyed(case, toolchain, versions, listings)[2])


def prove(case: Case, toolchain: GoToolchain, versions: list[str] | None = None, options: Options | None = None,
          listings: dict[str, Listing] | None = None, use_cache: bool = True) -> CaseResult:
    """``prover.prove_case``, answered from the cache when the same bytes were proved the same way.

    ``options`` other than the defaults (a time bound, other limits) are proved, never stored."""
    entry = None
    if use_cache and cache.enabled():
        versions, listings, entry = _keyed(case, toolchain, versions, listings)
        if (hit := load(entry)) is not None:
            return hit
    from symabi.prover import Options, prove_case

    result = prove_case(case, toolchain, list(versions) if versions else None, options or Options(), listings)
    if entry is not None and (options is None or options == Options()):
        store(entry, result)
    return result
