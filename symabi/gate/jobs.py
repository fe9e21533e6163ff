"""The gate's proofs, spread over processes (``--jobs N``, default: the machine's cores).

Entry points, ports and cases are independent proofs. The verdict cache answers what it can in this
process first (without angr); what is left is proved in a pool of forked processes that inherit the
already imported engine, so no worker pays for ``import angr``. Each proof is reported as it ends;
the results land in the jobs' own order, so the gate's output does not depend on ``--jobs``.
Each worker holds one angr process's memory (about 0.5 GB for the shipped entry points).
"""

from __future__ import annotations

import math
import multiprocessing
import os
import time
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING

from symabi import verdict_cache
from symabi.casefile import Case
from symabi.frontend import Listing
from symabi.toolchain import GoToolchain
from symabi.verdicts import CaseResult

if TYPE_CHECKING:
    from symabi.gate.run import Progress
    from symabi.prover import Options


@dataclass
class Job:
    what: str  # for the progress display
    key: str  # for the timings
    case: Case
    toolchain: GoToolchain
    listings: dict[str, Listing] | None = None  # versions the gate assembled itself (a tree's entry point)
    name_versions: bool = False  # the outcome names each version ("old PROVED, new REFUTED")
    result: CaseResult | None = None


WORKER_BYTES = 1 << 30  # what the default allows each worker: a proof takes about 0.5 GB, a big one more


def default_jobs() -> int:
    """The machine's cores (those this process may run on), at most one per GiB of memory."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    try:
        memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return cores
    return max(1, min(cores, memory // WORKER_BYTES))


def size(job: Job) -> int:
    """How much a proof explores, roughly: its versions x entry symbols x world configurations (the
    product of every world field's number of values). Only the order the pool starts proofs in uses it:
    the biggest first (longest processing time first), so that the small ones fill in at the end and the
    cores finish together."""
    case = job.case
    return len(case.versions) * len(case.entries) * math.prod(len(f.values) for f in case.world.fields)


def biggest_first(todo: list[Job]) -> list[Job]:
    """The order the pool starts proofs in (stable: equal sizes keep the jobs' order)."""
    return sorted(todo, key=lambda job: -size(job))


def outcome(job: Job) -> str:
    versions = job.result.versions
    said = ", ".join(f"{v.name} {v.verdict.value.upper()}" for v in versions) if job.name_versions \
        else versions[-1].verdict.value.upper()
    return said + (", from the cache" if job.result.cached else "")


def _prove(job: Job, options: Options | None, use_cache: bool) -> tuple[CaseResult, float]:
    began = time.monotonic()
    result = verdict_cache.prove(job.case, job.toolchain, options=options, listings=job.listings,
                                 use_cache=use_cache)
    return result, time.monotonic() - began


def _report(job: Job, seconds: float, progress: Progress, timings: dict[str, float]) -> None:
    progress.start(job.what)
    progress.done(f"{outcome(job)} ({seconds:.1f} s)")
    timings[job.key] = seconds


def _in_order(jobs: list[Job], timings: dict[str, float]) -> None:
    """The jobs' timings in the jobs' order, as one process would have written them."""
    seconds = {job.key: timings.pop(job.key) for job in jobs if job.key in timings}
    timings.update(seconds)


class Runner:
    """Proofs handed over as they become known (the cases at once, a port's entry points once its build is
    planned) and started at once, so that the cores prove while the parent waits for the Go commands of
    the next port. What the verdict cache answers is answered here, without angr; the rest goes to
    ``workers`` processes, forked (after ``import symabi.prover``) at the first proof the cache cannot
    answer. With one worker, each proof runs here as it is handed over. Use as a context manager:
    leaving it early (an error) stops the proofs nobody will read."""

    def __init__(self, options: Options | None, use_cache: bool, workers: int, progress: Progress,
                 timings: dict[str, float]):
        self.options, self.use_cache, self.workers = options, use_cache, workers
        self.progress, self.timings = progress, timings
        self.jobs: list[Job] = []
        self.pending: dict = {}  # future -> job
        self.pool: ProcessPoolExecutor | None = None

    def submit(self, jobs: list[Job]) -> None:
        """Start ``jobs`` (the biggest first); report those that have ended meanwhile."""
        self.jobs += jobs
        todo = []
        for job in jobs:
            began = time.monotonic()
            job.result = verdict_cache.cached(job.case, job.toolchain, job.listings) if self.use_cache else None
            if job.result is None:
                todo.append(job)
            else:
                _report(job, time.monotonic() - began, self.progress, self.timings)
        if self.workers <= 1:
            for job in todo:
                job.result, seconds = _prove(job, self.options, self.use_cache)
                _report(job, seconds, self.progress, self.timings)
            return
        if todo and self.pool is None:
            import symabi.prover  # noqa: F401 - imported once, here: the forked workers inherit it

            # fork, not spawn: the workers start with the engine imported. The executor forks every worker
            # at its first submit, just below, while this process runs no other thread (the go commands'
            # threads, build.open_tree's, have ended); no fork follows.
            self.pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("fork"))
        for job in biggest_first(todo):
            self.pending[self.pool.submit(_prove, job, self.options, self.use_cache)] = job
        self._collect(0)

    def _collect(self, timeout: float | None) -> None:
        """Report the proofs that end within ``timeout`` seconds (None: all of them)."""
        while self.pending:
            finished, _ = wait(self.pending, timeout=timeout, return_when=FIRST_EXCEPTION)
            if not finished:
                return
            for future in finished:
                job = self.pending.pop(future)
                job.result, seconds = future.result()  # a worker's SymabiError is raised here
                _report(job, seconds, self.progress, self.timings)

    def finish(self) -> None:
        """Wait for every proof; the timings then list the jobs in the order they were handed over."""
        self._collect(None)
        _in_order(self.jobs, self.timings)

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, kind, exc, tb) -> None:
        if self.pool is None:
            return
        if kind is not None:
            for process in list(getattr(self.pool, "_processes", {}).values()):  # stop the proofs nobody will read
                process.terminate()
            self.pool.shutdown(wait=False, cancel_futures=True)
        else:
            self.pool.shutdown()


def run(jobs: list[Job], options: Options | None, use_cache: bool, workers: int, progress: Progress,
        timings: dict[str, float]) -> None:
    """Set every job's result (or raise the first proof's SymabiError)."""
    with Runner(options, use_cache, min(workers, len(jobs)), progress, timings) as runner:
        runner.submit(jobs)
        runner.finish()
