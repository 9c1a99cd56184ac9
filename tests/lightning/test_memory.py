"""Activation checkpointing (same step, less memory) and the memory benchmark's counting."""
from __future__ import annotations

import pytest
import torch

from evovideo.bench.memory import example_batch, measure
from evovideo.lightning.pretrain import PretrainModule
from evovideo.tasks import RecipeError

MODEL = dict(student="test_r2plus1d", towers={"flow": "test_flow", "audio": "test_audio"},
             tasks={"rgb/reconstruction": 0.5, "rgb/arrow_of_time": 0.5, "flow-rgb/cross_modal_embedding": 0.5,
                    "audio-rgb/temporal_alignment": 0.5},
             distill={"flow:layer3": 0.5})
DATA = dict(num_frames=4, size=16, stride=2, frame_rate=25.0, n_mels=16)


def _step(checkpointing):
    torch.manual_seed(0)
    module = PretrainModule(**MODEL, checkpointing=checkpointing).train()
    batch = example_batch(module.required_keys, DATA, 3, "cpu")
    loss = torch.stack(list(module.compute_losses(batch).values())).sum()
    loss.backward()
    grads = {n: p.grad.clone() for n, p in module.named_parameters() if p.grad is not None}
    return module, loss.detach(), grads


def test_checkpointing_gives_the_same_step_and_batchnorm_statistics():
    plain, loss, grads = _step(None)
    ckpt, loss_c, grads_c = _step(["rgb", "flow", "audio"])
    assert torch.allclose(loss, loss_c, rtol=1e-5)
    assert grads.keys() == grads_c.keys()
    for name in grads:
        assert torch.allclose(grads[name], grads_c[name], rtol=1e-4, atol=1e-6), name
    # the recomputation in backward must not update BatchNorm a second time
    for (name, a), b in zip(plain.named_buffers(), ckpt.buffers()):
        assert torch.equal(a, b), name


def test_checkpointing_keeps_less_for_backward():
    kw = dict(data=DATA, device="cpu", bf16=False, batch_sizes=(2, 4))
    plain = measure({**MODEL}, **kw)
    ckpt = measure({**MODEL, "checkpointing": ["rgb", "flow", "audio"]}, **kw)
    assert ckpt["per_clip"] < 0.5 * plain["per_clip"]


def test_shape_only_count_equals_the_real_one():
    """--device meta (no compute) counts exactly what a real CPU step keeps for backward."""
    torch.manual_seed(0)
    kw = dict(data=DATA, bf16=False, batch_sizes=(2, 3))
    meta, cpu = measure(MODEL, device="meta", **kw), measure(MODEL, device="cpu", **kw)
    assert meta["per_clip"] == cpu["per_clip"] and meta["params"] == cpu["params"]
    assert abs(meta["fixed"] - cpu["fixed"]) < 4096  # a few scalars (constants) are made on the CPU


def test_bf16_autocast_keeps_less_per_clip():
    kw = dict(data=DATA, device="cpu", batch_sizes=(2, 4))
    fp32, bf16 = measure(MODEL, bf16=False, **kw), measure(MODEL, bf16=True, **kw)
    assert bf16["per_clip"] < 0.75 * fp32["per_clip"]
    assert bf16["fixed"] > fp32["fixed"]  # the bf16 copies of the weights: per step, not per clip


def test_unknown_checkpointing_encoder_is_refused():
    with pytest.raises(RecipeError, match="checkpointing: no 'gray' encoder"):
        PretrainModule(**MODEL, checkpointing=["gray"])


def test_every_term_alone_builds_distillation_with_a_teacher(tmp_path):
    """`evovideo bench memory` measures each term alone: a distillation term alone reads a tower no
    active term trains, which PretrainModule refuses (random teacher), so the bench stopped at the
    paper recipe's first distillation row; as in a real run, the tower is now a frozen teacher."""
    from evovideo.bench.memory import term_models

    models = term_models(MODEL, tmp_path)
    assert set(models) == {*MODEL["tasks"], *MODEL["distill"]}
    assert models["flow:layer3"]["teachers"] == {"flow": f"local-dir:{tmp_path / 'flow'}"}
    row = measure(models["flow:layer3"], data=DATA, device="meta", bf16=False, batch_sizes=(2, 3))
    assert row["per_clip"] > 0
