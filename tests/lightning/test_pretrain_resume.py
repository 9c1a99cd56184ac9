"""Resume: a run killed mid-epoch and resumed from its last checkpoint ends with exactly the
weights of an uninterrupted run (CPU, deterministic), on the laptop recipe's model and its real
``SyntheticDataModule`` (tiny: 10 train videos, batch 2 -> 5 batches per epoch).

Every random draw of the data (order, clip start, crop, audio-shift sign) is seeded by
(seed, epoch, index) and the train loader's position is saved in the checkpoint, so the resumed
run sees the batches the uninterrupted one saw, from the kill point on, also in the next epoch
and with worker processes.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch

from evovideo.lightning.cli import build_cli
from evovideo.lightning.pretrain import load_recipe

RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "pretrain" / "all_modalities_synthetic.yaml"
STEPS, BATCHES_PER_EPOCH = 7, 5


class Killed(RuntimeError):
    pass


class KillAt(pl.Callback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_start(self, trainer, *_):
        if trainer.global_step == self.step:
            raise Killed(f"killed at step {self.step}")


class SeenBatches(pl.Callback):
    """Records which videos each step trained on (to check the resumed run's data, not only weights)."""

    def __init__(self) -> None:
        self.videos: dict[int, list[int]] = {}

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self.videos[trainer.global_step] = batch["video_index"].tolist()


def _recipe(num_workers: int) -> dict:
    cfg = load_recipe(RECIPE)
    cfg["data"]["init_args"].update(num_videos_per_class=2, batch_size=2, num_workers=num_workers)
    return cfg


def _fit(cfg, root: Path, callbacks=(), ckpt_path=None):
    c = dict(cfg)
    c["trainer"] = {**cfg["trainer"], "max_steps": STEPS, "default_root_dir": str(root), "logger": False,
                    "enable_progress_bar": False, "enable_model_summary": False,
                    "callbacks": [{"class_path": "pytorch_lightning.callbacks.ModelCheckpoint",
                                   "init_args": {"dirpath": str(root / "ckpt"), "every_n_train_steps": 1,
                                                 "save_last": True}}]}
    cli = build_cli(c)  # the recipe's own data module: no test-only loader
    cli.trainer.callbacks.extend(callbacks)
    assert len(cli.datamodule.dataset("train")) // 2 == BATCHES_PER_EPOCH
    cli.trainer.fit(cli.model, datamodule=cli.datamodule, ckpt_path=ckpt_path)
    return cli.model


@pytest.mark.slow
@pytest.mark.parametrize(("kill_at", "num_workers"), [(3, 0), (6, 2)])  # epoch 0 / epoch 1, mid-epoch
def test_killed_mid_epoch_and_resumed_equals_uninterrupted(tmp_path, kill_at, num_workers):
    cfg = _recipe(num_workers)
    seen_straight, seen_resumed = SeenBatches(), SeenBatches()
    straight = _fit(cfg, tmp_path / "straight", callbacks=[seen_straight])
    with pytest.raises(Killed):
        _fit(cfg, tmp_path / "killed", callbacks=[KillAt(kill_at)])
    last = tmp_path / "killed" / "ckpt" / "last.ckpt"
    ckpt = torch.load(last, weights_only=False)
    assert ckpt["global_step"] == kill_at
    assert ckpt["loops"]["fit_loop"]["state_dict"]["combined_loader"] == [
        {"epoch": kill_at // BATCHES_PER_EPOCH, "batches": kill_at % BATCHES_PER_EPOCH}]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        resumed = _fit(cfg, tmp_path / "killed", callbacks=[seen_resumed], ckpt_path=str(last))
    assert not [w for w in caught if "not resumable" in str(w.message)]
    assert resumed.global_step == straight.global_step == STEPS
    assert seen_resumed.videos == {s: v for s, v in seen_straight.videos.items() if s >= kill_at}
    a, b = straight.state_dict(), resumed.state_dict()
    assert a.keys() == b.keys()
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert different == []
