"""The Lightning callback logs the Zipf fitness on held-out clips; ModelCheckpoint selects on it."""
from __future__ import annotations

import pytest
import torch

pl = pytest.importorskip("pytorch_lightning")

from evovideo.lightning import ZipfCallback  # noqa: E402
from evovideo.evolution.zipf import worst_kl  # noqa: E402
from evovideo.models import create_model  # noqa: E402


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
    ckpt = pl.callbacks.ModelCheckpoint(dirpath=tmp_path, monitor="zipf_score", mode="min", save_top_k=1)
    trainer = pl.Trainer(max_epochs=3, callbacks=[callback, ckpt], logger=False, enable_progress_bar=False,
                         enable_model_summary=False, default_root_dir=tmp_path, accelerator="cpu")
    trainer.fit(TinyPretrain(), train_dataloaders=torch.utils.data.DataLoader(batches(2, seed=0), batch_size=None))
    assert [e for e, _ in callback.history] == [0, 1, 2]
    scores = [score for _, score in callback.history]
    assert all(0.0 <= score <= worst_kl(4) for score in scores)
    assert float(ckpt.best_model_score) == pytest.approx(min(scores), rel=1e-5)
    assert {"zipf_score", "zipf_kl"} <= set(trainer.callback_metrics)


def test_callback_needs_held_out_data():
    with pytest.raises(ValueError, match="held-out"):
        ZipfCallback(fold="train")
    with pytest.raises(ValueError, match="float32, bfloat16, int8; got 'fp8'"):
        ZipfCallback(precision="fp8")


class Given(torch.nn.Module):
    """An 'encoder' whose pooled features are the clip tensor itself: (B, D) -> (B, D)."""

    def forward_features(self, x):
        return x[:, :, None, None, None]

    def forward_head(self, fmap, pre_logits=True):
        return fmap.flatten(1)


@pytest.mark.parametrize("bad", ["rank2", "collapsed", "random"])
def test_callback_monitors_the_guarded_score_not_the_raw_kl(bad):
    """The KL alone prefers rank-2 (dimensionally collapsed) features to class-structured ones
    (0.29 vs 0.40 in `evovideo bench fitness`), so a checkpoint selected on it would be the
    collapsed one; the monitored value must be the guarded score, as in the evolution."""
    from evovideo.bench.fitness import feature_sets

    sets = feature_sets(k=10, per_class=20, dim=32, seed=0)
    logged = {}
    for name in ("balanced", bad):
        feats = sets[name][0]
        loader = [{"rgb": feats[i:i + 50], "label": torch.full((50,), -1), "video_index": torch.arange(i, i + 50),
                   "video_name": [f"v{j}" for j in range(i, i + 50)]} for i in range(0, len(feats), 50)]
        callback = ZipfCallback(k=10, dataloader=loader)
        module = TinyPretrain()
        module.student = Given()
        module.log = lambda name_, value, **kw: logged.setdefault(name, {}).__setitem__(name_, value)
        trainer = type("T", (), {"current_epoch": 0, "datamodule": None})()
        callback.on_train_epoch_end(trainer, module)
    assert callback.log_name == "zipf_score"
    assert logged["balanced"]["zipf_score"] < logged[bad]["zipf_score"]
    assert "zipf_kl" in logged["balanced"]  # the paper's quantity, still logged for reference
