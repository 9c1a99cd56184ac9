"""The learning-rate schedule of pretraining and fine-tuning: linear warm-up, then cosine decay to 0."""
from __future__ import annotations

import functools
import math

import torch


def warmup_cosine(step: int, warmup: int, total: int) -> float:
    """The lr factor at ``step``: ``(step + 1) / warmup`` for the first ``warmup`` steps, then a cosine
    from 1 down to 0 at ``total`` (and 0 after it)."""
    if step < warmup:
        return (step + 1) / warmup
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, (step - warmup) / max(1, total - warmup))))


def warmup_cosine_scheduler(optimizer: torch.optim.Optimizer, warmup: int, total: int) -> torch.optim.lr_scheduler.LambdaLR:
    """A per-step ``LambdaLR`` following :func:`warmup_cosine`."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, functools.partial(warmup_cosine, warmup=warmup, total=total))
