"""Each pure loss alone: known values on tiny tensors, and optimising random inputs lowers it."""
from __future__ import annotations

import math

import pytest
import torch

from evovideo.tasks.losses import (
    binary_logistic_loss,
    distillation_loss,
    info_nce_loss,
    l2_loss,
    triplet_margin_loss,
)

E = torch.eye(2)  # two orthonormal embeddings


def test_l2_known_value_and_shape_check():
    assert l2_loss(torch.tensor([1.0, 2.0]), torch.zeros(2)).item() == pytest.approx(2.5)
    with pytest.raises(ValueError, match="differ"):
        l2_loss(torch.zeros(2, 3), torch.zeros(3, 2))


def test_binary_logistic_known_values():
    assert binary_logistic_loss(torch.zeros(4), torch.tensor([1, 0, 1, 0])).item() == pytest.approx(math.log(2))
    confident = binary_logistic_loss(torch.tensor([20.0, -20.0]), torch.tensor([1.0, 0.0]))
    assert confident.item() < 1e-6


def test_triplet_known_values():
    assert triplet_margin_loss(E, E, margin=0.2).item() == pytest.approx(0.0)  # positives win by 1 > margin
    swapped = E.flip(0)  # each clip's positive is orthogonal, its negative identical
    assert triplet_margin_loss(E, swapped, margin=0.2).item() == pytest.approx(1.2)
    with pytest.raises(ValueError, match="at least 2"):
        triplet_margin_loss(E[:1], E[:1])


def test_info_nce_known_value():
    expected = math.log(1 + math.exp(-1.0))  # logits [[1, 0], [0, 1]] at temperature 1
    assert info_nce_loss(E, E, temperature=1.0).item() == pytest.approx(expected, rel=1e-5)


def test_distillation_known_value_and_teacher_detached():
    student = torch.ones(2, 3, requires_grad=True)
    teacher = torch.zeros(2, 3, requires_grad=True)
    loss = distillation_loss(student, teacher)
    assert loss.item() == pytest.approx(1.0)
    loss.backward()
    assert teacher.grad is None and student.grad is not None




LOSSES = {
    "l2": (lambda p: l2_loss(p[0], p[1]), [(8, 5), (8, 5)]),
    "binary_logistic": (lambda p: binary_logistic_loss(p[0], (torch.arange(16) % 2).float()), [(16,)]),
    "triplet": (lambda p: triplet_margin_loss(p[0], p[1]), [(8, 6), (8, 6)]),
    "info_nce": (lambda p: info_nce_loss(p[0], p[1]), [(8, 6), (8, 6)]),
    "distillation": (lambda p: distillation_loss(p[0], torch.ones(4, 3, 2)), [(4, 3, 2)]),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_optimising_random_inputs_lowers_the_loss(name):
    fn, shapes = LOSSES[name]
    params = [torch.randn(*s, requires_grad=True) for s in shapes]
    opt = torch.optim.Adam(params, lr=0.05)
    start = fn(params).item()
    for _ in range(100):
        opt.zero_grad()
        loss = fn(params)
        loss.backward()
        opt.step()
    end = fn(params).item()
    assert end < 0.5 * start, f"{name}: {start:.4f} -> {end:.4f}"



@pytest.mark.parametrize("name", ["triplet", "infonce"])
def test_contrastive_losses_compute_in_float32_under_bf16_autocast(name):
    """bf16-mixed training hands the losses bf16 embeddings: the loss must equal the float32 loss of
    those same values (before, the similarity matmul ran in bf16 and was off by ~1e-2)."""
    fn = {"triplet": lambda x, y: triplet_margin_loss(x, y, 0.2), "infonce": lambda x, y: info_nce_loss(x, y, 0.05)}[name]
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(32, 128, generator=g).bfloat16(), torch.randn(32, 128, generator=g).bfloat16()
    exact = fn(a.float(), b.float())
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed = fn(a, b)
    assert mixed.dtype == torch.float32
    assert mixed.item() == pytest.approx(exact.item(), rel=1e-6, abs=1e-7)
