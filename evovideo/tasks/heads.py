"""Small heads the tasks own: a feature-map decoder and an MLP classifier/projector."""
from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn


def upsampling_stages(encoder: nn.Module, layer: str | None = None) -> int:
    """x2 stages from the encoder's last feature map (or ``layer``'s) back to its input's spatial
    size: log2 of its largest spatial stride, measured by one forward of its example input (eval
    mode, no grad, so BatchNorm statistics are not touched)."""
    cfg = encoder.input_config
    example = cfg.example_input(1) if cfg.modality == "audio" else cfg.example_input(1)[:, :, : max(2, min(cfg.num_frames, 4))]
    was_training = encoder.training
    encoder.eval()
    try:
        with torch.no_grad():
            fmap = encoder.forward_features(example) if layer is None else encoder.forward_intermediates(example, [layer])[layer]
    finally:
        encoder.train(was_training)
    ratio = max(i / f for i, f in zip(example.shape[-2:], fmap.shape[-2:]))
    return max(1, math.ceil(math.log2(ratio) - 1e-6))


class MapDecoder(nn.Module):
    """Decode a feature map into a clip (or spectrogram) of a given size.

    ``(B, D, t, h, w) -> (B, out_chans, T, H, W)`` (audio: 2-d maps).  A 1x1 convolution to
    ``hidden`` channels, then ``stages`` x2 upsampling stages (nearest, on the axes still at most
    half the target) each followed by a 3x3(x3) convolution + GELU that halves the channels (down
    to ``min_chans``: the large maps stay cheap), then a 3x3(x3) convolution to
    ``out_chans`` and (tri/bi)linear interpolation to the exact size.  The tasks build it with
    :func:`upsampling_stages` of their encoder (4 for the tiny student's 1x2x2 last map of 8x32x32
    clips); the old decoder (two 1x1 convolutions + interpolation) could only paint a thumbnail
    at the last map's resolution.

    ``context``: extra input channels concatenated before the output convolution (future
    prediction feeds the last observed frame there, so the encoder has to supply the motion).

    ``global_path`` (default True) adds a frame-wide term: the input map averaged over space, a
    linear map to ``out_chans`` per time slice, interpolated in time and added to every pixel of
    the frame (audio maps: one term for the whole map).  A frame-wide quantity (the mean optical
    flow of a frame is ~60% of the synthetic set's flow variance) then reaches the encoder's
    features through one linear map instead of four narrow upsampling stages: without it,
    ``rgb->flow/cross_modal_transfer`` stayed at the mean (L2 1.00) through 2,000 steps on the tiny
    student (see ``evovideo bench tasks``).
    """

    def __init__(self, in_chs: int, out_chans: int, spatial_dims: int = 3, hidden: int = 64,
                 stages: int = 4, context: int = 0, min_chans: int = 8, global_path: bool = True) -> None:
        super().__init__()
        conv = nn.Conv3d if spatial_dims == 3 else nn.Conv2d
        self.mode = "trilinear" if spatial_dims == 3 else "bilinear"
        self.spatial_dims = spatial_dims
        self.glob = nn.Linear(in_chs, out_chans) if global_path else None
        chans = [max(min_chans, hidden >> i) for i in range(stages + 1)]
        self.inp = conv(in_chs, hidden, 1)
        self.stages = nn.ModuleList(
            nn.Sequential(conv(chans[i], chans[i + 1], 3, padding=1), nn.GELU()) for i in range(stages)
        )
        self.context = context
        self.out = conv(chans[-1] + context, out_chans, 3, padding=1)

    def forward(self, fmap: torch.Tensor, size: Sequence[int], context: torch.Tensor | None = None) -> torch.Tensor:
        size = tuple(int(v) for v in size)
        x = F.gelu(self.inp(fmap))  # (B, D, t, h, w) -> (B, hidden, t, h, w)
        for stage in self.stages:
            scale = tuple(2.0 if 2 * cur <= tgt else 1.0 for cur, tgt in zip(x.shape[2:], size))
            x = stage(F.interpolate(x, scale_factor=scale, mode="nearest") if max(scale) > 1 else x)
        if tuple(x.shape[2:]) != size:
            x = F.interpolate(x, size=size, mode=self.mode, align_corners=False)
        if self.context:
            if context is None:
                raise ValueError(f"this decoder was built with context={self.context} channels; pass context=")
            x = torch.cat([x, F.interpolate(context, size=size, mode="nearest")], 1)
        out = self.out(x)  # -> (B, C, T, H, W)
        if self.glob is not None:
            out = out + self.frame_term(fmap, size)
        return out

    def frame_term(self, fmap: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
        """The global path: (B, C, T, 1, 1) per frame for video maps, (B, C, 1, 1) for audio."""
        if self.spatial_dims == 2:
            return self.glob(fmap.mean((2, 3)))[..., None, None]
        g = self.glob(fmap.mean((3, 4)).transpose(1, 2)).transpose(1, 2)  # (B, D, t) -> (B, C, t)
        g = F.interpolate(g, size=int(size[0]), mode="linear", align_corners=False)
        return g[..., None, None]


class MLPHead(nn.Module):
    """``(B, in_features) -> (B, out_features)``: Linear, GELU, Linear."""

    def __init__(self, in_features: int, out_features: int = 1, hidden: int = 128) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_features, hidden), nn.GELU(), nn.Linear(hidden, out_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
