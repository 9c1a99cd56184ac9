"""Supervised evaluation of a student: full fine-tuning or a frozen linear probe, with the
standard multi-view video-level test.

    model = FinetuneModule(encoder="hf-hub:ORG/NAME", num_classes=101)            # fine-tune
    model = FinetuneModule(encoder="local-dir:runs/demo/student", num_classes=51, freeze=True)  # linear

From a recipe: ``evovideo fit -c recipes/finetune/ucf101.yaml --data.root ... --model.encoder ...``.

Batches follow the data contract (``rgb`` (B, 3, T, H, W), ``label``, ``video_index``).  At test
time a batch may hold one view per row (rows of one video share ``video_index``, possibly across
batches) or all views of each video, ``rgb`` (B, V, 3, T, H, W); either way the softmax scores of
a video's views are averaged before its top-1 is counted (``test/acc_video``); ``test/acc_clip``
is the single-view accuracy.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pytorch_lightning as pl
import torch
import torch.nn.functional as F

from evovideo.clip import BatchKeys
from evovideo.factory import load_encoder
from evovideo.lightning.schedule import warmup_cosine_scheduler
from evovideo.eval.multiview import VideoAggregator

log = logging.getLogger(__name__)

OPTIMIZERS = ("sgd", "adamw")


class FinetuneModule(pl.LightningModule):
    """A classifier on a student encoder.

    Args:
        encoder: registry name (random init), ``hf-hub:ORG/NAME``, ``local-dir:/path`` or ``arch.tag``.
        num_classes: classes of the downstream dataset; None (default): the data's own class
            count (its class list), read before fit.  A number that contradicts the data is refused.
        freeze: linear probe: the encoder is frozen and kept in eval mode on purpose (its BatchNorm
            statistics do not move, as in the linear-evaluation protocol); only the head and its
            dropout train.  Without ``freeze`` the whole encoder trains in train mode (BatchNorm
            statistics update, dropout active), even though every loader returns it in eval mode.
        lr, weight_decay, momentum, optimizer: ``sgd`` (momentum) or ``adamw``; the lr follows a
            linear warmup over ``warmup_epochs`` then a cosine decay to 0 over the whole run.
        drop_rate: dropout before the head.  label_smoothing: of the cross-entropy.
        modality: batch key to feed the encoder (``rgb`` for the student).
        revision: Hub revision for ``hf-hub:`` encoders.
    """

    def __init__(
        self,
        encoder: str = "r2plus1d_18",
        num_classes: int | None = None,
        freeze: bool = False,
        lr: float = 0.01,
        weight_decay: float = 1e-4,
        momentum: float = 0.9,
        optimizer: str = "sgd",
        warmup_epochs: float = 0.0,
        drop_rate: float = 0.5,
        label_smoothing: float = 0.0,
        modality: str = "rgb",
        revision: str | None = None,
    ) -> None:
        super().__init__()
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer '{optimizer}'; choose from {', '.join(OPTIMIZERS)}")
        if num_classes is not None and num_classes < 2:
            raise ValueError(f"num_classes must be >= 2 (or None: the data's class count), got {num_classes}")
        self.save_hyperparameters()
        self.encoder = load_encoder(encoder, revision=revision, num_classes=num_classes or 0)
        self.encoder.head_drop.p = drop_rate
        self._freeze()
        self._val = VideoAggregator()
        self._test = VideoAggregator()
        self.train()  # loaders return the encoder in eval mode; fine-tuning trains it (see train())

    def _freeze(self) -> None:
        if self.hparams.freeze:
            for name, p in self.encoder.named_parameters():
                p.requires_grad = name.startswith("head.")

    def check_data(self, datamodule) -> None:
        """Before fit/test (called by ``evovideo fit|test``): the data must produce the modality the
        model reads, sample clips as the encoder's weights expect (the data takes them from
        ``encoder.input_config``, or a contradicting recipe is refused), and have as many classes as
        the head (``num_classes=None`` takes the data's count)."""
        from evovideo.tasks import RecipeError

        modalities = getattr(datamodule, "modalities", None)
        if modalities is not None and self.hparams.modality not in modalities:
            raise RecipeError(f"model.modality '{self.hparams.modality}' is not produced by the data "
                             f"(data.modalities: {modalities}); add it to data.modalities")
        cfg = self.encoder.input_config
        if hasattr(datamodule, "use_clip_config") and cfg.modality == self.hparams.modality:
            datamodule.use_clip_config(cfg)
        count = datamodule.class_count() if hasattr(datamodule, "class_count") else None
        if count is None:
            if self.hparams.num_classes is None:
                raise RecipeError("model.num_classes is not set and the data has no class list; set model.num_classes")
            return
        if self.hparams.num_classes is None:
            self.hparams.num_classes = count
            self.encoder.reset_classifier(count)
            self._freeze()
        elif self.hparams.num_classes != count:
            raise RecipeError(f"model.num_classes={self.hparams.num_classes} but the data has {count} classes; "
                             f"remove model.num_classes to take the data's count, or set it to {count}")

    # -- forward --------------------------------------------------------------------------
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (B, C, T, H, W) -> (B, num_classes)
        return self.encoder(x)

    def setup(self, stage: str) -> None:
        dm = getattr(self.trainer, "datamodule", None)
        if dm is not None:  # also when fit/test is called from Python, not through `evovideo fit`
            self.check_data(dm)

    def on_train_start(self) -> None:
        self.train()  # Lightning keeps each module's mode: assert train mode whatever the caller set

    def train(self, mode: bool = True) -> "FinetuneModule":
        super().train(mode)
        if self.hparams.freeze:  # a linear probe never updates BatchNorm statistics
            self.encoder.eval()
            self.encoder.head_drop.train(mode)
        return self

    @staticmethod
    def _views(batch: dict, key: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Flatten stacked views: (B, V, C, T, H, W) -> (B*V, C, T, H, W), labels and video ids per row."""
        x, y = batch[key], batch["label"]
        vid = batch.get(BatchKeys.VIDEO_INDEX, torch.arange(len(y), device=y.device))
        if x.ndim == 6:
            v = x.shape[1]
            x = x.flatten(0, 1)
            y, vid = y.repeat_interleave(v), vid.repeat_interleave(v)
        return x, y, vid

    # -- steps ----------------------------------------------------------------------------
    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        x, y, _ = self._views(batch, self.hparams.modality)
        if batch_idx == 0 and int(y.max()) >= self.hparams.num_classes:
            raise ValueError(f"label {int(y.max())} >= model.num_classes={self.hparams.num_classes}; "
                             "set --model.num_classes to the number of classes of the data")
        logits = self(x)
        loss = F.cross_entropy(logits, y, label_smoothing=self.hparams.label_smoothing)
        acc = (logits.argmax(-1) == y).float().mean()
        self.log("train/loss", loss, prog_bar=True, batch_size=len(y))
        self.log("train/acc", 100 * acc, prog_bar=True, batch_size=len(y))
        return loss

    def _eval_step(self, batch: dict, agg: VideoAggregator, stage: str) -> None:
        x, y, vid = self._views(batch, self.hparams.modality)
        logits = self(x)
        self.log(f"{stage}/loss", F.cross_entropy(logits, y), batch_size=len(y), sync_dist=True)
        self.log(f"{stage}/acc_clip", 100 * (logits.argmax(-1) == y).float().mean(), batch_size=len(y),
                 sync_dist=True, prog_bar=stage == "val")
        agg.update(vid, logits, y)

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        self._eval_step(batch, self._val, "val")

    def test_step(self, batch: dict, batch_idx: int) -> None:
        self._eval_step(batch, self._test, "test")

    def on_validation_epoch_start(self) -> None:
        self._val.reset()

    def on_test_epoch_start(self) -> None:
        self._test.reset()

    def on_validation_epoch_end(self) -> None:
        if self._val._index:
            self.log("val/acc_video", self._video_accuracy(self._val), prog_bar=True)

    def on_test_epoch_end(self) -> None:
        acc = self._video_accuracy(self._test)
        self.log("test/acc_video", acc)
        ids, _, _ = self._test.compute()
        log.info("test: video-level accuracy %.2f%% over %d videos", acc, len(ids))
        log_dir = getattr(self.trainer, "log_dir", None)
        if log_dir and self.trainer.is_global_zero:
            metrics = {k: float(v) for k, v in self.trainer.callback_metrics.items() if k.startswith("test/")}
            metrics["test/num_videos"] = int(len(ids))
            Path(log_dir).mkdir(parents=True, exist_ok=True)
            (Path(log_dir) / "test_metrics.json").write_text(json.dumps(metrics, indent=2))

    def _video_accuracy(self, agg: VideoAggregator) -> float:
        """Video-level top-1 (%) over all processes' views (views of a video may sit on several ranks)."""
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            parts: list = [None] * torch.distributed.get_world_size()
            torch.distributed.all_gather_object(parts, (agg._index, agg._scores, agg._labels))
            merged = VideoAggregator()
            for index, scores, labels in parts:
                merged._index += index
                merged._scores += scores
                merged._labels += labels
            agg = merged
        return agg.accuracy()

    # -- optimisation ---------------------------------------------------------------------
    def configure_optimizers(self):
        params = [p for p in self.parameters() if p.requires_grad]
        decay = [p for p in params if p.ndim > 1]
        no_decay = [p for p in params if p.ndim <= 1]  # biases and norms
        groups = [{"params": decay, "weight_decay": self.hparams.weight_decay},
                  {"params": no_decay, "weight_decay": 0.0}]
        if self.hparams.optimizer == "sgd":
            opt = torch.optim.SGD(groups, lr=self.hparams.lr, momentum=self.hparams.momentum, nesterov=True)
        else:
            opt = torch.optim.AdamW(groups, lr=self.hparams.lr)
        total = max(1, int(self.trainer.estimated_stepping_batches))
        epochs = max(1, self.trainer.max_epochs or 1)
        warmup = int(total * self.hparams.warmup_epochs / epochs)
        sched = warmup_cosine_scheduler(opt, warmup, total)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
