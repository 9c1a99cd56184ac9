"""The evolution loop: replay finished results, then ask -> run -> save -> tell until done.

    search = TournamentSearch(space, population=8, generations=5, seed=0)
    results = ResultsFile(out / "results.jsonl", header=search_header(search, budget=200))
    run_evolution(search, LocalRunner(), evaluate, results, budget=200)

Killing the process at any instant and calling this again with the same search and results file
continues exactly: finished candidates are replayed (never trained again), and because the search
is deterministic the next proposals are the ones the uninterrupted run would have made.
"""
from __future__ import annotations

import dataclasses
import logging
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
    for rec in results.records:
        search.tell(rec["id"], rec["score"], rec.get("metrics"), lambdas=rec["lambdas"])
    return len(results.records)


def run_evolution(
    search: TournamentSearch,
    runner: Runner,
    evaluate: Evaluate,
    results: ResultsFile,
    budget: int | None = None,
    seed: int | None = None,
    on_result: Callable[[dict[str, Any]], None] | None = None,
) -> TournamentSearch:
    """Run the search to its end; each finished candidate is saved before the search hears of it."""
    done = replay(search, results)
    if done:
        log.info("replayed %d finished candidates; continuing at generation %d", done, search.generation)
    while not search.done:
        pending: list[Candidate] = search.ask()
        log.info("generation %d/%d: %d candidates to run", search.generation + 1, search.generations, len(pending))
        for cand, result, seconds in runner.run(evaluate, pending):
            record = {
                "id": cand.id,
                "generation": cand.generation,
                "index": cand.index,
                "lambdas": cand.lambdas,
                "parent": cand.parent,
                "mutations": list(cand.mutations),
                "score": result.score,
                "metrics": result.metrics,
                "budget": budget,
                "seed": search.seed if seed is None else seed,
                "time_s": round(seconds, 3),
                "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            }
            results.append(record)
            search.tell(cand.id, result.score, result.metrics)
            log.info("%s score %.4f (%.1f s)", cand.id, result.score, seconds)
            if on_result is not None:
                on_result(record)
    return search
