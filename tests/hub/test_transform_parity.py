"""transforms_for(encoder) gives the clip the evaluation dataset gives, for the same video file.

Tolerance: atol 1e-6 on normalised values.  Both paths decode the same frames (TorchCodec for
the dataset, PyAV's full decode for ``transforms_for``: the same FFmpeg colour conversion on
these H.264 files), pick the same frames with the same sampler and crop and resize them with
the same torch ops, so the uint8 crops are identical; 1e-6 only allows float rounding in the
normalisation.  With the PyAV *reader* the dataset resizes inside swscale while converting
(bilinear), a different resampler: there the clips differ by up to ~0.4 (normalised), so this
test pins the default decoder (TorchCodec).
"""
from __future__ import annotations

import os

import pytest
import torch

import evovideo
from evovideo.data import DecodedVideo, decode_video, torchcodec_status
from evovideo.data.encode import write_video
from evovideo.eval.videos import labelled_videos

TORCHCODEC, WHY = torchcodec_status()
pytestmark = pytest.mark.skipif(not TORCHCODEC, reason=f"TorchCodec cannot decode on this machine: {WHY}")


def _textured_video(t: int = 48, h: int = 60, w: int = 80) -> DecodedVideo:
    g = torch.Generator().manual_seed(0)
    base = torch.randint(0, 256, (1, 3, h // 4, w // 4), generator=g).float()
    img = torch.nn.functional.interpolate(base, size=(h, w), mode="bilinear").permute(0, 2, 3, 1)
    frames = (img + 3 * torch.arange(t)[:, None, None, None]).clamp(0, 255).to(torch.uint8)
    return DecodedVideo(frames, 25.0)


def _parity(path, tmp_path, encoder) -> float:
    root = tmp_path / "videos"
    (root / "c").mkdir(parents=True)
    os.symlink(path, root / "c" / path.name)
    dataset = labelled_videos("class-folders", encoder, root=root, backend="torchcodec").dataset
    from_dataset = dataset[0]["rgb"]
    from_transform = evovideo.transforms_for(encoder)(decode_video(path, audio=False))
    assert from_transform.shape == from_dataset.shape == (3, 8, 32, 32)
    return float((from_dataset - from_transform).abs().max())


def test_written_video_transform_equals_evaluation_clip(tmp_path) -> None:
    path = write_video(tmp_path / "clip.mp4", _textured_video())
    encoder = evovideo.create_model("test_r2plus1d.elo_synthetic", pretrained=True)  # 16 fps, resize 36
    assert _parity(path, tmp_path, encoder) <= 1e-6


def test_real_clip_transform_equals_evaluation_clip(realclips, tmp_path) -> None:
    encoder = evovideo.create_model("test_r2plus1d")
    assert _parity(realclips / "kinetics_armwrestling_h264.mp4", tmp_path, encoder) <= 1e-6
