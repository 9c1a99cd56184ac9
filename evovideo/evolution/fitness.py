"""Fitness functions: the registry and the one interface every fitness follows.

A fitness scores an encoder from the features it gives on a held-out set::

    fit = FITNESS.create("zipf", k=100, s=1.0)
    result = fit(features)                  # features: (N, D); labels only if fit.requires_labels
    result.score                            # LOWER IS BETTER, for every fitness
    result.metrics                          # what the score came from (KL, masses, accuracy, ...)

Orientation is fixed once for all: the search minimises ``score``.  A fitness whose natural
quantity is "higher is better" (kNN accuracy) reports its complement (error = 1 - accuracy) as
``score`` and the natural quantity in ``metrics``.  Register your own with
``@FITNESS.register("name")`` on a class with ``requires_labels`` and ``__call__``.

A fitness that compares the features with a fixed descriptor of the same clips' other modality
(``agreement``) names it in a ``reference`` attribute; the evaluator then passes ``reference=``
(N, R), computed once from the fitness data (:func:`evovideo.evolution.agreement.reference_features`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import torch

from evovideo.registry import Registry


@dataclass
class FitnessResult:
    score: float  # lower is better
    metrics: dict[str, Any] = field(default_factory=dict)  # JSON-serialisable details


class Fitness(Protocol):
    requires_labels: bool

    def __call__(self, features: torch.Tensor, labels: torch.Tensor | None = None) -> FitnessResult: ...


FITNESS: Registry = Registry("fitness")
