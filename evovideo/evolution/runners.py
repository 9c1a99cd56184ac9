"""Runners: evaluate a batch of candidates and hand each result back the moment it finishes.

    runner = LocalRunner(workers=1)                 # one after another, in this process
    runner = LocalRunner(workers=3)                 # a few at once, in spawned processes kept until close()
    runner = RayRunner(address="auto")              # Ray tasks on an existing cluster
    runner = RayRunner(num_cpus=2)                  # a private local Ray instance
    for cand, result, seconds in runner.run(evaluate, candidates): ...

``evaluate(candidate) -> FitnessResult`` must be picklable (a module-level function or an object
of a module-level class) for the process and Ray runners.  No scheduler is written here:
``concurrent.futures`` and Ray do the scheduling.  An exception in a candidate propagates (the
finished ones are already saved, so rerunning the command continues after the fix).
"""
from __future__ import annotations

import logging
import multiprocessing
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any, Callable, Iterator, Protocol

from evovideo.evolution.fitness import FitnessResult
from evovideo.evolution.search import Candidate
from evovideo.quiet import quiet_frameworks

log = logging.getLogger(__name__)

Evaluate = Callable[[Candidate], FitnessResult]
Finished = tuple[Candidate, FitnessResult, float]


def timed_evaluate(evaluate: Evaluate, candidate: Candidate) -> tuple[FitnessResult, float]:
    """Run one candidate and measure its wall time (runs inside the worker)."""
    start = time.perf_counter()
    result = evaluate(candidate)
    return result, time.perf_counter() - start


class Runner(Protocol):
    def run(self, evaluate: Evaluate, candidates: list[Candidate]) -> Iterator[Finished]: ...

    def close(self) -> None: ...


class LocalRunner:
    """Candidates on this machine: ``workers=1`` in-process, more in spawned worker processes.

    The worker processes live as long as the runner (until ``close()``, or the end of a ``with`` block),
    not one ``run`` call: the rungs and generations of a search reuse them, and with them what each
    worker keeps per process (its memo of built samples and rendered videos, the fitness data and its
    reference), instead of importing, rendering and computing flow again for every rung."""

    def __init__(self, workers: int = 1) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def run(self, evaluate: Evaluate, candidates: list[Candidate]) -> Iterator[Finished]:
        if self.workers == 1:
            for cand in candidates:
                result, seconds = timed_evaluate(evaluate, cand)
                yield cand, result, seconds
            return
        if self._pool is None:
            ctx = multiprocessing.get_context("spawn")  # fork after torch/OpenMP init is unsafe
            # a spawned worker starts with default warning filters: give it the CLI's, or LightningCLI warns
            # (a screenful of config) for every candidate
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx, initializer=quiet_frameworks)
        try:
            futures = {self._pool.submit(timed_evaluate, evaluate, c): c for c in candidates}
            while futures:
                done, _ = wait(futures, return_when=FIRST_COMPLETED)
                for fut in sorted(done, key=lambda f: futures[f].index):
                    cand = futures.pop(fut)
                    result, seconds = fut.result()
                    yield cand, result, seconds
        except BaseException:  # an error, an interrupt, or the caller stopped early: do not start the queued ones
            self.close()
            raise

    def close(self) -> None:
        """Stop the worker processes (queued candidates are cancelled); the next ``run`` starts new ones."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> "LocalRunner":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as err:
        raise ImportError(
            "the Ray runner needs ray: pip install 'evovideo[ray]' (or use the local runner)"
        ) from err
    return ray


class RayRunner:
    """Each candidate is one Ray task, scheduled by Ray on the cluster.

    address: an existing cluster (``"auto"``, ``"ray://head:10001"``); ``None`` starts a private
    local instance with ``num_cpus`` CPUs (``None``: all).  cpus_per_candidate / gpus_per_candidate
    are the resources each task asks for (a GPU per candidate on a GPU cluster).  If Ray is already
    initialised in this process it is used as it is.
    """

    def __init__(
        self,
        address: str | None = None,
        num_cpus: int | None = None,
        cpus_per_candidate: float = 1.0,
        gpus_per_candidate: float = 0.0,
    ) -> None:
        self.address, self.num_cpus = address, num_cpus
        self.cpus_per_candidate, self.gpus_per_candidate = cpus_per_candidate, gpus_per_candidate

    def _init(self) -> Any:
        ray = _import_ray()
        if not ray.is_initialized():
            if self.address is not None:
                ray.init(address=self.address, include_dashboard=False, log_to_driver=True)
            else:
                ray.init(num_cpus=self.num_cpus, include_dashboard=False)
        return ray

    def run(self, evaluate: Evaluate, candidates: list[Candidate]) -> Iterator[Finished]:
        ray = self._init()
        remote = ray.remote(num_cpus=self.cpus_per_candidate, num_gpus=self.gpus_per_candidate)(timed_evaluate)
        evaluate_ref = ray.put(evaluate)
        refs = {remote.remote(evaluate_ref, c): c for c in candidates}
        log.info("submitted %d candidates to Ray (%s)", len(refs), ray.cluster_resources())
        try:
            while refs:
                done, _ = ray.wait(list(refs), num_returns=1)
                for ref in done:
                    cand = refs.pop(ref)
                    result, seconds = ray.get(ref)
                    yield cand, result, seconds
        finally:  # on an error or an interrupt, cancel what has not finished
            for ref in refs:
                ray.cancel(ref)

    def close(self) -> None:
        """Nothing to stop: Ray keeps (and reuses) its worker processes until ``ray.shutdown()``."""


def make_runner(name: str, workers: int = 1, address: str | None = None, num_cpus: int | None = None,
                gpus_per_candidate: float = 0.0) -> Runner:
    """``"local"`` or ``"ray"`` by name (the ``--runner`` flag)."""
    if name == "local":
        return LocalRunner(workers=workers)
    if name == "ray":
        return RayRunner(address=address, num_cpus=num_cpus, gpus_per_candidate=gpus_per_candidate)
    raise ValueError(f"unknown runner '{name}'; known: local, ray")
