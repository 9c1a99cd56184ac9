"""Select checkpoints without labels: log the Zipf fitness of the student during pretraining.

At the end of every ``every_n_epochs`` training epoch the callback extracts the student's pooled
features on a held-out unlabeled set, computes the Zipf fitness the evolution uses
(``evovideo.evolution.zipf.ZipfFitness``: the KL with the structure guard) and logs it as
``zipf_score`` (lower is better), so ``ModelCheckpoint`` can keep the best::

    trainer:
      callbacks:
        - class_path: evovideo.lightning.ZipfCallback
          init_args: {k: 10, s: 1.0}
        - class_path: pytorch_lightning.callbacks.ModelCheckpoint
          init_args: {monitor: zipf_score, mode: min, save_top_k: 1}

The held-out set is ``dataloader`` when given, else the data module's ``val_dataloader()``
(``fold="val"``; never the training clips).  The KL alone (``zipf_kl``, the paper's quantity) is
logged too, for reference only: it prefers dimensionally collapsed (rank-2) and random features to
class-structured ones (``evovideo bench fitness``), so never monitor it.
"""
from __future__ import annotations

import logging
from typing import Any, Iterable

import pytorch_lightning as pl

from evovideo.evolution.zipf import ZipfFitness

log = logging.getLogger(__name__)


class ZipfCallback(pl.Callback):
    """Log the guarded Zipf fitness of the student (``zipf_score``) and its raw KL (``zipf_kl``).

    Args:
        k, s, iters, temperature, precision, guard, restarts: the fitness (see
            ``evovideo.evolution.zipf.ZipfFitness``); k must not exceed the number of held-out videos.
        every_n_epochs: how often (training epochs).
        encoder_attr: the attribute of the LightningModule that holds the encoder (``student``).
        modality: the batch key the encoder reads.
        fold: which data module loader to use when ``dataloader`` is None (``val`` or ``test``).
        dataloader: an explicit held-out loader of batches (the data contract's dicts).
        log_name: the logged name of the guarded score (monitor it in ModelCheckpoint).
    """

    def __init__(
        self,
        k: int = 100,
        s: float = 1.0,
        iters: int = 20,
        temperature: float | None = None,
        precision: str = "auto",
        guard: bool = True,
        restarts: int = 1,
        every_n_epochs: int = 1,
        encoder_attr: str = "student",
        modality: str = "rgb",
        fold: str = "val",
        dataloader: Iterable[dict] | None = None,
        log_name: str = "zipf_score",
    ) -> None:
        super().__init__()
        if every_n_epochs < 1:
            raise ValueError(f"every_n_epochs must be >= 1, got {every_n_epochs}")
        if fold not in ("val", "test"):
            raise ValueError(f"fold must be 'val' or 'test' (held-out clips), got '{fold}'")
        self.fitness = ZipfFitness(k=k, s=s, iters=iters, temperature=temperature, precision=precision, guard=guard,
                                   restarts=restarts)
        self.every_n_epochs, self.encoder_attr, self.modality = every_n_epochs, encoder_attr, modality
        self.fold, self.dataloader, self.log_name = fold, dataloader, log_name
        self.history: list[tuple[int, float]] = []  # (epoch, score)

    def _loader(self, trainer: pl.Trainer) -> Iterable[dict]:
        if self.dataloader is not None:
            return self.dataloader
        dm = trainer.datamodule
        if dm is None:
            raise ValueError("ZipfCallback needs a held-out set: pass dataloader= or train with a data module")
        return getattr(dm, f"{self.fold}_dataloader")()

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if (trainer.current_epoch + 1) % self.every_n_epochs:
            return
        from evovideo.eval.features import extract_features

        encoder = getattr(pl_module, self.encoder_attr, None)
        if encoder is None:
            raise AttributeError(f"{type(pl_module).__name__} has no '{self.encoder_attr}'; set encoder_attr=")
        fs = extract_features(encoder, self._loader(trainer), modality=self.modality, device=pl_module.device,
                              progress=False, desc="zipf fitness")
        result = self.fitness(fs.features)
        kl = result.metrics["zipf_kl"]
        self.history.append((trainer.current_epoch, result.score))
        pl_module.log(self.log_name, result.score, on_step=False, on_epoch=True, prog_bar=True)
        pl_module.log("zipf_kl", kl, on_step=False, on_epoch=True)
        log.info("epoch %d: %s = %.4f (KL %.4f, structure %.2f) on %d held-out videos", trainer.current_epoch,
                 self.log_name, result.score, kl, result.metrics["structure"], len(fs))
