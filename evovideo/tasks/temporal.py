"""Tasks that classify time: temporal order, arrow of time, temporal alignment.

Each needs one extra forward of a tower (on a shuffled / reversed / shifted clip); the
unmodified clip's features are the ones computed once for the step.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import torch

from evovideo.models.base import Encoder
from evovideo.tasks.base import TASKS, Task, TaskInputs, time_dim
from evovideo.tasks.heads import MLPHead
from evovideo.tasks.losses import binary_logistic_loss


def pooled_features(encoder: Encoder, x: torch.Tensor) -> torch.Tensor:
    # (B, C, T, H, W) -> (B, D)
    return encoder.pool(encoder.forward_features(x))


def shuffle_chunks(x: torch.Tensor, dim: int, num_chunks: int, generator: torch.Generator) -> torch.Tensor:
    """Cut axis ``dim`` into ``num_chunks`` contiguous chunks and permute them per sample; the
    permutation is never the identity."""
    length = x.shape[dim]
    n = max(2, min(num_chunks, length))
    bounds = [round(i * length / n) for i in range(n + 1)]
    perm = torch.argsort(torch.rand(x.shape[0], n, generator=generator), dim=1)
    identity = (perm == torch.arange(n)).all(dim=1)
    perm[identity] = perm[identity].roll(1, dims=1)
    index = torch.stack([
        torch.cat([torch.arange(bounds[c], bounds[c + 1]) for c in row.tolist()]) for row in perm
    ]).to(x.device)  # (B, length)
    shape = [x.shape[0]] + [1] * (x.dim() - 1)
    shape[dim] = length
    return x.gather(dim, index.view(shape).expand_as(x))


def reverse_time(x: torch.Tensor, modality: str) -> torch.Tensor:
    """Play the clip backwards; optical flow also changes sign (the motion runs the other way)."""
    out = x.flip(time_dim(modality))
    return -out if modality == "flow" else out


class _BinaryTimeTask(Task):
    """Classify the original clip (target 1) against a modified one (target 0)."""

    def __init__(self, modalities: Sequence[str], encoders: Mapping[str, Encoder], hidden: int = 128) -> None:
        super().__init__(modalities, encoders)
        self.head = MLPHead(encoders[self.modalities[0]].num_features, 1, hidden)

    def modify(self, x: torch.Tensor, modality: str, generator: torch.Generator) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, inputs: TaskInputs) -> torch.Tensor:
        (m,) = self.modalities
        x = inputs.batch[m]
        negative = pooled_features(inputs.encoders[m], self.modify(x, m, inputs.generator))  # (B, D)
        logits = self.head(torch.cat([inputs.features[m].pooled, negative])).squeeze(1)  # (2B,)
        targets = torch.cat([torch.ones(x.shape[0]), torch.zeros(x.shape[0])]).to(logits)
        return binary_logistic_loss(logits, targets)


@TASKS.register("temporal_order")
class TemporalOrder(_BinaryTimeTask):
    """``m/temporal_order``: ordered clip vs the same clip with ``num_chunks`` time chunks shuffled
    (shuffle-and-learn).  Video: chunks of frames; audio: chunks of spectrogram columns."""

    def __init__(self, modalities: Sequence[str], encoders: Mapping[str, Encoder], hidden: int = 128,
                 num_chunks: int = 4) -> None:
        super().__init__(modalities, encoders, hidden)
        self.num_chunks = num_chunks

    def modify(self, x: torch.Tensor, modality: str, generator: torch.Generator) -> torch.Tensor:
        return shuffle_chunks(x, time_dim(modality), self.num_chunks, generator)


@TASKS.register("arrow_of_time")
class ArrowOfTime(_BinaryTimeTask):
    """``m/arrow_of_time``: forward playback vs reversed playback (flow is negated too)."""

    def modify(self, x: torch.Tensor, modality: str, generator: torch.Generator) -> torch.Tensor:
        return reverse_time(x, modality)


@TASKS.register("temporal_alignment")
class TemporalAlignment(Task):
    """``a-b/temporal_alignment``: are ``a`` and ``b`` aligned in time?  Positive: both from the
    clip's span; negative: ``a`` from a window shifted within the same video (batch key
    ``<a>_shifted``, e.g. ``audio_shifted`` for ``audio-rgb``).  Clips without audio are left out.
    """

    arity = "pair"

    def __init__(self, modalities: Sequence[str], encoders: Mapping[str, Encoder], hidden: int = 128) -> None:
        super().__init__(modalities, encoders)
        a, b = self.modalities
        self.head = MLPHead(encoders[a].num_features + encoders[b].num_features, 1, hidden)

    @classmethod
    def batch_keys(cls, modalities: Sequence[str]) -> tuple[str, ...]:
        return (*modalities, f"{modalities[0]}_shifted")

    def forward(self, inputs: TaskInputs) -> torch.Tensor:
        a, b = self.modalities
        fa, fb = inputs.features[a].pooled, inputs.features[b].pooled  # (B, Da), (B, Db)
        shifted = pooled_features(inputs.encoders[a], inputs.batch[f"{a}_shifted"])  # (B, Da)
        logits = self.head(torch.cat([torch.cat([fa, fb], 1), torch.cat([shifted, fb], 1)])).squeeze(1)  # (2B,)
        n = fa.shape[0]
        targets = torch.cat([torch.ones(n), torch.zeros(n)]).to(logits)
        keep = audio_mask(inputs.batch, self.modalities, n)
        if keep is None:
            return binary_logistic_loss(logits, targets)
        keep = torch.cat([keep, keep])
        if not keep.any():
            return logits.sum() * 0.0  # no clip with audio in this batch: no signal, keep the graph
        return binary_logistic_loss(logits[keep], targets[keep])


def audio_mask(batch: Mapping[str, torch.Tensor], modalities: Sequence[str], n: int) -> torch.Tensor | None:
    """``(B,)`` bool of clips with an audio track when a term uses audio, else None."""
    if "audio" not in modalities or "has_audio" not in batch:
        return None
    mask = torch.as_tensor(batch["has_audio"], dtype=torch.bool).reshape(n)
    return None if mask.all() else mask
