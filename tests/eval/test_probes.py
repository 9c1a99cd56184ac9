"""kNN (cosine, temperature-weighted) and the linear probe on toy features."""
from __future__ import annotations

import torch

from evovideo.eval.probes import accuracy, knn_scores, linear_probe


def _clusters(n_per=20, classes=4, dim=16, noise=0.5, seed=0):
    gen = torch.Generator().manual_seed(seed)
    centers = torch.randn(classes, dim, generator=gen) * 2
    y = torch.arange(classes).repeat_interleave(n_per)
    return centers[y] + noise * torch.randn(len(y), dim, generator=gen), y


def test_knn_known_answer():
    train = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
    labels = torch.tensor([0, 0, 1])
    scores = knn_scores(train, labels, torch.tensor([[1.0, 0.05]]), 2, k=2, temperature=0.1)
    sims = torch.nn.functional.normalize(train, dim=-1) @ torch.nn.functional.normalize(torch.tensor([1.0, 0.05]), dim=0)
    assert torch.allclose(scores[0, 0], (sims[:2] / 0.1).exp().sum()) and scores[0, 1] == 0
    # k larger than the training set is clipped, and the far neighbour then gets a small vote
    scores = knn_scores(train, labels, torch.tensor([[1.0, 0.05]]), 2, k=50, temperature=0.1)
    assert 0 < scores[0, 1] < scores[0, 0]


def test_knn_and_linear_probe_on_toy_clusters():
    xtr, ytr = _clusters(seed=0)
    xte, yte = _clusters(seed=0, n_per=10)
    xte = xte + 0.1 * torch.randn_like(xte)
    assert accuracy(knn_scores(xtr, ytr, xte, 4, chunk=7), yte) == 100.0
    probe = linear_probe(xtr, ytr, 4)
    assert probe.weight.shape == (4, 16)
    assert accuracy(probe(xte), yte) == 100.0


def test_probes_at_chance_on_random_labels():
    xtr, _ = _clusters(n_per=50, seed=1)
    gen = torch.Generator().manual_seed(2)
    ytr = torch.randint(0, 4, (200,), generator=gen)
    xte, _ = _clusters(n_per=50, seed=3)
    yte = torch.randint(0, 4, (200,), generator=gen)
    assert 10.0 < accuracy(knn_scores(xtr, ytr, xte, 4), yte) < 40.0
