"""One warm-up + cosine learning-rate schedule for pretraining, fine-tuning and the task bench."""
from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from evovideo.lightning import FinetuneModule, PretrainModule


def _factor(module, total: int, epochs: int = 1):
    module._trainer = SimpleNamespace(estimated_stepping_batches=total, max_epochs=epochs)
    return module.configure_optimizers()["lr_scheduler"]["scheduler"].lr_lambdas[0]


def _expected(step: int, warmup: int, total: int) -> float:  # the schedule as both modules wrote it before
    if step < warmup:
        return (step + 1) / warmup
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, (step - warmup) / max(1, total - warmup))))


@pytest.mark.parametrize("warmup", [0, 5])
def test_both_modules_follow_one_warmup_cosine(warmup: int) -> None:
    from evovideo.lightning.schedule import warmup_cosine

    pre = _factor(PretrainModule(student="test_r2plus1d", tasks={"rgb/reconstruction": 1.0}, warmup_steps=warmup), 40)
    fine = _factor(FinetuneModule(encoder="test_r2plus1d", num_classes=3, warmup_epochs=warmup / 10), 40, epochs=4)
    for step in range(0, 45):
        want = _expected(step, warmup, 40)
        assert pre(step) == pytest.approx(want, abs=1e-12) and fine(step) == pytest.approx(want, abs=1e-12), step
        assert warmup_cosine(step, warmup, 40) == pytest.approx(want, abs=1e-12)
