"""Successive halving in the evolution loop, fitness validity (Spearman), distillation locations."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from evovideo.evolution.fitness import FitnessResult
from evovideo.evolution.genome import SearchSpace
from evovideo.evolution.loop import run_evolution
from evovideo.evolution.recipe import EvolveRecipe
from evovideo.evolution.results import ResultsFile
from evovideo.evolution.runners import LocalRunner
from evovideo.evolution.search import TournamentSearch
from evovideo.evolution.validity import fitness_validity, rankdata, spearman


@dataclasses.dataclass
class Fake:
    """Score = distance of lambda 'a' to 0.3, scaled down with steps; counts the steps trained."""
    log: list
    stop_at: int | None = None
    resume_at: int | None = None
    budget: int = 9

    def at_rung(self, steps, previous):
        return dataclasses.replace(self, stop_at=None if steps >= self.budget else steps, resume_at=previous)

    def __call__(self, cand):
        end = self.stop_at or self.budget
        self.log.append((cand.id, end - (self.resume_at or 0)))
        err = abs(cand.lambdas["a"] - 0.3)
        return FitnessResult(score=err * 9 / end, metrics={"knn_accuracy": 1 - err})


def test_halving_trains_the_best_fraction_on_and_ranks_survivors_first(tmp_path):
    space = SearchSpace(("a", "b"))
    search = TournamentSearch(space, population=8, tournament=2, generations=2, seed=0)
    log: list = []
    results = ResultsFile(tmp_path / "r.jsonl", {"test": 1})
    run_evolution(search, LocalRunner(), Fake(log), results, budget=9, rungs=[3, 9], keep=0.5)
    steps = sum(s for _, s in log)
    assert steps == 2 * (8 * 3 + 4 * 6)  # 8 to rung 1, the best 4 continue 6 more steps; was 2 * 8 * 9
    gen0 = [r for r in results.records if r["generation"] == 0]
    first = {r["id"]: r["score"] for r in gen0 if r["rung"] == 0 and not r["final"]}
    survivors = {r["id"] for r in gen0 if r["final"] and r["steps"] == 9}
    assert len(survivors) == 4 and all(first[s] <= min(v for k, v in first.items() if k not in survivors) for s in survivors)
    best = search.best()
    assert best.steps == 9  # a stopped candidate (scored at 3 steps) never outranks a survivor
    # rerun: nothing is trained again
    log2: list = []
    again = TournamentSearch(space, population=8, tournament=2, generations=2, seed=0)
    run_evolution(again, LocalRunner(), Fake(log2), ResultsFile(tmp_path / "r.jsonl", {"test": 1}), budget=9,
                  rungs=[3, 9], keep=0.5)
    assert log2 == [] and again.best().candidate.id == best.candidate.id
    v = fitness_validity(results.records)
    assert set(v) == {"3 steps", "9 steps"} and v["3 steps"]["n"] == 16 and v["3 steps"]["rho"] > 0.99


def test_spearman_and_permutation_p():
    rng = np.random.default_rng(0)
    x = rng.normal(size=30)
    rho, p = spearman(x, x ** 3, permutations=2000)
    assert rho == pytest.approx(1.0) and p < 0.001
    rho, p = spearman(x, rng.normal(size=30), permutations=2000)
    assert abs(rho) < 0.5 and p > 0.05
    rho, _ = spearman([1, 2, 3, 4], [4, 3, 2, 1], permutations=100)
    assert rho == pytest.approx(-1.0)


def test_spearman_permutation_p_is_the_loop_over_permutations_and_cheap():
    """`bench validity` correlates ~36 pairs per run: the permutation test was a Python loop of np.corrcoef
    (~0.7 s per pair, 27 s of a 37 s test). The same permutations (same seed), correlated at once."""
    import time

    rng = np.random.default_rng(1)
    a = rng.normal(size=16)
    b = np.round(2 * a + rng.normal(size=16))  # correlated, with ties
    assert len(np.unique(b)) < 16
    rho, p = spearman(a, b)
    ra, rb = rankdata(a), rankdata(b)
    perm_rng = np.random.default_rng(0)
    ref = np.array([np.corrcoef(ra, perm_rng.permutation(rb))[0, 1] for _ in range(10000)])
    assert p == pytest.approx((np.sum(np.abs(ref) >= abs(rho) - 1e-12) + 1) / 10001)
    start = time.process_time()  # this process's CPU time: other jobs on the machine do not count
    for _ in range(36):
        spearman(a, b)
    assert time.process_time() - start < 5.0  # the loop took ~20 s here; correlated at once ~1 s


def test_distill_layers_and_halving_in_the_recipe(tmp_path):
    (tmp_path / "p.yaml").write_text(
        "model: {init_args: {towers: {flow: test_flow, audio: test_audio}, tasks: {t: 1.0}, distill: {'flow:layer3': 0.5}}}\n")
    (tmp_path / "e.yaml").write_text("pretrain: p.yaml\ndistill_layers: [layer3, layer4->layer3]\nbudget: 30\n"
                                     "halving: {rungs: [0.34, 1.0], keep: 0.5}\n")
    r = EvolveRecipe.from_yaml(tmp_path / "e.yaml")
    assert r.space_names(r.base_recipe()) == ("t", "flow:layer3", "flow:layer4->layer3", "audio:layer3",
                                              "audio:layer4->layer3")
    assert r.halving_rungs() == ([10, 30], 0.5)
    with pytest.raises(ValueError, match="rungs"):
        dataclasses.replace(r, halving={"steps": [1]}).halving_rungs()


def test_rescore_long_tailed_subset_from_saved_features(tmp_path):
    import torch

    from evovideo.eval.features import FeatureSet
    from evovideo.evolution.validity import rescore

    labels = torch.arange(4).repeat_interleave(8)
    for i, noise in enumerate((0.05, 0.5, 2.0, 8.0)):  # less noise: tighter classes, higher kNN accuracy
        g = torch.Generator().manual_seed(i)
        feats = torch.eye(16)[labels] + noise * torch.randn(32, 16, generator=g)
        FeatureSet(feats, labels, [str(j) for j in range(32)], {}).save(
            tmp_path / "candidates" / f"c{i}" / "steps5" / "fitness_features.pt")
    seen = []

    def fitness(x):
        seen.append(len(x))
        return FitnessResult(score=float(x.std(0).mean()), metrics={})

    recs = rescore(tmp_path, fitness, steps=5, long_tail=1.0)
    assert seen == [8 + 4 + 3 + 2] * 4  # the Zipf subset of 8 per class (s=1)
    assert [r["id"] for r in recs] == ["c0", "c1", "c2", "c3"]
    assert recs[0]["metrics"]["knn_accuracy"] > recs[3]["metrics"]["knn_accuracy"]
    assert fitness_validity(recs)["all candidates"]["n"] == 4
