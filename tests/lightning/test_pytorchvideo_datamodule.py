"""A pytorchvideo pipeline's videos through evovideo's clip path (PytorchvideoDataModule)."""
from __future__ import annotations

import pytest
import torch

from evovideo.clip import ClipSpec
from evovideo.data import DecodedVideo
from evovideo.data.encode import write_video
from evovideo.lightning import PytorchvideoDataModule
from evovideo.lightning.pytorchvideo_datamodule import records_from_pytorchvideo


def _videos(tmp_path) -> list[tuple[str, dict]]:
    pairs = []
    for i in range(4):
        frames = torch.full((24, 32, 40, 3), 40 * i, dtype=torch.uint8)
        pairs.append((str(write_video(tmp_path / f"v{i}.mp4", DecodedVideo(frames, 8.0))), {"label": i % 2}))
    return pairs


def test_labeled_video_dataset_feeds_the_evovideo_loader(tmp_path) -> None:
    from pytorchvideo.data import LabeledVideoDataset, make_clip_sampler

    pairs = _videos(tmp_path)
    theirs = LabeledVideoDataset(pairs, make_clip_sampler("random", 1.0), decode_audio=False)
    spec = ClipSpec(num_frames=4, stride=2, frame_rate=8.0, size=16, resize=20)
    dm = PytorchvideoDataModule(train=theirs, val=pairs[:2], clip=spec, batch_size=2, backend="pyav")
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    assert batch["rgb"].shape == (2, 3, 4, 16, 16) and dm.class_count() == 2
    val = next(iter(dm.val_dataloader()))
    assert val["label"].tolist() == [0, 1]
    assert [r.label for r in records_from_pytorchvideo(theirs)] == [0, 1, 0, 1]


def test_bad_sources_are_named() -> None:
    with pytest.raises(ValueError, match="needs train, val or test videos"):
        PytorchvideoDataModule()
    with pytest.raises(TypeError, match=r"expected \(path, \{'label': y\}\) pairs"):
        records_from_pytorchvideo(["a.mp4"])
