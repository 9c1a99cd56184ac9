"""The tournament search on a cheap planted fitness (no training), resume after a kill, runners."""
from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

from evovideo.evolution.fitness import FitnessResult
from evovideo.evolution.genome import SearchSpace
from evovideo.evolution.loop import run_evolution, search_header
from evovideo.evolution.results import ResultsFile
from evovideo.evolution.runners import LocalRunner, RayRunner
from evovideo.evolution.search import Candidate, TournamentSearch

NAMES = ("rgb/reconstruction", "rgb/arrow_of_time", "rgb->flow/cross_modal_transfer", "flow:layer3")
TARGET = {"rgb/reconstruction": 0.8, "rgb/arrow_of_time": 0.0, "rgb->flow/cross_modal_transfer": 0.3,
          "flow:layer3": 1.0}


class Planted:
    """Squared distance to a planted optimum: a fitness with a known answer, no training."""

    def __init__(self, fail_after: int | None = None) -> None:
        self.calls, self.fail_after = 0, fail_after

    def __call__(self, cand: Candidate) -> FitnessResult:
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise KeyboardInterrupt("simulated kill")
        self.calls += 1
        d = sum((cand.lambdas[n] - TARGET[n]) ** 2 for n in NAMES)
        return FitnessResult(score=d, metrics={"distance": math.sqrt(d)})


def planted_score(cand: Candidate) -> FitnessResult:
    return Planted()(cand)


def make_search(generations: int = 12, seed: int = 0) -> TournamentSearch:
    space = SearchSpace(NAMES, rate=0.5, sigma=0.15)
    return TournamentSearch(space, population=10, tournament=3, generations=generations, elite=2, seed=seed)


def test_search_finds_planted_optimum():
    search = make_search(generations=25)
    fit = Planted()
    while not search.done:
        for cand in search.ask():
            search.tell(cand.id, fit(cand).score)
    first = min(t.score for t in search.history() if t.candidate.generation == 0)
    best = search.best()
    assert best.score < 0.02 < first, (first, best.score)
    # the zero mutation lets the search hit the planted 0 exactly
    assert best.candidate.lambdas["rgb/arrow_of_time"] < 0.1
    assert fit.calls == 25 * 10


def test_search_is_deterministic_and_order_independent():
    a, b = make_search(generations=4), make_search(generations=4)
    for s, order in ((a, 1), (b, -1)):  # tell in opposite orders within a generation
        while not s.done:
            for cand in s.ask()[::order]:
                s.tell(cand.id, planted_score(cand).score)
    assert [t.candidate for t in a.history()] == [t.candidate for t in b.history()]
    c = TournamentSearch(SearchSpace(NAMES, rate=0.5, sigma=0.15), population=10, generations=4, elite=2, seed=1)
    assert c.ask()[0].lambdas != a.history()[0].candidate.lambdas


def test_mutation_kinds_stay_in_range():
    space = SearchSpace(NAMES, rate=1.0, sigma=2.0)
    rng = np.random.default_rng(0)
    kinds = set()
    parent = {n: 0.5 for n in NAMES}
    for _ in range(50):
        child, changes = space.mutate(parent, rng)
        assert all(0.0 <= v <= 1.0 for v in child.values())
        kinds |= {c.rsplit(":", 1)[1] for c in changes}  # a distillation name has its own ":"
    assert kinds == {"perturb", "zero", "resample"}
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        space.validate({n: 1.5 for n in NAMES})
    with pytest.raises(ValueError, match="unknown"):
        space.validate({"nope": 0.1})


def _run(tmp_path, evaluate, generations=4, runner=None):
    search = make_search(generations=generations)
    results = ResultsFile(tmp_path / "results.jsonl", search_header(search, budget=7))
    return run_evolution(search, runner or LocalRunner(), evaluate, results, budget=7), results


def test_resume_after_kill_matches_uninterrupted_run(tmp_path):
    full, full_results = _run(tmp_path / "full", Planted())
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path / "killed", Planted(fail_after=13))  # killed in generation 1 (index 3)
    lines = (tmp_path / "killed" / "results.jsonl").read_text().splitlines()
    assert len(lines) == 1 + 13
    again = Planted()
    resumed, resumed_results = _run(tmp_path / "killed", again)
    assert again.calls == 4 * 10 - 13  # nothing trained twice
    ids = [r["id"] for r in resumed_results.records]
    assert len(ids) == len(set(ids)) == 40
    strip = lambda recs: [{k: r[k] for k in ("id", "lambdas", "score", "parent")} for r in recs]  # noqa: E731
    assert strip(resumed_results.records) == strip(full_results.records)
    assert resumed.best().candidate == full.best().candidate


def test_results_file_refuses_other_settings_and_has_no_torn_lines(tmp_path):
    _run(tmp_path, Planted(), generations=1)
    text = (tmp_path / "results.jsonl").read_text()
    assert text.endswith("\n") and all(json.loads(ln) for ln in text.splitlines())
    assert not [p for p in tmp_path.iterdir() if p.name != "results.jsonl"]  # no temp files left
    other = TournamentSearch(SearchSpace(NAMES), population=10, generations=1, seed=5)
    with pytest.raises(ValueError, match="different settings.*seed"):
        ResultsFile(tmp_path / "results.jsonl", search_header(other, budget=7))


def test_local_process_runner_matches_sequential(tmp_path):
    seq, _ = _run(tmp_path / "seq", planted_score, generations=1)
    par, _ = _run(tmp_path / "par", planted_score, generations=1, runner=LocalRunner(workers=2))
    assert [t.candidate for t in par.history()] == [t.candidate for t in seq.history()]


def worker_pid(cand: Candidate) -> FitnessResult:
    import os

    return FitnessResult(score=float(cand.index), metrics={"pid": os.getpid()})


def test_local_workers_outlive_a_run_call_until_closed():
    """Rungs and generations reuse the workers (and what they keep per process) until the runner closes."""
    cands = [Candidate(id=f"c{i}", generation=0, index=i, lambdas={}) for i in range(4)]
    with LocalRunner(workers=2) as runner:
        first = {r.metrics["pid"] for _, r, _ in runner.run(worker_pid, cands)}
        second = {r.metrics["pid"] for _, r, _ in runner.run(worker_pid, cands)}
        assert second <= first and len(first) <= 2
    assert runner._pool is None
    third = {r.metrics["pid"] for _, r, _ in runner.run(worker_pid, cands[:1])}  # closed: new workers
    runner.close()
    assert not third & first


def lightning_chatter(cand: Candidate) -> FitnessResult:
    """Emit the warning LightningCLI gives every candidate; score = how many warnings got through."""
    with warnings.catch_warnings(record=True) as shown:
        warnings.warn("LightningCLI's args parameter is intended to run from within Python like if it were "
                      "from the command line.", UserWarning)
    return FitnessResult(score=float(len(shown)), metrics={})


def test_process_workers_keep_the_cli_quiet(tmp_path):
    _, results = _run(tmp_path, lightning_chatter, generations=1, runner=LocalRunner(workers=2))
    assert [rec["score"] for rec in results.records] == [0.0] * 10


def test_ray_runner_on_local_instance(tmp_path):
    ray = pytest.importorskip("ray", reason="ray is not installed: pip install 'evovideo[ray]'")
    import sys

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # ship the test fitness by value
    try:
        seq, _ = _run(tmp_path / "seq", planted_score, generations=2)
        par, results = _run(tmp_path / "ray", planted_score, generations=2, runner=RayRunner(num_cpus=2))
    finally:
        ray.shutdown()
    assert [t.candidate for t in par.history()] == [t.candidate for t in seq.history()]
    assert all(r["time_s"] >= 0 for r in results.records)


def test_no_child_repeats_a_proposed_lambda_vector():
    """A no-op mutation (zeroing a 0, perturbing a 1 upwards) used to send a copy of its parent to
    training: 2 of 8 second-generation candidates in each gap-fitness laptop search."""
    initial = {"rgb/reconstruction": 1.0, "rgb/arrow_of_time": 0.0, "rgb->flow/cross_modal_transfer": 0.0,
               "flow:layer3": 1.0}
    search = TournamentSearch(SearchSpace(NAMES), population=8, tournament=3, generations=6, elite=1, seed=0,
                              initial=initial)
    while not search.done:  # the initial vector is the optimum: it wins most tournaments
        for cand in search.ask():
            search.tell(cand.id, sum((cand.lambdas[n] - initial[n]) ** 2 for n in NAMES))
    vectors = [tuple(t.candidate.lambdas[n] for n in NAMES) for t in search.history()]
    assert len(vectors) == 48 and len(set(vectors)) == 48


def test_generation_zero_starts_from_every_given_vector_once():
    """The baselines a search must beat (the recipe's λ, each term alone) can be its first candidates:
    with sparse corners drawn at random, 'one term alone' was out of reach of a 16-candidate search."""
    recipe = {"rgb/reconstruction": 0.5, "rgb/arrow_of_time": 0.5, "rgb->flow/cross_modal_transfer": 0.0,
              "flow:layer3": 0.5}
    corners = [{n: float(n == m) for n in NAMES} for m in NAMES[:3]]
    search = TournamentSearch(SearchSpace(NAMES), population=6, seed=0, initial=[recipe, *corners, corners[0]])
    first = [c.lambdas for c in search.ask()]
    assert first[:4] == [recipe, *corners]  # in order; the repeated corner is proposed once
    assert len({tuple(v.values()) for v in first}) == 6  # the rest drawn at random
    assert search.initial == [recipe, *corners]  # the results-file header records them
    assert TournamentSearch(SearchSpace(NAMES), initial=recipe).initial == recipe  # one vector: as before
    with pytest.raises(ValueError, match="4 initial lambda vectors do not fit a population of 3"):
        TournamentSearch(SearchSpace(NAMES), population=3, initial=[recipe, *corners])


def test_no_candidate_is_a_vector_the_plan_would_refuse():
    """Children of 'reconstruction alone' used to be sent to training and refused there (+inf): 5 of 8
    second-generation candidates of a laptop search (every weight 0, or flow distillation without a
    task that trains the flow tower).  The search redraws them."""
    from evovideo.evolution.recipe import trainable

    names = ("rgb/reconstruction", "flow-rgb/cross_modal_embedding", "flow:layer3")
    groups = {"tasks": list(names[:2]), "distill": ["flow:layer3"]}
    pretrain = {"model": {"init_args": {"student": "test_r2plus1d", "towers": {"flow": "test_flow"},
                                        "tasks": {n: 0.0 for n in names[:2]}, "distill": {"flow:layer3": 0.0}}}}
    ok = trainable(pretrain, groups)
    assert ok({"rgb/reconstruction": 1.0, "flow-rgb/cross_modal_embedding": 0.0, "flow:layer3": 0.0})
    assert ok({"rgb/reconstruction": 0.0, "flow-rgb/cross_modal_embedding": 0.3, "flow:layer3": 0.5})
    assert not ok({"rgb/reconstruction": 0.0, "flow-rgb/cross_modal_embedding": 0.0, "flow:layer3": 0.0})
    assert not ok({"rgb/reconstruction": 1.0, "flow-rgb/cross_modal_embedding": 0.0, "flow:layer3": 0.2})
    alone = {"rgb/reconstruction": 1.0, "flow-rgb/cross_modal_embedding": 0.0, "flow:layer3": 0.0}
    space = SearchSpace(names, p_perturb=0.0, p_zero=0.5, p_resample=0.5)  # zeroing and distillation: often refused
    search = TournamentSearch(space, population=8, generations=3, seed=0, initial=alone, valid=ok)
    while not search.done:  # 'reconstruction alone' is the optimum: its children are the ones proposed
        for cand in search.ask():
            search.tell(cand.id, sum((cand.lambdas[n] - alone[n]) ** 2 for n in names))
    proposed = [t.candidate.lambdas for t in search.history()]
    assert len(proposed) == 24 and all(ok(lam) for lam in proposed)
