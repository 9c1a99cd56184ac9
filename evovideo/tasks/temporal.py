"""Tasks that classify time: temporal order, arrow of time, temporal alignment.

Each classifies positives (ordered / forward / aligned, target 1) against negatives (shuffled /
reversed / shifted, target 0).  Both go through the tower in **one** forward,
``cat([positives, negatives])``: in train mode every BatchNorm batch then holds both labels in
equal numbers and the running statistics are fed both.  Two single-label forwards (positives in
the step's main forward, negatives in a second one) let the head separate the two by their
*batch* statistics, which eval mode does not have: measured on the tiny student,
``rgb/temporal_order`` alone, the eval-mode head scored chance (50.6% / 50.0%, 2 seeds) while one
mixed forward scored above it.  The step's main features of the tower are not reused here.

Temporal-order negatives carry no low-level cut that positives lack (see :func:`order_tuples`).
"""
from __future__ import annotations

from typing import Mapping, Sequence

import torch

from evovideo.models.base import Encoder
from evovideo.tasks.base import TASKS, Task, TaskInputs, audio_mask, masked_loss, time_dim
from evovideo.tasks.heads import MLPHead
from evovideo.tasks.losses import binary_logistic_loss


def pooled_features(encoder: Encoder, x: torch.Tensor) -> torch.Tensor:
    # (B, C, T, H, W) -> (B, D)
    return encoder.pool(encoder.forward_features(x))


def order_tuples(x: torch.Tensor, dim: int, num_frames: int, generator: torch.Generator
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """Shuffle-and-learn frame tuples (Misra et al., 2016) at the length of the clip, with the
    same jumps in positives and negatives.

    Per sample, a positive walks ``num_frames`` frames of axis ``dim`` forwards, with steps ``g_j``
    drawn uniformly from ``1 .. (T - 1) // (num_frames - 1)``; a negative walks fresh steps from
    the same distribution with random signs, neither all + (ordered) nor all - (the reversal,
    the arrow of time's negative; shuffle-and-learn counts it as ordered), never landing on a
    frame twice.  Both walks are placed at a random offset and stretched back to ``T`` by the same
    nearest-frame index, so positives and negatives have the same number of held frames and of
    jumps, at the same places, and jumps of the same sizes: only their *direction* (the task)
    differs.  (Permuting contiguous chunks of the clip, as before, put jump cuts in every negative
    and none in any positive: a cut detector solved it.)

    Returns ``(positive, negative)``, each shaped like ``x``.
    """
    b, length = x.shape[0], x.shape[dim]
    n = num_frames
    if n < 3 or length < n:
        raise ValueError(f"temporal order needs 3 <= num_frames <= clip length, got num_frames={n} and "
                         f"{length} time steps on axis {dim}")
    top = max(1, (length - 1) // (n - 1))

    def steps() -> torch.Tensor:
        return torch.randint(1, top + 1, (b, n - 1), generator=generator)

    def place(walk: torch.Tensor) -> torch.Tensor:  # (B, n) relative positions -> absolute, random offset
        lo, hi = walk.min(1, keepdim=True).values, walk.max(1, keepdim=True).values
        room = (length - 1 - (hi - lo)).clamp_min(0)
        offset = (torch.rand(b, 1, generator=generator) * (room + 1)).floor().long().clamp_max(room)
        return walk - lo + offset

    zero = torch.zeros(b, 1, dtype=torch.long)
    pos = torch.cat([zero, steps().cumsum(1)], 1)
    neg = torch.zeros(b, n, dtype=torch.long)
    todo = torch.ones(b, dtype=torch.bool)
    for _ in range(200):  # rejection sampling; each draw is accepted with probability > 1/4
        k = int(todo.sum())
        if k == 0:
            break
        signs = torch.randint(0, 2, (k, n - 1), generator=generator) * 2 - 1
        walk = torch.cat([zero[:k], (signs * steps()[:k]).cumsum(1)], 1)
        sorted_walk = walk.sort(1).values
        ok = ~((signs == 1).all(1) | (signs == -1).all(1)) & (sorted_walk.diff(dim=1) > 0).all(1)
        ok &= (sorted_walk[:, -1] - sorted_walk[:, 0]) <= length - 1
        rows = todo.nonzero().squeeze(1)[ok]
        neg[rows] = walk[ok]
        todo[rows] = False
    if todo.any():  # practically unreachable: fall back to a swap of the first two frames
        neg[todo] = pos[todo][:, [1, 0, *range(2, n)]]
    stretch = torch.arange(length) * n // length  # (T,) nearest index into the tuple
    out = []
    for index in (place(pos)[:, stretch], place(neg)[:, stretch]):  # (B, T)
        shape = [b] + [1] * (x.dim() - 1)
        shape[dim] = length
        out.append(x.gather(dim, index.to(x.device).view(shape).expand_as(x)))
    return out[0], out[1]


def shuffle_chunks(x: torch.Tensor, dim: int, num_frames: int, generator: torch.Generator) -> torch.Tensor:
    """The negative of :func:`order_tuples` alone."""
    return order_tuples(x, dim, num_frames, generator)[1]


def reverse_time(x: torch.Tensor, modality: str) -> torch.Tensor:
    """Play the clip backwards; optical flow also changes sign (the motion runs the other way)."""
    out = x.flip(time_dim(modality))
    return -out if modality == "flow" else out


def mixed_forward(encoder: Encoder, positive: torch.Tensor, negative: torch.Tensor) -> torch.Tensor:
    """Pooled features of ``cat([positive, negative])`` in one forward: (B, ...) x 2 -> (2B, D)."""
    return pooled_features(encoder, torch.cat([positive, negative]))


def binary_targets(n: int, like: torch.Tensor) -> torch.Tensor:
    """(2n,) targets: n ones (positives) then n zeros (negatives)."""
    return torch.cat([torch.ones(n), torch.zeros(n)]).to(like)


class _BinaryTimeTask(Task):
    """Classify a positive clip (target 1) against a modified one (target 0), one mixed forward."""

    def __init__(self, modalities: Sequence[str], encoders: Mapping[str, Encoder], hidden: int = 128) -> None:
        super().__init__(modalities, encoders)
        self.head = MLPHead(encoders[self.modalities[0]].num_features, 1, hidden)

    def pair(self, x: torch.Tensor, modality: str, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def logits(self, encoder: Encoder, x: torch.Tensor, modality: str, generator: torch.Generator) -> torch.Tensor:
        """(2B,) logits of positives then negatives (used by the task and by ``evovideo bench tasks``)."""
        positive, negative = self.pair(x, modality, generator)
        return self.head(mixed_forward(encoder, positive, negative)).squeeze(1)

    def forward(self, inputs: TaskInputs) -> torch.Tensor:
        (m,) = self.modalities
        x = inputs.batch[m]
        logits = self.logits(inputs.encoders[m], x, m, inputs.generator)  # (2B,)
        keep = audio_mask(inputs.batch, self.modalities, x.shape[0])  # clips without audio are left out
        return masked_loss(binary_logistic_loss, logits, binary_targets(x.shape[0], logits), keep, pairs=True)


@TASKS.register("temporal_order")
class TemporalOrder(_BinaryTimeTask):
    """``m/temporal_order``: ordered vs shuffled shuffle-and-learn tuples of ``num_frames`` frames
    (:func:`order_tuples`).  Video: frames; audio: spectrogram columns."""

    def __init__(self, modalities: Sequence[str], encoders: Mapping[str, Encoder], hidden: int = 128,
                 num_frames: int = 4) -> None:
        super().__init__(modalities, encoders, hidden)
        if num_frames < 3:
            raise ValueError(f"num_frames must be >= 3 (with 2 the only shuffle is the reversal), got {num_frames}")
        self.num_frames = num_frames

    def pair(self, x, modality, generator):
        return order_tuples(x, time_dim(modality), self.num_frames, generator)


@TASKS.register("arrow_of_time")
class ArrowOfTime(_BinaryTimeTask):
    """``m/arrow_of_time``: forward playback vs reversed playback (flow is negated too)."""

    def pair(self, x, modality, generator):
        return x, reverse_time(x, modality)


@TASKS.register("temporal_alignment")
class TemporalAlignment(Task):
    """``a-b/temporal_alignment``: are ``a`` and ``b`` aligned in time?  Positive: both from the
    clip's span; negative: ``a`` from a window shifted within the same video (batch key
    ``<a>_shifted``, e.g. ``audio_shifted`` for ``audio-rgb``).  ``a`` and its shifted window go
    through tower ``a`` in one forward; ``b`` is the step's features.  Clips without audio are
    left out.
    """

    arity = "pair"

    def __init__(self, modalities: Sequence[str], encoders: Mapping[str, Encoder], hidden: int = 128) -> None:
        super().__init__(modalities, encoders)
        a, b = self.modalities
        self.head = MLPHead(encoders[a].num_features + encoders[b].num_features, 1, hidden)

    @classmethod
    def batch_keys(cls, modalities: Sequence[str]) -> tuple[str, ...]:
        return (*modalities, f"{modalities[0]}_shifted")

    def logits(self, encoder_a: Encoder, xa: torch.Tensor, xa_shifted: torch.Tensor, fb: torch.Tensor) -> torch.Tensor:
        """(2B,) logits of aligned pairs then shifted pairs; ``fb``: (B, Db) pooled features of ``b``."""
        fa = mixed_forward(encoder_a, xa, xa_shifted)  # (2B, Da)
        return self.head(torch.cat([fa, torch.cat([fb, fb])], 1)).squeeze(1)

    def forward(self, inputs: TaskInputs) -> torch.Tensor:
        a, b = self.modalities
        fb = inputs.features[b].pooled  # (B, Db)
        logits = self.logits(inputs.encoders[a], inputs.batch[a], inputs.batch[f"{a}_shifted"], fb)
        n = fb.shape[0]
        keep = audio_mask(inputs.batch, self.modalities, n)
        return masked_loss(binary_logistic_loss, logits, binary_targets(n, logits), keep, pairs=True)
