"""A labelled fitness: leave-one-out k-nearest-neighbour accuracy with cosine similarity.

The weakly-supervised comparison the paper makes for the Zipf fitness: score the same features
with a small labelled set.  Each clip is classified by its ``k`` most similar other clips, votes
weighted by ``exp(cos / T)`` (T = 0.07, as DINO's kNN monitor).  The fitness ``score`` is the error
``1 - accuracy`` (lower is better, like every fitness); ``metrics["knn_accuracy"]`` is the accuracy.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from evovideo.evolution.fitness import FITNESS, FitnessResult


def knn_accuracy(features: torch.Tensor, labels: torch.Tensor, k: int = 10, temperature: float = 0.07,
                 balanced: bool = False) -> float:
    """Leave-one-out weighted kNN accuracy of features (N, D) with int labels (N,).  ``balanced``: the
    mean over classes of each class's accuracy (on a long-tailed set the head class alone would carry
    the plain accuracy: voting for it everywhere scores its share of the set); the same number on a
    balanced set."""
    if features.ndim != 2 or labels.shape != features.shape[:1]:
        raise ValueError(f"knn needs features (N, D) and labels (N,), got {tuple(features.shape)}, {tuple(labels.shape)}")
    if bool((labels < 0).any()):
        raise ValueError("knn fitness got unlabeled samples (label -1); score it on a labelled set or use 'zipf'")
    n = features.shape[0]
    if n < 2:
        raise ValueError(f"knn fitness needs at least 2 labelled samples, got {n}")
    k = min(k, n - 1)
    f = F.normalize(features.detach().float(), dim=1)
    labels = labels.long().to(f.device)
    classes = int(labels.max()) + 1
    hits = torch.zeros(n, dtype=torch.bool, device=f.device)
    for start in range(0, n, 4096):  # (chunk, N) similarities at a time
        sim = f[start : start + 4096] @ f.t()
        rows = torch.arange(sim.shape[0], device=f.device)
        sim[rows, rows + start] = -float("inf")  # leave the sample itself out
        top = sim.topk(k, dim=1)
        votes = torch.zeros(sim.shape[0], classes, device=f.device).scatter_add_(1, labels[top.indices], (top.values / temperature).exp())
        hits[start : start + 4096] = votes.argmax(1) == labels[start : start + 4096]
    if not balanced:
        return float(hits.float().mean())
    present = labels.unique()
    return float(torch.stack([hits[labels == c].float().mean() for c in present]).mean())


@FITNESS.register("knn", requires_labels=True)
class KNNFitness:
    """Labelled: leave-one-out cosine kNN error on a small labelled set (score = 1 - accuracy)."""

    requires_labels = True

    def __init__(self, k: int = 10, temperature: float = 0.07) -> None:
        if k < 1:
            raise ValueError(f"knn fitness needs k >= 1 neighbours, got k={k}")
        self.k, self.temperature = k, temperature

    min_samples = 2  # leave-one-out needs another sample

    def __call__(self, features: torch.Tensor, labels: torch.Tensor | None = None) -> FitnessResult:
        if labels is None:
            raise ValueError("the 'knn' fitness needs labels; give a labelled fitness set or use 'zipf'")
        acc = knn_accuracy(features, labels, self.k, self.temperature)
        return FitnessResult(score=1.0 - acc, metrics={"knn_accuracy": acc, "k": self.k})
