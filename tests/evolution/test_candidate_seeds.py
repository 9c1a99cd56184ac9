"""Several training seeds per candidate (``candidate_seeds``): a candidate's score is the mean fitness
of its seeds, so one lucky or unlucky initialisation cannot carry it (λ × seed interaction)."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from evovideo.evolution.candidate import PretrainEvaluator
from evovideo.evolution.fitness import FitnessResult
from evovideo.evolution.search import Candidate
from evovideo.evolution.validity import seed_agreement
from evovideo.tasks.base import RecipeError

from tiny_evolve import evolve


class _Scored(PretrainEvaluator):
    """The evaluator with scoring short-circuited: the fake trainer's 'student' carries its score."""

    def score(self, encoder, save_to=None):
        return FitnessResult(score=encoder["score"], metrics={"knn_accuracy": encoder["knn"], "note": "x"})


def _evaluator(tmp_path, calls, seeds, refuse=()):
    def trainer(recipe, lambdas, budget, seed, workdir, **rung):
        calls.append((seed, workdir, rung))
        if seed in refuse:
            raise RecipeError("flow tower trained by no active task")
        return {"score": 0.1 * seed, "knn": float(seed)}

    return _Scored(recipe={}, budget=6, trainer=trainer, datamodule=None, space={"tasks": ["a"], "distill": []},
                   seed=4, seeds=seeds, workdir=str(tmp_path))


def test_a_candidate_trains_every_seed_and_scores_their_mean(tmp_path):
    calls = []
    result = _evaluator(tmp_path, calls, seeds=3)(Candidate("g000c001", 0, 1, {"a": 1.0}))
    assert [c[0] for c in calls] == [4, 5, 6]
    assert [c[1] for c in calls] == [tmp_path / "g000c001" / f"seed{s}" for s in (4, 5, 6)]
    assert result.score == pytest.approx(0.5) and result.metrics["knn_accuracy"] == pytest.approx(5.0)
    assert result.metrics["seed_scores"] == pytest.approx({"4": 0.4, "5": 0.5, "6": 0.6})
    assert result.metrics["seed_score_std"] == pytest.approx(0.1) and "note" not in result.metrics


def test_one_seed_keeps_the_layout_of_a_one_seed_search(tmp_path):
    calls = []
    result = _evaluator(tmp_path, calls, seeds=1)(Candidate("g000c001", 0, 1, {"a": 1.0}))
    assert calls == [(4, tmp_path / "g000c001", {})] and result.score == pytest.approx(0.4)
    assert "seed_scores" not in result.metrics


def test_halving_resumes_each_seed_from_its_own_checkpoint(tmp_path):
    calls = []
    evaluate = _evaluator(tmp_path, calls, seeds=2)
    cand = Candidate("g000c001", 0, 1, {"a": 1.0})
    evaluate.at_rung(2, None)(cand)
    assert [c[1] for c in calls] == [tmp_path / "g000c001" / "steps2" / f"seed{s}" for s in (4, 5)]
    for s in (4, 5):  # what the Lightning trainer leaves at a rung
        (tmp_path / "g000c001" / "steps2" / f"seed{s}").mkdir(parents=True, exist_ok=True)
        (tmp_path / "g000c001" / "steps2" / f"seed{s}" / "stopped.ckpt").write_bytes(b"")
    calls.clear()
    evaluate.at_rung(6, 2)(cand)
    assert [(c[1], c[2]["resume_from"]) for c in calls] == [
        (tmp_path / "g000c001" / "steps6" / f"seed{s}", tmp_path / "g000c001" / "steps2" / f"seed{s}" / "stopped.ckpt")
        for s in (4, 5)]


def test_a_seed_that_is_refused_makes_the_candidate_inf_and_stops_its_other_seeds(tmp_path):
    calls = []
    result = _evaluator(tmp_path, calls, seeds=3, refuse={5})(Candidate("g000c001", 0, 1, {"a": 1.0}))
    assert math.isinf(result.score) and "refused" in result.metrics["error"]
    assert result.metrics["seed_scores"]["4"] == pytest.approx(0.4) and [c[0] for c in calls] == [4, 5]


def test_evolve_with_two_seeds_per_candidate_end_to_end(tmp_path, monkeypatch, capsys):
    assert evolve(tmp_path, monkeypatch, candidate_seeds=2, population=3) == 0
    lines = [json.loads(x) for x in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    assert lines[0]["candidate_seeds"] == 2
    for rec in lines[1:]:
        assert set(rec["metrics"]["seed_scores"]) == {"0", "1"}
        assert rec["score"] == pytest.approx(sum(rec["metrics"]["seed_scores"].values()) / 2)
    assert "seed agreement (" in capsys.readouterr().out
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["seed_agreement"]
    # continuing with another seed count is another search: refused, nothing retrained
    assert evolve(tmp_path, monkeypatch, candidate_seeds=3, population=3) != 0
    assert "candidate_seeds" in capsys.readouterr().err


def test_candidate_seeds_below_one_is_refused(tmp_path, monkeypatch, capsys):
    assert evolve(tmp_path, monkeypatch, candidate_seeds=0) != 0
    assert "candidate_seeds = 0" in capsys.readouterr().err
    assert evolve(tmp_path, monkeypatch, args=("--candidate-seeds", "-1")) != 0  # the flag goes through the same check
    assert "candidate_seeds = -1" in capsys.readouterr().err


def test_bench_validity_ranks_each_seed_of_a_candidate_as_its_own_student(tmp_path):
    from evovideo.bench.validity import students

    for rel in ("g000c000/steps450/logs/version_0/student", "g000c001/steps153/seed0/logs/version_0/student",
                "g000c001/steps153/seed1/logs/version_0/student", "g000c001/steps450/seed0/logs/version_0/student"):
        (tmp_path / "candidates" / rel).mkdir(parents=True)
    assert [(cid, steps) for cid, steps, _ in students(tmp_path)] == [
        ("g000c000", 450), ("g000c001/seed0", 153), ("g000c001/seed1", 153), ("g000c001/seed0", 450)]


def _seed_records(seed_scores, steps=10):
    return [{"id": f"c{i}", "score": float(np.mean(list(s.values()))), "steps": steps, "rung": 0,
             "metrics": {"seed_scores": s}} for i, s in enumerate(seed_scores)]


def test_seed_agreement_measures_how_much_of_the_fitness_is_lambda():
    rng = np.random.default_rng(0)
    lam = rng.normal(size=40)
    agree = seed_agreement(_seed_records([{"1": x, "2": x + 0.01 * rng.normal()} for x in lam]))
    assert agree["10 steps"]["rho"] > 0.95 and agree["10 steps"]["reliability"] > 0.97
    luck = seed_agreement(_seed_records([{"1": rng.normal(), "2": rng.normal(), "3": rng.normal()} for _ in lam]))
    assert abs(luck["10 steps"]["rho"]) < 0.2 and luck["10 steps"]["seeds"] == 3
    half = seed_agreement(_seed_records([{"1": x + rng.normal(), "2": x + rng.normal()} for x in np.linspace(-3 ** 0.5, 3 ** 0.5, 400)]))
    rho = half["10 steps"]["rho"]  # var(λ) = var(seed luck): ρ ≈ 0.5, the mean of 2 seeds ≈ 0.67
    assert 0.35 < rho < 0.65 and half["10 steps"]["reliability"] == pytest.approx(2 * rho / (1 + rho))
    # seeds that order the candidates oppositely carry no λ signal: reliability 0, not Spearman-Brown's
    # negative ratio (the packaged summary printed -8.00 for ρ -0.80 over 4 candidates)
    anti = seed_agreement(_seed_records([{"1": x, "2": -x} for x in lam]))
    assert anti["10 steps"]["rho"] == pytest.approx(-1.0) and anti["10 steps"]["reliability"] == 0.0
    assert seed_agreement(_seed_records([{"1": x} for x in lam])) == {}  # one seed: nothing to compare
    assert seed_agreement([{"id": "a", "score": 1.0, "metrics": {}}]) == {}
