"""``transforms_for(model)``: the clip preprocessing a model's weights expect, from its InputConfig.

    enc = evovideo.from_pretrained("local-dir:runs/demo/student")
    tf = evovideo.transforms_for(enc)
    clip = tf(decode_video(path).frames)          # (T, H, W, 3) uint8 -> (3, num_frames, size, size)
    feats = enc(clip[None])                       # (1, num_features)

The same steps as the training data pipeline (``evovideo.data.pipeline.SampleBuilder``), built
from its pieces in ``evovideo.modalities`` and composed with ``torchvision.transforms.v2``: take
``num_frames`` frames ``stride`` apart (centred; random start when ``train``), scale to [0, 1],
resize the short side to ``round(size * 8 / 7)`` (128 for 112), crop ``size`` x ``size`` (centre;
random crop + flip when ``train``), convert to luminance for ``gray`` models, normalise with
``mean``/``std``.  Input frames are indexed as decoded; for a file, decode at the frame rate the
recipe's data used (the data pipeline samples at a nominal ``frame_rate``).  Flow and audio inputs
are derived by ``evovideo.modalities``, not by per-frame transforms.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torchvision.transforms import v2

from evovideo.modalities import ClipCrop, default_resize, normalize, to_float_clip, to_gray
from evovideo.models.base import Encoder, InputConfig


class StridedTemporalCrop(nn.Module):
    """Keep ``num_frames`` frames ``stride`` apart: centred, or at a random start when ``random``.

    A clip shorter than ``(num_frames - 1) * stride + 1`` frames is padded by repeating its last
    frame, so every output has exactly ``num_frames`` frames.
    """

    def __init__(self, num_frames: int, stride: int, random: bool = False) -> None:
        super().__init__()
        self.num_frames, self.stride, self.random = num_frames, stride, random

    def forward(self, frames: np.ndarray | torch.Tensor) -> torch.Tensor:
        # (T, H, W, C) uint8 -> (num_frames, H, W, C)
        frames = torch.as_tensor(frames)
        if frames.ndim != 4 or frames.shape[-1] != 3:
            raise ValueError(f"expected decoded frames (T, H, W, 3), got shape {tuple(frames.shape)}")
        span = (self.num_frames - 1) * self.stride + 1
        slack = max(frames.shape[0] - span, 0)
        start = int(torch.randint(slack + 1, ()).item()) if self.random else slack // 2
        idx = (start + torch.arange(self.num_frames) * self.stride).clamp(max=frames.shape[0] - 1)
        return frames[idx]


class ToFloatClip(nn.Module):
    """(T, H, W, 3) uint8 -> (3, T, H, W) float in [0, 1]."""

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return to_float_clip(frames)


class SpatialCrop(nn.Module):
    """(C, T, H, W) -> (C, T, size, size): centre crop, or random crop + flip when ``train``."""

    def __init__(self, size: int, train: bool) -> None:
        super().__init__()
        self.crop = ClipCrop(size, train=train)

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        return self.crop.apply(clip, self.crop.choose(clip.shape[-2], clip.shape[-1]))


class ToGray(nn.Module):
    """(3, T, H, W) -> (1, T, H, W) luminance."""

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        return to_gray(clip)


class Normalize(nn.Module):
    """Per-channel ``(x - mean) / std`` on (C, T, H, W)."""

    def __init__(self, mean: tuple[float, ...], std: tuple[float, ...]) -> None:
        super().__init__()
        self.mean, self.std = tuple(mean), tuple(std)

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        return normalize(clip, self.mean, self.std)


def transforms_for(model_or_config: Encoder | InputConfig, *, train: bool = False) -> v2.Compose:
    """The transform from decoded frames ``(T, H, W, 3)`` uint8 to the clip ``model`` expects."""
    cfg = model_or_config if isinstance(model_or_config, InputConfig) else model_or_config.input_config
    if cfg.modality not in ("rgb", "gray"):
        raise ValueError(
            f"transforms_for builds rgb/gray clip transforms; a '{cfg.modality}' input is derived from the clip "
            "by evovideo.modalities (see evovideo.data.pipeline.SampleBuilder)"
        )
    steps: list[nn.Module] = [
        StridedTemporalCrop(cfg.num_frames, cfg.stride, random=train),
        ToFloatClip(),
        v2.Resize(default_resize(cfg.size), antialias=True),  # short side, like SampleBuilder.resize
        SpatialCrop(cfg.size, train),
    ]
    if cfg.modality == "gray":
        steps.append(ToGray())
    steps.append(Normalize(cfg.mean, cfg.std))
    return v2.Compose(steps)
