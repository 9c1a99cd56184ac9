"""Mean ± 95% CI and mean ± std: known values, and the interval covers the truth ~95% of the time."""
from __future__ import annotations

import math

import pytest
import torch

from evovideo.eval.stats import mean_ci95, mean_std


def test_known_values():
    r = mean_ci95([1.0, 2.0, 3.0, 4.0, 5.0])
    assert r.mean == 3.0 and r.n == 5
    assert r.ci95 == pytest.approx(1.959964 * math.sqrt(2.5) / math.sqrt(5), rel=1e-6)  # 1.38590
    assert r.low == pytest.approx(3 - 1.385903, abs=1e-5) and r.high == pytest.approx(3 + 1.385903, abs=1e-5)
    assert str(r) == "3.00 ± 1.39"
    assert mean_ci95([42.0]).ci95 == 0.0
    assert mean_ci95([50.0] * 1000).ci95 == 0.0
    assert mean_std([60.0, 62.0, 64.0]) == (62.0, 2.0)
    with pytest.raises(ValueError):
        mean_ci95([])


def test_interval_covers_true_mean_about_95_percent():
    gen = torch.Generator().manual_seed(0)
    trials, n, covered = 2000, 100, 0
    for _ in range(trials):
        r = mean_ci95((torch.rand(n, generator=gen) * 100).tolist())  # true mean 50
        covered += r.low <= 50.0 <= r.high
    assert 0.93 <= covered / trials <= 0.97
