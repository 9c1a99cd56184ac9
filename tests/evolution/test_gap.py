"""The cluster-gap fitness: rewards class structure, not collapse, and not dimensional collapse,
which the explained variance alone rewards."""
from __future__ import annotations

import pytest
import torch

from evovideo.bench.fitness import feature_sets
from evovideo.evolution import FITNESS, cluster_gap


@pytest.fixture(scope="module")
def sets():
    return feature_sets(k=10, per_class=20, dim=64, seed=0)


def test_explained_variance_alone_rewards_a_rank2_collapse_the_gap_does_not(sets):
    rank2, balanced = cluster_gap(sets["rank2"][0], k=10), cluster_gap(sets["balanced"][0], k=10)
    assert rank2["explained"] > balanced["explained"] > 0.9  # on a plane, 10 clusters explain even more
    assert rank2["explained_null"] > 0.8  # ... and nearly as much on its same-spectrum null
    # (L2-normalised, the plane's points lie on a ring, a little more clusterable than its null: 0.12)
    assert rank2["gap"] < 0.2 < 0.4 < balanced["gap"]

def test_structured_features_score_better_than_random_rank2_and_collapsed(sets):
    fit = FITNESS.create("gap", k=10, restarts=2)
    assert not fit.requires_labels and fit.min_samples == 10
    score = {name: fit(x).score for name, (x, _) in sets.items()}
    assert max(score["balanced"], score["zipf"]) < min(score["random"], score["rank2"], score["collapsed"])
    assert score["collapsed"] == 1.0 and fit(sets["collapsed"][0]).metrics["collapsed"]
    assert abs(score["random"]) < 0.05


def test_gap_is_scale_invariant_and_refuses_too_few_clips(sets):
    x = sets["zipf"][0]
    fit = FITNESS.create("gap", k=10)
    assert fit(x).score == pytest.approx(fit(100 * x).score, abs=1e-6)
    with pytest.raises(ValueError, match="k=10 needs features"):
        fit(torch.randn(5, 8))
