"""Spatial transforms shared by every video modality of one clip (torchvision.transforms.v2).

The same crop (and flip) applies to RGB, gray and flow; a horizontal flip negates flow's x part.
Train: random ``size`` x ``size`` crop + random horizontal flip (``hflip=False`` turns the flip
off: for data whose classes are not mirror-invariant, e.g. the synthetic MoveLeft / MoveRight
motions).  Test: ``num_crops`` crops along the long
side (1 = centre, 3 = start/centre/end as in the usual 10 x 3 multi-view protocol).
"""
from __future__ import annotations

import random

import torch
from torchvision.transforms.v2 import functional as F

from evovideo.clip import default_resize  # noqa: F401 - re-exported by evovideo.modalities




def crop_boxes(height: int, width: int, size: int, num_crops: int) -> list[tuple[int, int]]:
    """Top-left corners of ``num_crops`` test crops spread along the long side."""
    th, tw = min(size, height), min(size, width)
    if num_crops == 1:
        return [((height - th) // 2, (width - tw) // 2)]
    boxes = []
    for i in range(num_crops):
        frac = i / (num_crops - 1)
        if width >= height:
            boxes.append(((height - th) // 2, int(round(frac * (width - tw)))))
        else:
            boxes.append((int(round(frac * (height - th))), (width - tw) // 2))
    return boxes


class ClipCrop:
    """Pick one crop (and flip) for a clip, then apply it to each of its modalities.

    Args:
        size: crop side.
        train: random crop (+ flip) from ``rng``; else the fixed test crops.
        num_crops: test crops along the long side.
        hflip: train only: mirror half of the clips at random (False: never).
    """

    def __init__(self, size: int, *, train: bool, num_crops: int = 1, hflip: bool = True) -> None:
        self.size, self.train, self.num_crops, self.hflip = size, train, num_crops, hflip

    def choose(self, height: int, width: int, crop_index: int = 0, rng: random.Random | None = None) -> tuple[int, int, bool]:
        """(top, left, flip) for a frame of ``height`` x ``width``; train draws come from ``rng``
        (default ``random.Random(0)``, never the process-wide RNG)."""
        th, tw = min(self.size, height), min(self.size, width)
        if self.train:
            rng = rng or random.Random(0)
            top, left = rng.randint(0, height - th), rng.randint(0, width - tw)
            return top, left, self.hflip and rng.random() < 0.5
        top, left = crop_boxes(height, width, self.size, self.num_crops)[crop_index]
        return top, left, False

    def apply(self, x: torch.Tensor, box: tuple[int, int, bool], *, is_flow: bool = False) -> torch.Tensor:
        """(C, T, H, W) -> (C, T, size, size) (resized up if the frame is smaller than ``size``)."""
        top, left, flip = box
        x = F.crop(x, top, left, min(self.size, x.shape[-2]), min(self.size, x.shape[-1]))
        if x.shape[-2:] != (self.size, self.size):
            x = F.resize(x, [self.size, self.size], antialias=True)
        if flip:
            x = F.horizontal_flip(x)
            if is_flow:
                x = torch.cat([-x[:1], x[1:]], dim=0)
        return x


def to_float_clip(frames: torch.Tensor) -> torch.Tensor:
    """(T, H, W, 3) uint8 -> (3, T, H, W) float32 in [0, 1]."""
    return F.to_dtype(frames.permute(3, 0, 1, 2), torch.float32, scale=True)


def normalize(clip: torch.Tensor, mean: tuple[float, ...], std: tuple[float, ...]) -> torch.Tensor:
    """(C, T, H, W) float -> normalised per channel."""
    m = torch.tensor(mean, dtype=clip.dtype).view(-1, 1, 1, 1)
    s = torch.tensor(std, dtype=clip.dtype).view(-1, 1, 1, 1)
    return (clip - m) / s


def normalize_uint8(frames: torch.Tensor, mean: tuple[float, ...], std: tuple[float, ...]) -> torch.Tensor:
    """(T, H, W, C) uint8 -> (C, T, H, W) float32 ``(x / 255 - mean) / std`` in one allocation."""
    x = frames.permute(3, 0, 1, 2)
    scale = torch.tensor([1.0 / (255.0 * s) for s in std]).view(-1, 1, 1, 1)
    shift = torch.tensor([m / s for m, s in zip(mean, std)]).view(-1, 1, 1, 1)
    out = torch.empty(x.shape, dtype=torch.float32)
    torch.mul(x, scale, out=out)
    return out.sub_(shift)
