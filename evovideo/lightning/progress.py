"""A progress line for runs without a progress bar (evolution candidates): a few INFO lines."""
from __future__ import annotations

import logging
import time

import pytorch_lightning as pl

log = logging.getLogger(__name__)


class ProgressLog(pl.Callback):
    """Logs ``<label>: step s/N  loss L  (t s)`` about ``lines`` times per run, and at the end."""

    def __init__(self, label: str, lines: int = 5) -> None:
        self.label, self.lines = label, lines
        self._start = 0.0

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._start = time.perf_counter()
        log.info("%s: training %s steps", self.label, trainer.max_steps if trainer.max_steps > 0 else "?")

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        total, step = trainer.max_steps, trainer.global_step
        every = max(1, total // self.lines) if total > 0 else 50
        if step % every == 0 or step == total:
            loss = trainer.callback_metrics.get("train/loss")
            log.info("%s: step %d/%s  loss %s  (%.0f s)", self.label, step, total if total > 0 else "?",
                     f"{float(loss):.3f}" if loss is not None else "-", time.perf_counter() - self._start)
