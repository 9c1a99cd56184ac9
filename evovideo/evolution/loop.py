"""The evolution loop: replay finished results, then ask -> run -> save -> tell until done.

    search = TournamentSearch(space, population=8, generations=5, seed=0)
    results = ResultsFile(out / "results.jsonl", header=search_header(search, budget=200))
    run_evolution(search, LocalRunner(), evaluate, results, budget=200)

Successive halving (``rungs=[b // 3, b]``, ``keep=0.5``): each generation trains all its
candidates to the first rung, scores them, stops the worst half there and continues the others
(from the checkpoint, on the same full-length schedule) to the next rung, and so on.  Every rung's
score is saved (``"final": false`` until the candidate's last one), so a rerun reuses them.

Killing the process at any instant and calling this again with the same search and results file
continues exactly: finished candidates are replayed (never trained again), and because the search
is deterministic the next proposals are the ones the uninterrupted run would have made.
"""
from __future__ import annotations

import dataclasses
import logging
import math
import time
from typing import Any, Callable

from evovideo.evolution.results import ResultsFile
from evovideo.evolution.runners import Evaluate, Runner
from evovideo.evolution.search import Candidate, TournamentSearch

log = logging.getLogger(__name__)


def search_header(search: TournamentSearch, **extra: Any) -> dict[str, Any]:
    """What identifies a search: its settings (a results file is only continued by the same ones)."""
    return {
        "lambda_names": list(search.space.names),
        "mutation": {k: v for k, v in dataclasses.asdict(search.space).items() if k != "names"},
        "population": search.population,
        "tournament": search.tournament,
        "generations": search.generations,
        "elite": search.elite,
        "seed": search.seed,
        "initial": search.initial,
        **extra,
    }


def replay(search: TournamentSearch, results: ResultsFile) -> int:
    """Tell the search every finished candidate of the results file; returns how many."""
    final = [rec for rec in results.records if rec.get("final", True)]
    for rec in final:
        search.tell(rec["id"], rec["score"], rec.get("metrics"), lambdas=rec["lambdas"], steps=rec.get("steps", 0))
    return len(final)


def check_rungs(rungs: list[int] | None, budget: int | None, keep: float) -> list[int] | None:
    """Validated successive-halving rungs (increasing step counts ending at ``budget``)."""
    if not rungs:
        return None
    if budget is None or list(rungs) != sorted(set(rungs)) or rungs[0] < 1 or rungs[-1] != budget:
        raise ValueError(f"halving rungs must be increasing step counts >= 1 ending at the budget {budget}, got {rungs}")
    if not 0.0 < keep < 1.0:
        raise ValueError(f"halving keep must be a fraction in (0, 1), got {keep}")
    return list(rungs)


def run_evolution(
    search: TournamentSearch,
    runner: Runner,
    evaluate: Evaluate,
    results: ResultsFile,
    budget: int | None = None,
    seed: int | None = None,
    on_result: Callable[[dict[str, Any]], None] | None = None,
    rungs: list[int] | None = None,
    keep: float = 0.5,
) -> TournamentSearch:
    """Run the search to its end; each finished candidate is saved before the search hears of it.

    ``rungs`` / ``keep``: successive halving (see the module docstring); ``evaluate`` then needs
    ``at_rung(steps, previous)`` (``PretrainEvaluator`` has it)."""
    rungs = check_rungs(rungs, budget, keep)
    done = replay(search, results)
    if done:
        log.info("replayed %d finished candidates; continuing at generation %d", done, search.generation)
    while not search.done:
        pending: list[Candidate] = search.ask()
        log.info("generation %d/%d: %d candidates to run", search.generation + 1, search.generations, len(pending))
        plan = [(None, budget, None)] if rungs is None else [(r, steps, rungs[r - 1] if r else None)
                                                             for r, steps in enumerate(rungs)]
        for rung, steps, previous in plan:
            final = rung is None or rung == len(plan) - 1
            run_eval = evaluate if rung is None else evaluate.at_rung(steps, previous)  # type: ignore[attr-defined]
            scored = _run_rung(search, runner, run_eval, results, pending, rung, steps, final, budget, seed, on_result)
            if final:
                break
            ranked = sorted(scored, key=lambda cr: (cr[1], cr[0].index))
            n_keep = max(1, math.ceil(len(ranked) * keep))
            for cand, score, metrics in ranked[n_keep:]:  # stopped here: its rung score is its final one
                _record(search, results, cand, score, metrics, 0.0, budget, seed, rung, steps, True, on_result)
            pending = [cand for cand, _, _ in ranked[:n_keep]]
    return search


def _run_rung(search, runner, evaluate, results, pending, rung, steps, final, budget, seed, on_result):
    """Scores of ``pending`` at this rung: reused from the results file, else trained and saved."""
    scored, todo = [], []
    for cand in pending:
        old = [r for r in results.records if r["id"] == cand.id and r.get("rung") == rung and rung is not None]
        if old and not final:
            scored.append((cand, old[-1]["score"], old[-1]["metrics"]))
        else:
            todo.append(cand)
    for cand, result, seconds in runner.run(evaluate, todo):
        _record(search, results, cand, result.score, result.metrics, seconds, budget, seed, rung, steps, final, on_result)
        scored.append((cand, result.score, result.metrics))
    return scored


def _record(search, results, cand, score, metrics, seconds, budget, seed, rung, steps, final, on_result) -> None:
    record = {
        "id": cand.id,
        "generation": cand.generation,
        "index": cand.index,
        "lambdas": cand.lambdas,
        "parent": cand.parent,
        "mutations": list(cand.mutations),
        "score": score,
        "metrics": metrics,
        "budget": budget,
        "seed": search.seed if seed is None else seed,
        "time_s": round(seconds, 3),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if rung is not None:
        record.update(rung=rung, steps=steps, final=final)
    results.append(record)
    if final:
        search.tell(cand.id, score, metrics, steps=steps if rung is not None else 0)
    log.info("%s score %.4f at %s steps (%.1f s)%s", cand.id, score, steps, seconds, "" if final else " (rung)")
    if on_result is not None and (final or seconds > 0):
        on_result(record)
