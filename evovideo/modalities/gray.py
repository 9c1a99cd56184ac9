"""Grayscale: the luminance of the RGB frames (ITU-R BT.601 weights)."""
from __future__ import annotations

import torch

LUMA = (0.299, 0.587, 0.114)


def to_gray(rgb: torch.Tensor) -> torch.Tensor:
    """(3, T, H, W) float in [0, 1] -> (1, T, H, W) luminance."""
    w = torch.tensor(LUMA, dtype=rgb.dtype).view(3, 1, 1, 1)
    return (rgb * w).sum(0, keepdim=True)


def gray_stats(mean: tuple[float, ...], std: tuple[float, ...]) -> tuple[tuple[float], tuple[float]]:
    """Mean/std for the gray channel derived from RGB normalisation statistics."""
    return (sum(m * w for m, w in zip(mean, LUMA)),), (sum(s * w for s, w in zip(std, LUMA)),)
