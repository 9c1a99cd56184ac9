"""Pure loss functions of the ELo tasks; each is tested alone (tests/tasks/test_losses.py).

No modules, no state, no process groups: tensors in, a scalar out.  The tasks in this folder
are thin wrappers that build inputs (decoded clips, shuffled clips, embeddings) and call these.

Every loss computes in float32, also under bf16 / fp16 autocast (``precision: bf16-mixed``):
the inputs are cast up and autocast is off inside, so similarities, margins and log-softmax
are never rounded to 8 mantissa bits.
"""
from __future__ import annotations

import functools

import torch
import torch.nn.functional as F


def float32_loss(fn):
    """Run ``fn`` with autocast off and its floating tensor arguments cast to float32."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        up = [a.float() if isinstance(a, torch.Tensor) and a.is_floating_point() else a for a in args]
        device = next((a.device.type for a in up if isinstance(a, torch.Tensor)), "cpu")
        if not torch.amp.is_autocast_available(device):  # e.g. meta tensors (memory benchmark)
            return fn(*up, **kwargs)
        with torch.autocast(device_type=device, enabled=False):
            return fn(*up, **kwargs)

    return wrapper


@float32_loss
def l2_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error ``mean((pred - target)^2)``: reconstruction, future and cross-modal
    prediction.  Shapes must match exactly (no silent broadcasting)."""
    if pred.shape != target.shape:
        raise ValueError(f"l2_loss: pred {tuple(pred.shape)} and target {tuple(target.shape)} differ")
    return F.mse_loss(pred, target)


@float32_loss
def binary_logistic_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy on logits ``(N,)`` with targets in {0, 1}: temporal order, arrow of
    time, temporal alignment (positive = ordered / forward / aligned)."""
    return F.binary_cross_entropy_with_logits(logits.reshape(-1), targets.reshape(-1).to(logits.dtype))


@float32_loss
def triplet_margin_loss(a: torch.Tensor, b: torch.Tensor, margin: float = 0.2) -> torch.Tensor:
    """Max-margin ranking loss between paired embeddings ``a, b: (B, D)`` (ELo's cross-modal
    embedding).  With cosine similarity ``s``, every other clip in the batch is a negative::

        L = mean_{i != j} [ relu(margin - s(a_i, b_i) + s(a_i, b_j))
                          + relu(margin - s(a_i, b_i) + s(a_j, b_i)) ] / 2
    """
    n = a.shape[0]
    if n < 2:
        raise ValueError("triplet_margin_loss needs a batch of at least 2 (other clips are the negatives)")
    sim = F.normalize(a, dim=-1) @ F.normalize(b, dim=-1).t()  # (B, B)
    pos = sim.diagonal().unsqueeze(1)  # (B, 1)
    off = 1.0 - torch.eye(n, dtype=sim.dtype, device=sim.device)  # a mask, not indexing: no data-dependent shapes
    a_to_b = (F.relu(margin - pos + sim) * off).sum()  # anchor a_i, negatives b_j
    b_to_a = (F.relu(margin - pos.t() + sim) * off).sum()  # anchor b_j, negatives a_i
    return 0.5 * (a_to_b + b_to_a) / (n * (n - 1))


@float32_loss
def info_nce_loss(a: torch.Tensor, b: torch.Tensor, temperature: float = 0.1) -> torch.Tensor:
    """Symmetric InfoNCE (CLIP-style) between paired embeddings ``a, b: (B, D)``: cross-entropy
    of each clip against the batch, on cosine similarities divided by ``temperature``."""
    logits = F.normalize(a, dim=-1) @ F.normalize(b, dim=-1).t() / temperature  # (B, B)
    target = torch.arange(a.shape[0], device=a.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target))


def distillation_loss(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """ELo's ``L_d = ||L_i - M_i||_2`` between a tower's layer and the student's, as the squared
    L2 distance averaged over elements (so its size does not depend on the layer's shape).

    The teacher side is detached: distillation moves the student, never the tower.
    """
    return l2_loss(student, teacher.detach())
