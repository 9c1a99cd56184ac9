"""Cross-rank negatives for the contrastive terms: every rank sees the whole global batch.

``gather_with_grad(x)``: ``(B, ...)`` on each of W ranks -> ``(W*B, ...)`` in rank order, as
SimCLR / CLIP implementations do: ``all_gather`` the detached tensors, then put this rank's own
tensor back in its place, so the gradient flows through the local rows (the other ranks' rows
are constants here; their own rank sends their gradient).  Every rank then computes the same
global loss.  DDP *averages* the ranks' gradients, so each rank's share of the global loss
would arrive divided by W: ``ddp_mean_gradient(loss)`` keeps the loss value and multiplies its
gradient by W, making the update equal to one process holding the global batch.

Outside ``torch.distributed`` (or with one rank) both are the identity: no collective runs.
Ranks must hold the same number of rows (DDP with ``drop_last``: the train loader's default).
"""
from __future__ import annotations

import torch
import torch.distributed as dist


def world_size() -> int:
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def gather_with_grad(x: torch.Tensor) -> torch.Tensor:
    """All ranks' ``x`` concatenated on dim 0; gradients reach this rank's rows."""
    n = world_size()
    if n == 1:
        return x
    parts = [torch.empty_like(x) for _ in range(n)]
    dist.all_gather(parts, x.detach().contiguous())
    parts[dist.get_rank()] = x
    return torch.cat(parts)


def ddp_mean_gradient(loss: torch.Tensor) -> torch.Tensor:
    """Same value, gradient x world size (undoes DDP's averaging for a loss every rank computes whole)."""
    n = world_size()
    if n == 1:
        return loss
    return loss * n - loss.detach() * (n - 1)
