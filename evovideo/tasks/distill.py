"""Distillation terms: ``L_d = ||tower layer i - student layer i||_2`` (ELo).

Written in a recipe as ``"<tower modality>:<layer>"`` (same layer name on both sides, e.g.
``"flow:layer3"``) or ``"<tower modality>:<tower layer>-><student layer>"`` when the names differ.

How the two maps are compared (the paper leaves it open):

* both video, ``(B, C, t, h, w)``: each is average-pooled to the smaller of the two sizes on
  every axis (``adaptive_avg_pool3d``);
* audio tower ``(B, C, f, t)`` vs a video student: both are reduced to a time profile
  ``(B, C, t)`` (mean over frequency, resp. over space) and pooled to the shorter length;
* the student's channels are mapped to the tower's width by a learned 1x1 projection when the
  widths differ (identity otherwise).  Pooling and a 1x1 projection commute, so the projection
  runs after pooling, on the small map.

The tower side is detached (:func:`evovideo.tasks.losses.distillation_loss`).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from evovideo.models.base import MODALITIES
from evovideo.tasks.base import RecipeError
from evovideo.tasks.losses import distillation_loss


@dataclass(frozen=True)
class DistillSpec:
    key: str
    modality: str
    tower_layer: str
    student_layer: str


def parse_distill_term(key: str, field_name: str = "distill") -> DistillSpec:
    where = f"{field_name}['{key}']"
    if key.count(":") != 1:
        raise RecipeError(f"{where}: a distillation term is '<tower modality>:<layer>', e.g. 'flow:layer3' "
                         "or 'audio:layer4->layer3' (tower layer -> student layer)")
    modality, layers = key.split(":")
    towers = [m for m in MODALITIES if m != "rgb"]
    if modality not in towers:
        raise RecipeError(f"{where}: unknown tower modality '{modality}'; known: {', '.join(towers)} "
                         "(rgb is the student)")
    tower_layer, _, student_layer = layers.partition("->")
    return DistillSpec(key, modality, tower_layer, student_layer or tower_layer)


def _pool_to(x: torch.Tensor, size: tuple[int, ...]) -> torch.Tensor:
    pool = {1: F.adaptive_avg_pool1d, 2: F.adaptive_avg_pool2d, 3: F.adaptive_avg_pool3d}[len(size)]
    return pool(x, size)


def time_profile(x: torch.Tensor, audio: bool) -> torch.Tensor:
    # video (B, C, t, h, w) -> (B, C, t); audio (B, C, f, t) -> (B, C, t)
    return x.mean(dim=2) if audio else x.flatten(3).mean(-1)


class Distiller(nn.Module):
    """Compares one student layer with one tower layer; owns the learned projection."""

    def __init__(self, student_chs: int, tower_chs: int, tower_is_audio: bool) -> None:
        super().__init__()
        self.tower_is_audio = tower_is_audio
        self.proj = nn.Conv1d(student_chs, tower_chs, 1) if student_chs != tower_chs else nn.Identity()

    def pair(self, student: torch.Tensor, tower: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The compared maps: (projected student, tower), both (B, Ct, N)."""
        if self.tower_is_audio:
            student, tower = time_profile(student, False), time_profile(tower, True)  # (B, C, t)
        size = tuple(min(s, t) for s, t in zip(student.shape[2:], tower.shape[2:]))
        student = _pool_to(student, size).flatten(2)  # (B, Cs, N)
        tower = _pool_to(tower, size).flatten(2)  # (B, Ct, N)
        return self.proj(student), tower

    def forward(self, student: torch.Tensor, tower: torch.Tensor, keep: torch.Tensor | None = None) -> torch.Tensor:
        """``keep``: (B,) bool of the clips to compare (an audio tower: the clips with an audio track);
        none kept gives exactly 0 (with the graph)."""
        if keep is not None:
            if not keep.any():
                return self.pair(student, tower)[0].sum() * 0.0
            student, tower = student[keep], tower[keep]
        return distillation_loss(*self.pair(student, tower))
