"""The real-run data (``harnesses.toml``): runners per port, harnesses per entry point, and why the
registry's other entry points have none."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from symabi.casefile import read_toml
from symabi.errors import CaseError

CATALOG = Path(__file__).with_name("harnesses.toml")
HARNESS_DIR = Path(__file__).with_name("harness")
COMMON = HARNESS_DIR / "common"
SHIMS = HARNESS_DIR / "shims"


@dataclass(frozen=True)
class Runner:
    port: str  # "windows/amd64"
    abi: str  # the host ABI the helper implements, for people
    goos: str
    goarch: str
    cc: str  # the (cross) C compiler cgo uses
    exec: tuple[str, ...]  # the command prefix that runs a program of this port here; () natively
    version: tuple[str, ...]  # the command whose first output words name the runner; () is "native"
    packages: tuple[str, ...]  # the Debian packages that provide cc and exec
    suffix: str = ""  # the program's file name suffix (".exe")


@dataclass(frozen=True)
class Redirect:
    """One line of the tree's runtime assembly changed in the harness's build: the entry point's call into
    its Go callee goes to an adversarial shim (harness/shims/) instead (see harnesses.toml)."""

    file: str  # the tree's file, relative to GOROOT ("src/runtime/sys_windows_amd64.s")
    call: str  # the instruction as the tree writes it, exactly once in the file
    shim_call: str  # what the harness's copy holds instead
    shim: str  # the shim's assembly, under harness/shims/

    @property
    def source(self) -> Path:
        return SHIMS / self.shim


@dataclass(frozen=True)
class Harness:
    name: str  # the registry entry it drives
    ports: tuple[str, ...]
    doc: str
    ldflags: tuple[str, ...] = ()
    redirects: tuple[tuple[str, Redirect], ...] = ()  # (port, redirect)

    def redirect(self, port: str) -> Redirect | None:
        return dict(self.redirects).get(port)

    @property
    def folder(self) -> Path:
        return HARNESS_DIR / self.name


@dataclass(frozen=True)
class Catalog:
    runners: dict[str, Runner]
    harnesses: dict[str, Harness]
    no_harness: dict[str, str]  # registry entry -> why it has no harness

    def harness(self, entry: str, port: str) -> Harness | None:
        h = self.harnesses.get(entry)
        return h if h is not None and port in h.ports else None


@lru_cache(maxsize=2)
def load(path: Path = CATALOG) -> Catalog:
    raw = read_toml(path)
    try:
        runners = {port: Runner(port, t["abi"], t["goos"], t["goarch"], t["cc"], tuple(t["exec"]),
                                tuple(t.get("version", ())), tuple(t["packages"]), t.get("suffix", ""))
                   for port, t in raw["runners"].items()}
        harnesses = {name: Harness(name, tuple(t["ports"]), t["doc"], tuple(t.get("ldflags", ())),
                                   tuple((port, Redirect(r["file"], r["call"], r["shim_call"], r["shim"]))
                                         for port, r in t.get("redirect", {}).items()))
                     for name, t in raw["harnesses"].items()}
        no_harness = {name: " ".join(t["reason"].split()) for name, t in raw.get("no_harness", {}).items()}
    except (KeyError, TypeError) as exc:
        raise CaseError(f"{path}: malformed real-run catalog: {exc}") from None
    for h in harnesses.values():
        if not h.folder.is_dir():
            raise CaseError(f"{path}: harness {h.name} has no folder {h.folder}")
        if missing := [r.shim for _, r in h.redirects if not r.source.is_file()]:
            raise CaseError(f"{path}: harness {h.name} names shims that do not exist: {', '.join(missing)}")
        if unknown := [p for p in (*h.ports, *dict(h.redirects)) if p not in runners]:
            raise CaseError(f"{path}: harness {h.name} names ports without a runner: {', '.join(unknown)}")
    return Catalog(runners, harnesses, no_harness)
