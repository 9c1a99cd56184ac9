"""Frozen-feature evaluation: weighted kNN and a linear probe, from the same cached features.

    scores = knn_scores(train_x, train_y, test_x, num_classes)        # (N_test, C)
    acc = accuracy(scores, test_y)
    probe = linear_probe(train_x, train_y, num_classes)              # a fitted LinearProbe
    acc = accuracy(probe(test_x), test_y)
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


def knn_scores(
    train: torch.Tensor,
    train_labels: torch.Tensor,
    test: torch.Tensor,
    num_classes: int,
    *,
    k: int = 20,
    temperature: float = 0.07,
    chunk: int = 1024,
) -> torch.Tensor:
    """Cosine kNN with ``exp(sim / temperature)`` vote weights (InstDisc, Wu et al. 2018; DINO).

    (N_train, D), (N_train,), (N_test, D) -> (N_test, num_classes) summed vote weights.
    """
    if train.shape[0] == 0:
        raise ValueError("knn_scores needs at least one training feature")
    k = min(k, train.shape[0])
    train, test = F.normalize(train.float(), dim=-1), F.normalize(test.float(), dim=-1)
    out = torch.zeros(test.shape[0], num_classes)
    for start in range(0, test.shape[0], chunk):
        sim = test[start : start + chunk] @ train.T  # (n, N_train)
        top_sim, top_idx = sim.topk(k, dim=1)  # (n, k)
        weights = (top_sim / temperature).exp()
        out[start : start + chunk].scatter_add_(1, train_labels[top_idx], weights)
    return out


def accuracy(scores: torch.Tensor, labels: torch.Tensor) -> float:
    """Top-1 accuracy in percent of (N, C) scores against (N,) labels."""
    return 100.0 * (scores.argmax(-1) == labels).float().mean().item()


@dataclass
class LinearProbe:
    """A linear classifier on L2-normalised features: ``logits = normalize(x) @ weight.T + bias``."""

    weight: torch.Tensor  # (C, D)
    bias: torch.Tensor  # (C,)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(x.float(), dim=-1) @ self.weight.T + self.bias


def linear_probe(
    train: torch.Tensor,
    train_labels: torch.Tensor,
    num_classes: int,
    *,
    C: float = 10.0,
    max_iter: int = 300,
) -> LinearProbe:
    """Fit multinomial logistic regression (L-BFGS, full batch) on frozen features.

    The objective is mean cross-entropy + ``||W||^2 / (2 C N)`` (scikit-learn's ``C``
    convention).  ``C`` is the one knob: ``evovideo.eval.pipeline.select_C`` sweeps it on a
    validation part of the training videos (what ``evovideo fewshot --probes`` reports).
    """
    x = F.normalize(train.float(), dim=-1)
    n, d = x.shape
    weight = torch.zeros(num_classes, d, requires_grad=True)
    bias = torch.zeros(num_classes, requires_grad=True)
    opt = torch.optim.LBFGS([weight, bias], lr=1.0, max_iter=max_iter, tolerance_grad=1e-7,
                            tolerance_change=1e-10, history_size=20, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = F.cross_entropy(x @ weight.T + bias, train_labels) + (weight**2).sum() / (2 * C * n)
        loss.backward()
        return loss

    with torch.enable_grad():
        opt.step(closure)
    return LinearProbe(weight.detach(), bias.detach())
