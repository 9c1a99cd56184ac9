"""Log how often the train clips' flow came from the flow cache (``evovideo.modalities.FlowCache``)."""
from __future__ import annotations

import logging

import pytorch_lightning as pl

from evovideo.lightning.datamodules import VideoDataModule

log = logging.getLogger(__name__)


class FlowCacheCallback(pl.Callback):
    """Log ``data/flow_cache_hits`` / ``data/flow_cache_misses`` (train clips, all loader workers,
    this rank) every epoch, and both in one line when training ends.  After ``evovideo flow
    precompute`` with the run's settings, misses stay 0."""

    @staticmethod
    def _cache(trainer: pl.Trainer):
        dm = trainer.datamodule
        ds = dm.datasets.get("train") if isinstance(dm, VideoDataModule) else None
        return ds.builder.flow_cache if ds is not None else None

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        cache = self._cache(trainer)
        if cache is not None:
            pl_module.log("data/flow_cache_hits", float(cache.hits))
            pl_module.log("data/flow_cache_misses", float(cache.misses))

    def on_train_end(self, trainer, pl_module) -> None:
        cache = self._cache(trainer)
        if cache is not None:
            log.info("flow cache %s: %d hits, %d misses (train clips, rank %d)", cache.root, cache.hits, cache.misses,
                     trainer.global_rank)
