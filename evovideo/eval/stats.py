"""Summaries of repeated measurements: mean with a 95% confidence interval, mean and std."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

Z95 = 1.959963984540054  # two-sided 95% quantile of the standard normal


@dataclass(frozen=True)
class MeanCI:
    """``mean ± ci95`` over ``n`` values (``ci95`` is the half-width)."""

    mean: float
    ci95: float
    n: int

    @property
    def low(self) -> float:
        return self.mean - self.ci95

    @property
    def high(self) -> float:
        return self.mean + self.ci95

    def __str__(self) -> str:
        return f"{self.mean:.2f} ± {self.ci95:.2f}"


def mean_ci95(values: Sequence[float]) -> MeanCI:
    """Mean and the half-width of its 95% confidence interval, ``1.96 * s / sqrt(n)``.

    ``s`` is the sample standard deviation (n - 1).  This normal approximation is the convention
    of few-shot papers (600-1000 episodes); with n = 1 the interval is reported as 0.
    """
    n = len(values)
    if n == 0:
        raise ValueError("mean_ci95 needs at least one value")
    mean = math.fsum(values) / n
    if n == 1:
        return MeanCI(mean, 0.0, 1)
    var = math.fsum((v - mean) ** 2 for v in values) / (n - 1)
    return MeanCI(mean, Z95 * math.sqrt(var / n), n)


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (n - 1; 0 for one value), e.g. over dataset folds."""
    n = len(values)
    if n == 0:
        raise ValueError("mean_std needs at least one value")
    mean = math.fsum(values) / n
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return mean, std
