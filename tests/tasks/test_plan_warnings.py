"""A tower that no active term reads is dropped with a warning, not silently."""
from __future__ import annotations

import logging

from evovideo.tasks.plan import make_plan


def test_unused_tower_is_dropped_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING):
        plan = make_plan("test_r2plus1d", {"flow": "test_flow", "gray": "test_gray"},
                         {"rgb/reconstruction": 1.0, "flow/arrow_of_time": 0.0}, {"gray:layer3": 0.5}, {})
    assert set(plan.encoder_names) == {"rgb", "gray"}
    message = " ".join(r.getMessage() for r in caplog.records)
    assert "towers flow: test_flow: no task or distill term with a weight > 0 reads flow" in message
    assert "gray" not in message.split("reads")[1]


def test_used_towers_give_no_warning(caplog):
    with caplog.at_level(logging.WARNING):
        make_plan("test_r2plus1d", {"flow": "test_flow"}, {"flow/arrow_of_time": 1.0}, {}, {})
    assert not caplog.records


def test_a_tower_only_alignment_reads_runs_once_per_step():
    """`audio-rgb/temporal_alignment` runs the audio tower itself (the clip's audio and its shifted
    window in one forward); when no other term reads audio, the step must not also run the tower
    on the clip's audio for nothing (it did: two audio forwards per step, one thrown away)."""
    import torch

    from evovideo.lightning import PretrainModule

    module = PretrainModule(student="test_r2plus1d", towers={"audio": "test_audio"},
                            tasks={"audio-rgb/temporal_alignment": 1.0, "rgb/reconstruction": 1.0})
    assert "audio" in module.encoders  # built and trained, by the task's own forward
    batches = []
    first = module.encoders["audio"].named_layers()[0][1]
    first.register_forward_hook(lambda mod, args, out: batches.append(args[0].shape[0]))
    g = torch.Generator().manual_seed(0)
    batch = {"rgb": torch.randn(4, 3, 8, 32, 32, generator=g), "audio": torch.randn(4, 1, 64, 80, generator=g),
             "audio_shifted": torch.randn(4, 1, 64, 80, generator=g), "has_audio": torch.ones(4, dtype=torch.bool)}
    losses = module.compute_losses(batch)
    assert batches == [8], f"audio tower forwards per step (batch sizes): {batches}; want one of 2 x 4"
    sum(losses.values()).backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in module.encoders["audio"].parameters())
