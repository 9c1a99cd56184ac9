"""Cross-modal embedding: the same clip close across two modalities, other clips apart."""
from __future__ import annotations

from typing import Mapping, Sequence

import torch

from evovideo.models.base import Encoder
from evovideo.tasks.base import TASKS, Task, TaskInputs, audio_mask
from evovideo.tasks.gather import ddp_mean_gradient, gather_with_grad, world_size
from evovideo.tasks.heads import MLPHead
from evovideo.tasks.losses import info_nce_loss, triplet_margin_loss

EMBEDDING_LOSSES = ("triplet", "infonce")


@TASKS.register("cross_modal_embedding")
class CrossModalEmbedding(Task):
    """``a-b/cross_modal_embedding``: project both towers' pooled features to ``dim`` and pull a
    clip's two views together, pushing the other clips of the batch away.

    ``loss="triplet"`` (max-margin, as in ELo; ``margin``) or ``"infonce"`` (``temperature``).
    Set it per term in the recipe: ``task_args: {"flow-rgb/cross_modal_embedding": {loss: infonce}}``.
    ``cross_rank=True`` (default): under DDP the negatives are the clips of every rank's batch
    (:mod:`evovideo.tasks.gather`), not only this rank's; a no-op in one process.
    """

    arity = "pair"

    def __init__(self, modalities: Sequence[str], encoders: Mapping[str, Encoder], dim: int = 128,
                 hidden: int = 256, loss: str = "triplet", margin: float = 0.2, temperature: float = 0.1,
                 cross_rank: bool = True) -> None:
        super().__init__(modalities, encoders)
        if loss not in EMBEDDING_LOSSES:
            raise ValueError(f"cross_modal_embedding: unknown loss '{loss}'; known: {', '.join(EMBEDDING_LOSSES)}")
        a, b = self.modalities
        self.proj_a = MLPHead(encoders[a].num_features, dim, hidden)
        self.proj_b = MLPHead(encoders[b].num_features, dim, hidden)
        self.loss, self.margin, self.temperature = loss, margin, temperature
        self.cross_rank = cross_rank

    def forward(self, inputs: TaskInputs) -> torch.Tensor:
        a, b = self.modalities
        za = self.proj_a(inputs.features[a].pooled)  # (B, dim)
        zb = self.proj_b(inputs.features[b].pooled)  # (B, dim)
        keep = audio_mask(inputs.batch, self.modalities, za.shape[0])
        if self.cross_rank and world_size() > 1:  # (B, dim) per rank -> (W*B, dim), same loss on every rank
            mask = torch.ones(za.shape[0], dtype=torch.bool, device=za.device) if keep is None else keep.to(za.device)
            za, zb = gather_with_grad(za), gather_with_grad(zb)
            mask = gather_with_grad(mask.to(torch.uint8)).bool()
            keep = None if mask.all() else mask
            return ddp_mean_gradient(self._loss(za, zb, keep))
        return self._loss(za, zb, keep)

    def _loss(self, za: torch.Tensor, zb: torch.Tensor, keep: torch.Tensor | None) -> torch.Tensor:
        if keep is not None:
            if int(keep.sum()) < 2:
                return (za.sum() + zb.sum()) * 0.0  # fewer than 2 clips with audio: no negatives
            za, zb = za[keep], zb[keep]
        if self.loss == "infonce":
            return info_nce_loss(za, zb, self.temperature)
        return triplet_margin_loss(za, zb, self.margin)
