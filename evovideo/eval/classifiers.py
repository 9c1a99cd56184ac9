"""Classifiers fitted on a few labelled features, batched over many independent problems.

Both work on ``E`` problems (few-shot episodes) at once; a single problem is ``E = 1``::

    support: (E, S, D) features    labels: (E, S) in 0..C-1    query: (E, Q, D)
    prototype_logits(support, labels, query, C)            -> (E, Q, C) cosine similarities
    logistic_regression_logits(support, labels, query, C)  -> (E, Q, C) logits

Features are L2-normalised first (the usual protocol for frozen self-supervised features).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def prototype_logits(
    support: torch.Tensor, labels: torch.Tensor, query: torch.Tensor, num_classes: int
) -> torch.Tensor:
    """Nearest class mean with cosine similarity (prototypical classifier, Snell et al. 2017)."""
    support, query = F.normalize(support.float(), dim=-1), F.normalize(query.float(), dim=-1)
    onehot = F.one_hot(labels, num_classes).to(support.dtype)  # (E, S, C)
    counts = onehot.sum(1).clamp_min(1)  # (E, C)
    protos = onehot.transpose(1, 2) @ support / counts.unsqueeze(-1)  # (E, C, D)
    return query @ F.normalize(protos, dim=-1).transpose(1, 2)  # (E, Q, C)


def logistic_regression_logits(
    support: torch.Tensor,
    labels: torch.Tensor,
    query: torch.Tensor,
    num_classes: int,
    *,
    C: float = 1.0,
    max_iter: int = 100,
    tol: float = 1e-6,
) -> torch.Tensor:
    """Multinomial L2-regularised logistic regression per problem, solved for all at once.

    Per problem the objective is scikit-learn's ``LogisticRegression(C=C)`` (multinomial, bias not
    penalised): ``sum_i CE(x_i, y_i) + ||W||^2 / (2C)``.  The problems are independent, so their
    sum is minimised with one L-BFGS run over every problem's weights.  By the representer theorem
    the optimal ``W`` lies in the span of the support features, so it is written ``W = X^T A``
    with ``A`` of shape (S, C): the work per step is then independent of the feature width D.
    """
    support, query = F.normalize(support.float(), dim=-1), F.normalize(query.float(), dim=-1)
    E, S, _ = support.shape
    gram = support @ support.transpose(1, 2)  # (E, S, S)
    targets = labels.reshape(-1)  # (E * S,)
    alpha = torch.zeros(E, S, num_classes, requires_grad=True)
    bias = torch.zeros(E, 1, num_classes, requires_grad=True)
    opt = torch.optim.LBFGS(
        [alpha, bias], lr=1.0, max_iter=max_iter, tolerance_grad=tol, tolerance_change=1e-9,
        history_size=20, line_search_fn="strong_wolfe",
    )

    def closure() -> torch.Tensor:
        opt.zero_grad()
        ka = gram @ alpha  # (E, S, C)
        ce = F.cross_entropy((ka + bias).reshape(E * S, num_classes), targets, reduction="sum")
        loss = ce + (alpha * ka).sum() / (2 * C)  # ||W||^2 = ||X^T A||^2 = tr(A^T K A)
        loss.backward()
        return loss

    with torch.enable_grad():
        opt.step(closure)
    with torch.no_grad():
        return query @ support.transpose(1, 2) @ alpha + bias  # (E, Q, C)


CLASSIFIERS = {
    "prototypes": prototype_logits,
    "logreg": logistic_regression_logits,
}
