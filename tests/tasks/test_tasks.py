"""Every registered task: forward/backward on tiny tensors through the real tiny encoders;
term-name parsing; the time transforms; distillation shapes."""
from __future__ import annotations

import pytest
import torch

from evovideo.models import create_model
from evovideo.tasks import TASKS, Distiller, Features, RecipeError, TaskInputs, parse_distill_term, parse_task_term
from evovideo.tasks.temporal import reverse_time, shuffle_chunks

B = 3
ENCODERS = {"rgb": "test_r2plus1d", "flow": "test_flow", "gray": "test_gray", "audio": "test_audio"}


@pytest.fixture(scope="module")
def encoders():
    torch.manual_seed(0)
    return torch.nn.ModuleDict({m: create_model(n) for m, n in ENCODERS.items()})


def make_batch(b: int = B) -> dict:
    g = torch.Generator().manual_seed(1)
    return {
        "rgb": torch.randn(b, 3, 8, 32, 32, generator=g),
        "gray": torch.randn(b, 1, 8, 32, 32, generator=g),
        "flow": torch.randn(b, 2, 8, 32, 32, generator=g),
        "audio": torch.randn(b, 1, 64, 80, generator=g),
        "audio_shifted": torch.randn(b, 1, 64, 80, generator=g),
        "rgb_future": torch.randn(b, 3, 4, 32, 32, generator=g),
        "has_audio": torch.tensor([True] * (b - 1) + [False]),
    }


TERMS = [
    ("rgb/reconstruction", {}),
    ("audio/reconstruction", {}),
    ("rgb/future_prediction", {}),
    ("rgb->flow/cross_modal_transfer", {}),
    ("gray->rgb/cross_modal_transfer", {}),
    ("rgb/temporal_order", {}),
    ("audio/temporal_order", {}),
    ("flow/arrow_of_time", {}),
    ("flow-rgb/cross_modal_embedding", {}),
    ("audio-rgb/cross_modal_embedding", {"loss": "infonce"}),
    ("audio-rgb/temporal_alignment", {}),
]


@pytest.mark.parametrize("key,kwargs", TERMS, ids=[t[0] for t in TERMS])
def test_task_forward_backward(key, kwargs, encoders):
    spec = parse_task_term(key)
    task = TASKS.create(spec.task, modalities=spec.modalities, encoders=encoders, **kwargs)
    batch = make_batch()
    cls = TASKS.get(spec.task)
    assert set(cls.batch_keys(spec.modalities)) <= set(batch)
    encoders.zero_grad()
    features = {}
    for m in cls.feature_modalities(spec.modalities):
        fmap = encoders[m].forward_features(batch[m])
        features[m] = Features(fmap=fmap, pooled=encoders[m].pool(fmap))
    loss = task(TaskInputs(batch, features, encoders, torch.Generator().manual_seed(0)))
    assert loss.dim() == 0 and torch.isfinite(loss) and loss.item() > 0
    loss.backward()
    assert all(p.grad is not None for p in task.parameters()), "every head parameter gets a gradient"
    for m in cls.feature_modalities(spec.modalities):
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in encoders[m].parameters())


def test_all_seven_tasks_registered():
    assert set(TASKS.list()) >= {
        "reconstruction", "future_prediction", "cross_modal_transfer", "temporal_order",
        "arrow_of_time", "cross_modal_embedding", "temporal_alignment",
    }


@pytest.mark.parametrize("key,match", [
    ("rgb/recon", "unknown task 'recon'.*known: .*reconstruction"),
    ("rbg/reconstruction", "unknown modality 'rbg'; known: rgb, flow, gray, audio"),
    ("rgb-flow/cross_modal_transfer", "written like 'rgb->flow/cross_modal_transfer'"),
    ("rgb/cross_modal_embedding", "written like 'audio-rgb/cross_modal_embedding'"),
    ("rgb->audio/cross_modal_transfer", "video modalities"),
    ("audio/future_prediction", "video modality"),
    ("rgb-rgb/temporal_alignment", "must differ"),
    ("reconstruction", "'<modalities>/<task>'"),
])
def test_bad_term_names(key, match):
    with pytest.raises(RecipeError, match=match) as info:
        parse_task_term(key)
    assert f"tasks['{key}']" in str(info.value)


def test_distill_term_names():
    d = parse_distill_term("audio:layer4->layer3")
    assert (d.modality, d.tower_layer, d.student_layer) == ("audio", "layer4", "layer3")
    assert parse_distill_term("flow:layer3").student_layer == "layer3"
    with pytest.raises(RecipeError, match="unknown tower modality 'rgb'"):
        parse_distill_term("rgb:layer3")


def test_shuffle_chunks_is_a_non_identity_permutation():
    x = torch.arange(8.0).view(1, 1, 8, 1, 1).repeat(16, 1, 1, 2, 2)
    out = shuffle_chunks(x, 2, 4, torch.Generator().manual_seed(0))
    for row in out[:, 0, :, 0, 0]:
        assert sorted(row.tolist()) == list(range(8))
        assert row.tolist() != list(range(8))
        assert all(row[i + 1] - row[i] == 1 for i in range(0, 8, 2))  # chunks of 2 frames stay whole


def test_reverse_time_negates_flow_only():
    x = torch.arange(4.0).view(1, 1, 4, 1, 1)
    assert reverse_time(x, "rgb").flatten().tolist() == [3, 2, 1, 0]
    assert reverse_time(x, "flow").flatten().tolist() == [-3, -2, -1, -0]
    a = torch.arange(3.0).view(1, 1, 1, 3)
    assert reverse_time(a, "audio").flatten().tolist() == [2, 1, 0]


def test_distiller_shapes_and_projection():
    video = Distiller(16, 32, tower_is_audio=False)
    loss = video(torch.randn(2, 16, 4, 8, 8), torch.randn(2, 32, 2, 4, 4))
    assert loss.dim() == 0
    assert isinstance(Distiller(8, 8, False).proj, torch.nn.Identity)
    audio = Distiller(16, 64, tower_is_audio=True)
    assert audio(torch.randn(2, 16, 4, 8, 8), torch.randn(2, 64, 8, 12)).dim() == 0
