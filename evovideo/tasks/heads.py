"""Small heads the tasks own: a feature-map decoder and an MLP classifier/projector."""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn


class MapDecoder(nn.Module):
    """Decode a feature map into a clip (or spectrogram) of a given size.

    ``(B, D, t, h, w) -> (B, out_chans, T, H, W)``: two 1x1 convolutions at the feature map's
    resolution, then (tri/bi)linear upsampling to the target size.  Cheap on purpose: the
    encoder, not the decoder, has to carry the information.
    """

    def __init__(self, in_chs: int, out_chans: int, spatial_dims: int = 3, hidden: int = 64) -> None:
        super().__init__()
        conv = nn.Conv3d if spatial_dims == 3 else nn.Conv2d
        self.mode = "trilinear" if spatial_dims == 3 else "bilinear"
        self.net = nn.Sequential(conv(in_chs, hidden, 1), nn.GELU(), conv(hidden, out_chans, 1))

    def forward(self, fmap: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
        x = self.net(fmap)  # (B, D, t, h, w) -> (B, C, t, h, w)
        return F.interpolate(x, size=tuple(size), mode=self.mode, align_corners=False)  # -> (B, C, T, H, W)


class MLPHead(nn.Module):
    """``(B, in_features) -> (B, out_features)``: Linear, GELU, Linear."""

    def __init__(self, in_features: int, out_features: int = 1, hidden: int = 128) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_features, hidden), nn.GELU(), nn.Linear(hidden, out_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
