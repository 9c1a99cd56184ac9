"""Fine-tuning protocol: train mode from loaded weights, validation carved from the training list."""
from __future__ import annotations

import pytest
import pytorch_lightning as pl
import torch

from evovideo.lightning import SyntheticDataModule
from evovideo.lightning.finetune import FinetuneModule


@pytest.fixture()
def saved_student(tmp_path):
    from evovideo.hub.io import save_pretrained
    from evovideo.factory import create_model

    torch.manual_seed(0)
    return f"local-dir:{save_pretrained(create_model('test_r2plus1d'), tmp_path / 'student')}"


def _bn_means(model: FinetuneModule) -> list[torch.Tensor]:
    return [m.running_mean.clone() for m in model.encoder.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]


class _ModeProbe(pl.Callback):
    """Records whether the encoder and its dropout were in train mode during a training batch."""

    def __init__(self) -> None:
        self.seen: list[tuple[bool, bool]] = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.seen.append((pl_module.encoder.training, pl_module.encoder.head_drop.training))


def _fit(model: FinetuneModule, probe: _ModeProbe) -> None:
    dm = SyntheticDataModule(num_videos_per_class=4, num_classes=3, video_frames=16, video_size=32,
                             num_frames=8, size=32, batch_size=4)
    trainer = pl.Trainer(max_steps=2, accelerator="cpu", logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, limit_val_batches=0,
                         callbacks=[probe])
    trainer.fit(model, datamodule=dm)


def test_finetune_from_loaded_weights_trains_in_train_mode(saved_student):
    model = FinetuneModule(encoder=saved_student, num_classes=3, drop_rate=0.5)
    before = _bn_means(model)
    probe = _ModeProbe()
    _fit(model, probe)
    assert probe.seen and all(enc and drop for enc, drop in probe.seen), probe.seen
    after = _bn_means(model)
    assert len(before) > 0
    assert all(not torch.equal(a, b) for a, b in zip(before, after)), "BatchNorm running_mean did not move"


def test_linear_probe_keeps_backbone_statistics(saved_student):
    model = FinetuneModule(encoder=saved_student, num_classes=3, freeze=True, drop_rate=0.5)
    before = _bn_means(model)
    probe = _ModeProbe()
    _fit(model, probe)
    assert probe.seen and all(not enc and drop for enc, drop in probe.seen), probe.seen
    assert all(torch.equal(a, b) for a, b in zip(before, _bn_means(model)))
