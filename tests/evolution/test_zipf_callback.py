"""The Lightning callback logs the Zipf fitness on held-out clips; ModelCheckpoint selects on it."""
from __future__ import annotations

import pytest
import torch

pl = pytest.importorskip("pytorch_lightning")

from evovideo.lightning import ZipfCallback  # noqa: E402
from evovideo.factory import create_model  # noqa: E402


class TinyPretrain(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.student = create_model("test_r2plus1d")

    def training_step(self, batch, batch_idx):
        return self.student(batch["rgb"]).pow(2).mean()  # any self-supervised loss will do here

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.5)


def batches(n_batches: int, seed: int) -> list[dict]:
    g = torch.Generator().manual_seed(seed)
    out = []
    for b in range(n_batches):
        idx = torch.arange(b * 8, b * 8 + 8)
        out.append({"rgb": torch.randn(8, 3, 4, 16, 16, generator=g), "label": torch.full((8,), -1),
                    "video_index": idx, "video_name": [f"v{i}" for i in idx.tolist()]})
    return out


def test_callback_logs_zipf_and_selects_checkpoint(tmp_path):
    callback = ZipfCallback(k=4, dataloader=batches(3, seed=1), precision="int8")
    ckpt = pl.callbacks.ModelCheckpoint(dirpath=tmp_path, monitor="zipf_kl", mode="min", save_top_k=1)
    trainer = pl.Trainer(max_epochs=3, callbacks=[callback, ckpt], logger=False, enable_progress_bar=False,
                         enable_model_summary=False, default_root_dir=tmp_path, accelerator="cpu")
    trainer.fit(TinyPretrain(), train_dataloaders=torch.utils.data.DataLoader(batches(2, seed=0), batch_size=None))
    assert [e for e, _ in callback.history] == [0, 1, 2]
    kls = [kl for _, kl in callback.history]
    assert all(0.0 <= kl <= 1.0 for kl in kls)
    assert float(ckpt.best_model_score) == pytest.approx(min(kls), rel=1e-5)
    assert "zipf_kl" in trainer.callback_metrics


def test_callback_needs_held_out_data():
    with pytest.raises(ValueError, match="held-out"):
        ZipfCallback(fold="train")
    with pytest.raises(ValueError, match="float32, bfloat16, int8; got 'fp8'"):
        ZipfCallback(precision="fp8")
