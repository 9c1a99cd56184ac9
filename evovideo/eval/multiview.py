"""Test-time multi-view evaluation: several temporal clips x spatial crops per video, averaged.

View order is fixed: for ``num_clips`` temporal clips and ``num_crops`` spatial crops, view
``v = clip * num_crops + crop`` (clip-major), and a batch of views is video-major::

    logits: (B * V, C)  rows [video0 view0, video0 view1, ..., video1 view0, ...]
    average_views(logits, V) -> (B, C)

When views of one video can be spread over several batches (a DataLoader over views),
accumulate ``(video_index, scores)`` and use :class:`VideoAggregator`, which groups by index.
"""
from __future__ import annotations

import torch


def view_index(clip: int, crop: int, num_crops: int) -> int:
    """Position of (temporal clip, spatial crop) among a video's views: clip-major."""
    return clip * num_crops + crop


def average_views(scores: torch.Tensor, num_views: int, *, softmax: bool = True) -> torch.Tensor:
    """(B * V, C) video-major view scores -> (B, C) video scores.

    With ``softmax`` the class probabilities are averaged (the SlowFast / PySlowFast protocol),
    otherwise the raw scores (e.g. features) are.
    """
    if scores.shape[0] % num_views:
        raise ValueError(
            f"{scores.shape[0]} rows are not a whole number of videos with {num_views} views each; "
            "rows must be video-major (all views of video 0, then video 1, ...)"
        )
    if softmax:
        scores = scores.float().softmax(-1)
    return scores.reshape(-1, num_views, *scores.shape[1:]).mean(1)


class VideoAggregator:
    """Collects per-view scores with their video index; ``compute()`` gives video-level results.

    ``update(video_index (N,), scores (N, C), labels (N,))`` any number of times, in any order.
    """

    def __init__(self, softmax: bool = True) -> None:
        self.softmax = softmax
        self.reset()

    def reset(self) -> None:
        self._index: list[torch.Tensor] = []
        self._scores: list[torch.Tensor] = []
        self._labels: list[torch.Tensor] = []

    def update(self, video_index: torch.Tensor, scores: torch.Tensor, labels: torch.Tensor) -> None:
        scores = scores.detach().float()
        self._index.append(video_index.detach().cpu().long())
        self._scores.append((scores.softmax(-1) if self.softmax else scores).cpu())
        self._labels.append(labels.detach().cpu().long())

    def compute(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(video ids (V,), averaged scores (V, C), labels (V,)), sorted by video id."""
        if not self._index:
            raise RuntimeError("VideoAggregator.compute() called before any update()")
        index, scores, labels = torch.cat(self._index), torch.cat(self._scores), torch.cat(self._labels)
        ids, inverse = index.unique(sorted=True, return_inverse=True)
        sums = torch.zeros(len(ids), scores.shape[1]).index_add_(0, inverse, scores)
        counts = torch.zeros(len(ids)).index_add_(0, inverse, torch.ones(len(index)))
        video_labels = torch.full((len(ids),), -1, dtype=torch.long).scatter_(0, inverse, labels)
        return ids, sums / counts.unsqueeze(1), video_labels

    def accuracy(self) -> float:
        """Video-level top-1 accuracy in percent."""
        _, scores, labels = self.compute()
        return 100.0 * (scores.argmax(-1) == labels).float().mean().item()
