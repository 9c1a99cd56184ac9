"""Every registered task: forward/backward on tiny tensors through the real tiny encoders;
term-name parsing; the time transforms; distillation shapes."""
from __future__ import annotations

import pytest
import torch

from evovideo.factory import create_model
from evovideo.tasks import TASKS, Distiller, Features, RecipeError, TaskInputs, parse_distill_term, parse_task_term
from evovideo.tasks.temporal import order_tuples, reverse_time

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
    taps = cls.taps(spec.modalities, kwargs)
    for m in cls.feature_modalities(spec.modalities):
        fmap = encoders[m].forward_features(batch[m])
        tapped = encoders[m].forward_intermediates(batch[m], taps[m]) if taps.get(m) else {}
        features[m] = Features(fmap=fmap, pooled=encoders[m].pool(fmap), taps=tapped)
    loss = task(TaskInputs(batch, features, encoders, torch.Generator().manual_seed(0)))
    assert loss.dim() == 0 and torch.isfinite(loss) and loss.item() > 0
    loss.backward()
    assert all(p.grad is not None for p in task.parameters()), "every head parameter gets a gradient"
    for m in cls.feature_modalities(spec.modalities) + cls.own_forward_modalities(spec.modalities):
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


def _auc(neg: torch.Tensor, pos: torch.Tensor) -> float:
    return float(((neg[:, None] > pos[None]).float() + 0.5 * (neg[:, None] == pos[None]).float()).mean())


@pytest.mark.parametrize("length", [8, 16])
def test_order_negatives_carry_no_cut_that_positives_lack(length):
    """A cut detector (largest jump of frame index, number of jumps) must not tell the temporal-order
    negatives from the positives: before, positives were the unmodified clip (no cut, AUC 1.0)."""
    x = torch.arange(float(length)).view(1, 1, length, 1, 1).repeat(1000, 1, 1, 2, 2)
    pos, neg = order_tuples(x, 2, 4, torch.Generator().manual_seed(0))
    jp, jn = (t[:, 0, :, 0, 0].diff(dim=1).abs() for t in (pos, neg))
    assert _auc((jn > 0).sum(1).float(), (jp > 0).sum(1).float()) == 0.5  # jumps at the same places
    assert _auc(jn.max(1).values, jp.max(1).values) < 0.6  # of the same sizes (measured 0.56 / 0.54)
    assert (jp.max(1).values > 1).float().mean() > 0.3  # positives do jump (skip frames) too
    for p, n in zip(pos[:, 0, :, 0, 0], neg[:, 0, :, 0, 0]):
        assert (p.diff() >= 0).all()  # positives play forwards
        assert not (n.diff() >= 0).all() and not (n.diff() <= 0).all()  # negatives neither way


class _Spy(torch.nn.Module):
    """Wraps an encoder and records the batch of every forward_features call."""

    def __init__(self, encoder):
        super().__init__()
        self.encoder, self.calls = encoder, []
        self.num_features = encoder.num_features

    def forward_features(self, x):
        self.calls.append(x.detach().clone())
        return self.encoder.forward_features(x)

    def forward_intermediates(self, x, layers=None):
        self.calls.append(x.detach().clone())
        return self.encoder.forward_intermediates(x, layers)

    def pool(self, fmap):
        return self.encoder.pool(fmap)


@pytest.mark.parametrize("key", ["rgb/temporal_order", "rgb/arrow_of_time", "audio-rgb/temporal_alignment"])
def test_time_tasks_see_positives_and_negatives_in_one_batchnorm_batch(key, encoders):
    """In train mode BatchNorm normalises by the batch: a forward of negatives alone lets the head
    tell the labels apart by batch statistics that eval mode does not have (measured: chance in eval
    mode).  The task must forward positives and negatives together, half and half."""
    spec = parse_task_term(key)
    task = TASKS.create(spec.task, modalities=spec.modalities, encoders=encoders)
    batch = make_batch()
    batch["has_audio"] = torch.ones(B, dtype=torch.bool)
    m = spec.modalities[0]
    spy = _Spy(encoders[m])
    features, taps = {}, TASKS.get(spec.task).taps(spec.modalities, {})
    for mod in spec.modalities:
        fmap = encoders[mod].forward_features(batch[mod])
        tapped = encoders[mod].forward_intermediates(batch[mod], taps[mod]) if taps.get(mod) else {}
        features[mod] = Features(fmap=fmap, pooled=encoders[mod].pool(fmap), taps=tapped)
    task(TaskInputs(batch, features, {**dict(encoders.items()), m: spy}, torch.Generator().manual_seed(0)))
    assert len(spy.calls) == 1 and spy.calls[0].shape[0] == 2 * B, "one forward over 2B clips"
    both = spy.calls[0]
    positives = batch[m] if key != "rgb/temporal_order" else both[:B]
    assert torch.equal(both[:B], positives)
    assert not torch.equal(both[B:], both[:B])


def test_order_tuples_need_three_frames():
    with pytest.raises(ValueError, match="num_frames"):
        order_tuples(torch.zeros(1, 1, 8, 1, 1), 2, 2, torch.Generator())


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
