"""A tiny evolve setup shared by the evolve tests: a two-term pretrain recipe on a few synthetic clips."""
from __future__ import annotations

import pytorch_lightning as pl
import yaml

from evovideo.cli import main

TINY_DATA = {"num_classes": 4, "video_frames": 16, "video_size": 32, "modalities": ["rgb"], "num_frames": 4,
             "stride": 2, "size": 16, "resize": 20, "batch_size": 4}
PRETRAIN = {
    "seed_everything": 0,
    "model": {"class_path": "evovideo.lightning.PretrainModule",
              "init_args": {"student": "test_r2plus1d", "tasks": {"rgb/reconstruction": 0.5, "rgb/arrow_of_time": 0.5}}},
    "data": {"class_path": "evovideo.lightning.SyntheticDataModule",
             "init_args": {"num_videos_per_class": 2, **TINY_DATA}},
    "trainer": {"accelerator": "cpu", "devices": 1, "max_steps": 100, "limit_val_batches": 0, "logger": False,
                "enable_checkpointing": False},
}
FITNESS_DATA = {"class_path": "evovideo.lightning.SyntheticDataModule",
                "init_args": {"num_videos_per_class": 4, **TINY_DATA}}


def evolve(tmp_path, monkeypatch, *, pretrain=None, fitness_data=None, overrides=None, args=(), **changes):
    """Run `evovideo evolve` in tmp_path on a tiny recipe (``changes``: recipe fields); returns the exit code."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pretrain.yaml").write_text(yaml.safe_dump(pretrain or PRETRAIN))
    recipe = {"pretrain": "pretrain.yaml", "population": 2, "tournament": 2, "generations": 1, "budget": 1,
              "fitness": {"name": "zipf", "args": {"k": 3}, "data": fitness_data or FITNESS_DATA},
              "candidate_overrides": overrides or {}, "out": str(tmp_path / "out"), **changes}
    (tmp_path / "evolve.yaml").write_text(yaml.safe_dump(recipe))
    return main(["evolve", "-c", "evolve.yaml", "--no-plots", *args])


class NoModalities(pl.LightningDataModule):
    """A fitness data module that takes no ``modalities`` (the agreement fitness cannot read flow from it)."""

    def __init__(self, num_videos: int = 4) -> None:
        super().__init__()
        self.num_videos = num_videos
