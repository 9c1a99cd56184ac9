"""transforms_for(model): the preprocessing a model's InputConfig describes."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

import evovideo


def _frames(t: int = 40, h: int = 48, w: int = 64) -> np.ndarray:
    # frame i is filled with value i, so the output tells which frames were taken
    return np.broadcast_to(np.arange(t, dtype=np.uint8)[:, None, None, None], (t, h, w, 3)).copy()


def test_eval_transform_takes_centred_strided_frames_and_normalises() -> None:
    model = evovideo.create_model("test_r2plus1d")
    cfg = model.input_config
    clip = evovideo.transforms_for(model)(_frames())
    assert clip.shape == (3, cfg.num_frames, cfg.size, cfg.size) and clip.dtype == torch.float32
    span = (cfg.num_frames - 1) * cfg.stride + 1
    start = (40 - span) // 2
    expected_ids = start + cfg.stride * torch.arange(cfg.num_frames)
    mean, std = torch.tensor(cfg.mean), torch.tensor(cfg.std)
    got_ids = (clip[:, :, 0, 0].T * std + mean) * 255  # (T, 3) back to pixel values
    assert torch.allclose(got_ids, expected_ids[:, None].float().expand(-1, 3), atol=1e-3)
    assert model(clip[None]).shape == (1, model.num_features)


def test_short_clip_is_padded_and_config_drives_size() -> None:
    cfg = replace(evovideo.create_model("test_r2plus1d").input_config, size=24, num_frames=4, stride=3)
    clip = evovideo.transforms_for(cfg)(_frames(t=5))
    assert clip.shape == (3, 4, 24, 24)
    train_clip = evovideo.transforms_for(cfg, train=True)(_frames(t=50))
    assert train_clip.shape == (3, 4, 24, 24)


def test_gray_model_gets_one_channel_and_flow_is_refused() -> None:
    gray = evovideo.create_model("test_gray")
    clip = evovideo.transforms_for(gray)(_frames())
    assert clip.shape[0] == 1 and gray(clip[None]).shape == (1, gray.num_features)
    with pytest.raises(ValueError, match="'flow' input is derived"):
        evovideo.transforms_for(evovideo.create_model("test_flow"))
    with pytest.raises(ValueError, match=r"expected decoded frames \(T, H, W, 3\)"):
        evovideo.transforms_for(gray)(np.zeros((4, 8, 8), dtype=np.uint8))
