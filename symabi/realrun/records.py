"""The frozen records real runs hand on: a built harness and the result of running it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CLEAN, LOST, ERROR, SKIPPED = "clean", "lost", "error", "skipped"


@dataclass(frozen=True)
class Built:
    harness: str
    port: str  # "windows/amd64"
    program: Path
    seconds: float  # the go build, cold or warm (the build cache is keyed by the tree's headers)
    redirect: str = ""  # what the disassembly check of the redirect to the adversarial shim found, if any


@dataclass(frozen=True)
class RealRun:
    harness: str  # the entry point it drives ("crosscall2")
    port: str
    runner: str  # what ran it: "wine-8.0", "native", "qemu-aarch64-7.2.19"
    status: str  # clean | lost | error | skipped
    registers: int = 0  # how many callee-saved registers the harness checked
    lost: tuple[str, ...] = ()  # lower-case register names ("xmm9", "df", "rsp")
    detail: str = ""  # the lost values, or what went wrong
    seed: str = ""  # the seed of each entry into Go; the first, as SYMABI_REALRUN_SEED, replays the run
    build_s: float = 0.0
    run_s: float = 0.0
    redirect: str = ""  # Built.redirect: the entry point's Go callee behind the adversarial shim, checked

    def to_json(self) -> dict:
        return {"runner": self.runner, "status": self.status, "lost": list(self.lost), "detail": self.detail or None,
                "port": self.port, "registers": self.registers, "seed": self.seed or None,
                "build_seconds": round(self.build_s, 2), "run_seconds": round(self.run_s, 2),
                "redirect": self.redirect or None}

    def summary(self) -> str:
        """One line for people: "real run (wine-8.0): all 18 callee-saved registers survived"."""
        head = f"real run ({self.runner})"
        if self.status == CLEAN:
            return f"{head}: all {self.registers} callee-saved registers survived"
        if self.status == LOST:
            return f"{head}: {', '.join(r.upper() for r in self.lost)} lost"
        return f"{head}: {self.status}: {self.detail}"
