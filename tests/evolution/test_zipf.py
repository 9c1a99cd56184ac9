"""Known answers of the Zipf fitness, k-means against scikit-learn, and the kNN fitness."""
from __future__ import annotations

import math

import pytest
import torch

from evovideo.evolution import FITNESS, kl_to_zipf, kmeans, knn_accuracy, zipf_fitness, zipf_prior


def blobs(sizes: list[int], dim: int = 16, sep: float = 8.0, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(len(sizes), dim, generator=g) * sep
    labels = torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes))
    return centres[labels] + torch.randn(len(labels), dim, generator=g), labels


K = 8
POWER = [round(400 / i) for i in range(1, K + 1)]  # sizes ~ rank^-1
UNIFORM = [sum(POWER) // K] * K


def test_prior_and_kl_known_values():
    q = zipf_prior(4, 1.0)
    h = 1 + 1 / 2 + 1 / 3 + 1 / 4
    assert torch.allclose(q, torch.tensor([1, 1 / 2, 1 / 3, 1 / 4], dtype=torch.float64) / h)
    assert kl_to_zipf(q.flip(0), 1.0) == pytest.approx(0.0, abs=1e-12)  # order does not matter
    assert kl_to_zipf(torch.tensor([1.0, 0, 0, 0]), 1.0) == pytest.approx(math.log(h))  # the worst
    uniform = math.log(h) + math.log(math.factorial(4)) / 4 - math.log(4)
    assert kl_to_zipf(torch.full((4,), 0.25), 1.0) == pytest.approx(uniform)


def test_power_law_clusters_beat_uniform_and_collapse_is_worst():
    power = zipf_fitness(blobs(POWER)[0], k=K, s=1.0)
    uniform = zipf_fitness(blobs(UNIFORM)[0], k=K, s=1.0)
    collapsed = zipf_fitness(torch.ones(sum(POWER), 16) + 1e-5 * torch.randn(sum(POWER), 16), k=K, s=1.0)
    assert power.kl < 0.02 < uniform.kl < collapsed.kl
    assert collapsed.clusters_found == 1 and collapsed.kl == pytest.approx(math.log(1 / float(zipf_prior(K)[0])))
    assert power.masses.sum() == pytest.approx(1.0)
    # the recovered masses follow the planted sizes
    assert torch.allclose(power.masses, torch.tensor(POWER, dtype=torch.float64) / sum(POWER), atol=0.01)


def test_zipf_is_scale_invariant_and_registered():
    x = blobs(POWER)[0]
    assert zipf_fitness(x, k=K).kl == pytest.approx(zipf_fitness(37.0 * x, k=K).kl, rel=1e-4)
    fit = FITNESS.create("zipf", k=K)
    res = fit(x)
    assert res.score == pytest.approx(res.metrics["zipf_score"]) and len(res.metrics["masses"]) == K
    assert res.metrics["zipf_kl"] <= res.score <= res.metrics["zipf_kl_worst"]
    with pytest.raises(ValueError, match="lower k"):
        zipf_fitness(x[:5], k=K)


def test_kmeans_matches_sklearn_inertia():
    sklearn = pytest.importorskip("sklearn.cluster", reason="scikit-learn not installed: pip install 'evovideo[test]'")
    x, _ = blobs([60] * 10, dim=24, sep=2.0, seed=1)
    ours = kmeans(x, k=10, iters=30, seed=0)
    ref = sklearn.KMeans(n_clusters=10, max_iter=30, n_init=1, tol=0.0, random_state=0).fit(x.numpy())
    assert ours.inertia == pytest.approx(float(ref.inertia_), rel=0.01)
    exact = ((x - ours.centroids[ours.labels]) ** 2).sum()
    assert ours.inertia == pytest.approx(float(exact), rel=1e-4)
    for precision in ("bfloat16", "int8"):
        low = kmeans(x, k=10, iters=30, seed=0, precision=precision)
        assert low.inertia == pytest.approx(ours.inertia, rel=0.01), precision
        exact = ((x - low.centroids[low.labels]) ** 2).sum()  # the reported inertia is the float32 one
        assert low.inertia == pytest.approx(float(exact), rel=1e-4), precision


@pytest.mark.parametrize("precision", ["bfloat16", "int8"])
@pytest.mark.parametrize("normalize", [True, False])
def test_low_precision_distances_stay_within_their_error_bound(precision, normalize):
    from evovideo.evolution.kmeans import LowPrecisionCopy, row_norms_sq, squared_distances

    g = torch.Generator().manual_seed(4)
    x = torch.randn(3000, 512, generator=g) * torch.rand(3000, 1, generator=g) * 3  # norms vary
    x = torch.nn.functional.normalize(x, dim=1) if normalize else x
    x_sq = row_norms_sq(x)
    low = LowPrecisionCopy.of(x, precision, x_sq)
    idx = torch.randint(0, 3000, (8,), generator=g)
    approx = low.distances(x_sq, idx)
    exact = squared_distances(x, x[idx], x_sq).t()
    err = (approx - exact).abs().max(1).values
    bounds = torch.tensor([low.error(float(x_sq[i])) for i in idx])
    assert (err <= bounds).all() and (err > 0).any()
    # the Lloyd-pass labels agree with float32 except near boundaries
    c = x[torch.randperm(3000, generator=g)[:20]]
    labels = low.labels(c)
    d = squared_distances(x, c, x_sq)
    gap = d.gather(1, labels[:, None]).squeeze(1) - d.min(1).values  # 0 where the label is the nearest
    assert (gap <= 2 * low.error(float(row_norms_sq(c).max()))).all() and (gap == 0).float().mean() > 0.9


def test_balanced_knn_accuracy_is_not_carried_by_a_long_tail_head_class():
    # one tight cluster holds the head class (36 clips) and the nine tail classes (4 clips each), mixed:
    # nearly every vote goes to the head class: plain accuracy ~ its share of the set (0.5), balanced ~ 1 / 10
    x = torch.randn(72, 8, generator=torch.Generator().manual_seed(0)) * 1e-3 + 5.0
    labels = torch.cat([torch.zeros(36, dtype=torch.long), torch.arange(1, 10).repeat_interleave(4)])
    assert knn_accuracy(x, labels, k=10) > 0.4
    assert knn_accuracy(x, labels, k=10, balanced=True) < 0.2
    y, by = blobs([20] * 5, seed=2)  # balanced, separable: the same number either way
    assert knn_accuracy(y, by, k=5, balanced=True) == knn_accuracy(y, by, k=5) == 1.0


@pytest.mark.parametrize("precision", ["float32", "bfloat16", "int8"])
def test_duplicates_give_fewer_centroids_in_every_precision(precision):
    g = torch.Generator().manual_seed(5)
    points = torch.nn.functional.normalize(torch.randn(3, 64, generator=g), dim=1)
    x = points.repeat(200, 1)  # 600 rows, 3 distinct points
    km = kmeans(x, k=8, iters=10, seed=0, precision=precision)
    assert km.centroids.shape[0] == 3 and km.inertia == pytest.approx(0.0, abs=1e-6)
    assert sorted(torch.bincount(km.labels).tolist()) == [200, 200, 200]


def test_bad_precision_is_named():
    x = torch.randn(50, 8)
    with pytest.raises(ValueError, match="float32, bfloat16, int8.*'int4'"):
        kmeans(x, k=4, precision="int4")
    with pytest.raises(ValueError, match="int4"):
        FITNESS.create("zipf", k=4, precision="int4")


def test_knn_fitness_orientation():
    x, labels = blobs([20] * 5, seed=2)
    assert knn_accuracy(x, labels, k=5) == 1.0
    fit = FITNESS.create("knn", k=5)
    good = fit(x, labels)
    bad = fit(torch.randn_like(x), labels)
    assert good.score == 0.0 and good.metrics["knn_accuracy"] == 1.0
    assert bad.score > good.score  # lower is better for every fitness
    with pytest.raises(ValueError, match="unlabeled"):
        fit(x, torch.full_like(labels, -1))


@pytest.mark.parametrize("precision", ["float32", "bfloat16", "int8"])
def test_kept_distances_give_the_same_soft_masses(precision):
    from evovideo.evolution.zipf import soft_cluster_masses

    x = torch.nn.functional.normalize(blobs(POWER, seed=3)[0], dim=1)
    km = kmeans(x, k=K, iters=30, seed=0, precision=precision, keep_distances=True)  # stops early: redone in float32
    assert km.distances is not None and km.distances.shape == (x.shape[0], K)
    exact = ((x - km.centroids[km.labels]) ** 2).sum()
    assert km.inertia == pytest.approx(float(exact), rel=1e-4)
    tau = km.inertia / x.shape[0]
    reference = soft_cluster_masses(x, km.centroids, tau)
    assert torch.allclose(soft_cluster_masses(x, km.centroids, tau, km.distances), reference, atol=1e-6)


def _controlled(seed: int = 0, k: int = 20, per: int = 50, dim: int = 128):
    from evovideo.bench.fitness import feature_sets

    return {name: x for name, (x, _) in feature_sets(k, per, dim, seed).items()}


@pytest.mark.parametrize("seed", [0, 1])
def test_random_collapsed_and_rank2_score_worse_than_class_structure(seed):
    """Before: on balanced data with s=1 random features (KL 0.399) scored as well as perfect classes
    (0.401), rank-2 features better (0.32), and near-collapsed ones (constant + 1e-3 noise) 0.30 from
    float32 rounding noise.  The guarded score must order them."""
    sets = _controlled(seed)
    score = {name: zipf_fitness(x, k=20).score for name, x in sets.items()}
    assert max(score["balanced"], score["zipf"]) < min(score["random"], score["collapsed"], score["rank2"])
    assert score["zipf"] < score["balanced"]  # the prior still prefers power-law masses


def test_near_collapsed_features_are_not_scored_from_rounding_noise():
    """Constant + 1e-2 noise: above the collapse floor, so k-means runs; the float64 assignment and
    the guard must still put it near the worst score, not below random features."""
    g = torch.Generator().manual_seed(0)
    near = torch.ones(1000, 128) + 1e-2 * torch.randn(1000, 128, generator=g)
    z = zipf_fitness(near, k=20, guard=False)
    assert not z.collapsed and z.temperature > 0
    assert zipf_fitness(near, k=20).score > 0.9 * z.worst


def test_paper_definition_is_available():
    from evovideo.evolution.zipf import PAPER

    x = blobs(POWER)[0]
    paper = zipf_fitness(x, k=K, **PAPER)
    assert paper.temperature == 1.0 and paper.structure == 1.0 and paper.score == paper.kl


def test_fit_zipf_exponent_matches_the_set():
    from evovideo.evolution.zipf import fit_zipf_exponent

    assert fit_zipf_exponent([50] * 400) == pytest.approx(0.0, abs=1e-3)
    counts = (1000 * torch.arange(1, 101, dtype=torch.float64).pow(-1.0)).round()
    assert fit_zipf_exponent(counts) == pytest.approx(1.0, abs=0.02)
    assert FITNESS.create("zipf", k=4, class_counts=[10, 10, 10, 10]).s == pytest.approx(0.0, abs=1e-3)


def test_auto_precision_follows_the_cpu_instructions():
    from evovideo.evolution.kmeans import auto_precision

    assert auto_precision("cpu", frozenset({"avx", "avx2"})) == "float32"  # int8 measured 0.15x there
    assert auto_precision("cpu", frozenset({"avx2", "avx512_vnni"})) == "int8"
    assert auto_precision("cpu", frozenset({"avx2", "avx512_bf16"})) == "bfloat16"
    assert auto_precision("cuda") == "bfloat16"
    x = blobs(POWER)[0]
    assert kmeans(x, k=K, precision="auto").centroids.shape == (K, 16)
