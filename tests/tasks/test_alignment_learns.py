"""Temporal alignment must learn synchrony where there is some: clips whose sounds follow visible
flashes (``evovideo.bench.probe_clips.event_clips``), fresh clips every step.  The old head (an MLP
on the two towers' pooled last maps) stayed at chance on such clips through 1,000 steps (48%); the
time-course head reaches 68-87% held out after 400 steps at 16 px (seeds 0 / 1 / 2 measured)."""
from __future__ import annotations

import pytest
import torch

from evovideo.bench.probe_clips import batches, event_clips, event_stream
from evovideo.bench.tasks import _train, evaluate
from evovideo.lightning import PretrainModule

TERM = "audio-rgb/temporal_alignment"


@pytest.mark.slow
def test_alignment_learns_when_sounds_follow_visible_events():
    torch.manual_seed(0)
    held = batches(event_clips(96, seed=2, size=16), 16)
    module = PretrainModule(student="test_r2plus1d", towers={"audio": "test_audio"}, tasks={TERM: 1.0}, seed=0, lr=3e-3)
    _train(module, event_stream(1, 16, size=16), 400, 3e-3)  # 16 px: 4x cheaper; fixed clips are memorised
    metric, accuracy, chance = evaluate(module, TERM, held)
    assert metric.startswith("accuracy") and chance == 0.5
    assert accuracy > 0.6, f"held-out alignment accuracy {accuracy:.3f} (chance 0.5)"


def test_alignment_alone_trains_every_layer_it_reads_and_the_towers_deeper_layers():
    """The course reads every layer from the tap on that keeps a time axis: alignment alone trains the
    audio tower to its last layer (a distillation term from audio:layer4 then reads trained
    features) and the tiny student to layer3 (its layer4 map has one time step)."""
    module = PretrainModule(student="test_r2plus1d", towers={"audio": "test_audio"}, tasks={TERM: 1.0}, seed=0)
    task = module.tasks[TERM]
    assert task.layers_a == ["layer2", "layer3", "layer4"] and task.layers_b == ["layer1", "layer2", "layer3"]
    batch = event_clips(4, seed=0)
    torch.stack(list(module.compute_losses(batch).values())).sum().backward()
    for name in ("layer4", "layer3", "stem"):
        assert all(p.grad is not None for p in getattr(module.encoders["audio"], name).parameters()), name
    for name in ("layer3", "layer1", "stem"):
        assert all(p.grad is not None for p in getattr(module.encoders["rgb"], name).parameters()), name
    assert all(p.grad is not None for p in task.parameters())
    assert task.scale.grad[1] != 0  # the deep courses get a gradient through their gate from the first step
