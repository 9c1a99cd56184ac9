"""The generative tasks' decoders can decode: more than a thumbnail of the last feature map, and
future frames from the end of the clip."""
from __future__ import annotations

import pytest
import torch

from evovideo.factory import create_model
from evovideo.tasks import TASKS, Features, TaskInputs
from evovideo.tasks.generative import decoder_input


@pytest.fixture(scope="module")
def encoders():
    torch.manual_seed(0)
    return torch.nn.ModuleDict({"rgb": create_model("test_r2plus1d")})


def test_reconstruction_decoder_paints_finer_than_the_feature_map(encoders):
    """The tiny student's last map is 1x2x2; a 4x4 checkerboard of 8-pixel cells cannot be drawn by
    1x1 convolutions + trilinear upsampling of a 2x2 map (the old decoder: MSE stayed ~ the target's
    variance).  Fitting the decoder alone to one fixed feature map must get well below it."""
    torch.manual_seed(0)
    task = TASKS.create("reconstruction", modalities=("rgb",), encoders=encoders, skip=None)
    cells = (torch.arange(32) // 8)
    board = ((cells[:, None] + cells[None, :]) % 2).float() * 2 - 1  # (32, 32) in {-1, 1}
    target = board.expand(1, 3, 8, 32, 32).contiguous()
    fmap = torch.randn(1, 48, 1, 2, 2)
    batch = {"rgb": target}
    features = {"rgb": Features(fmap=fmap, pooled=fmap.flatten(2).mean(-1))}
    opt = torch.optim.Adam(task.parameters(), lr=3e-3)
    for step in range(80):
        loss = task(TaskInputs(batch, features, encoders, torch.Generator().manual_seed(step)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.25 * target.var().item()


def test_future_is_predicted_from_the_last_time_slices(encoders):
    """Future frame 1 follows the clip's last frames: the first time slice of the feature map must
    not move the prediction (the old decoder stretched the clip's time axis onto the future)."""
    torch.manual_seed(0)
    task = TASKS.create("future_prediction", modalities=("rgb",), encoders=encoders, skip=None).eval()
    clip = torch.randn(2, 3, 8, 32, 32)
    batch = {"rgb": clip, "rgb_future": torch.randn(2, 3, 2, 32, 32)}
    fmap = torch.randn(2, 48, 4, 2, 2)

    def predict(f):
        feats = {"rgb": Features(fmap=f, pooled=f.flatten(2).mean(-1))}
        inputs = TaskInputs(batch, feats, encoders, torch.Generator().manual_seed(0))
        with torch.no_grad():
            return task(inputs)

    first, last = fmap.clone(), fmap.clone()
    first[:, :, 0] += 5.0
    last[:, :, -1] += 5.0
    assert torch.equal(predict(first), predict(fmap))
    assert not torch.equal(predict(last), predict(fmap))


def test_decoders_pass_a_frame_wide_term_from_the_spatial_mean(encoders):
    """The per-frame mean optical flow is ~60% of the synthetic set's flow variance.  With only the
    local upsampling stages, rgb->flow transfer stayed at the mean (L2 1.00) through 2,000 steps of the
    tiny student; a linear path from the map's spatial mean to every pixel of the frame is what
    lets the encoder's features carry it (see ``evovideo bench tasks``).  With the local path
    silenced, the output must still follow the input's per-frame mean."""
    task = TASKS.create("cross_modal_transfer", modalities=("rgb", "flow"), encoders=encoders, skip=None)
    dec = task.decoder
    with torch.no_grad():
        dec.out.weight.zero_()
        dec.out.bias.zero_()
    fmap = torch.zeros(2, 48, 2, 2, 2)
    fmap[0, :, 0] = torch.randn(48, 1, 1)  # sample 0: features only in its first time slice
    out = dec(fmap, (8, 32, 32))
    assert out.shape == (2, 2, 8, 32, 32)
    assert torch.allclose(out, out.mean((-2, -1), keepdim=True).expand_as(out))  # frame-wide
    assert (out[0] - out[1]).abs().amax() > 1e-3  # follows the input
    assert (out[0, :, 0] - out[0, :, -1]).abs().amax() > 1e-3  # per frame, not one constant
    loss = out[0].pow(2).mean()
    loss.backward()
    assert dec.glob.weight.grad.abs().sum() > 0


def _tiny_batch_features(encoders, batch_size=16):
    torch.manual_seed(0)
    x = torch.randn(batch_size, 3, 8, 32, 32)
    with torch.no_grad():
        maps = encoders["rgb"].forward_intermediates(x)
    last = maps[encoders["rgb"].feature_layers[-1]]
    return x, Features(fmap=last, pooled=last.flatten(2).mean(-1), taps={"layer2": maps["layer2"]})


def test_transfer_decoder_costs_a_fraction_of_the_full_resolution_one(encoders):
    """The rgb->flow decoder was 7.5 GFLOP forward per batch of 16 clips (two 3x3x3 stages with 64
    and 32 channels at 8x16x16 and 8x32x32), 17x the student's forward (0.43) and nine times the
    student and flow tower together: a candidate with transfer > 0 took 3.5x as long in the search.
    It now predicts flow at half resolution with 32 channels: 0.98 GFLOP (2.3x the student)."""
    x, feats = _tiny_batch_features(encoders)
    batch = {"rgb": x, "flow": torch.randn(16, 2, 8, 32, 32)}
    student = _flops(lambda: encoders["rgb"].forward_features(x))
    default = _task_flops(encoders, "cross_modal_transfer", ("rgb", "flow"), batch, feats)
    full = _task_flops(encoders, "cross_modal_transfer", ("rgb", "flow"), batch, feats, hidden=64, target_scale=1)
    assert default <= 0.25 * full
    assert default <= 2.5 * student


def test_reconstruction_can_decode_at_half_resolution_for_a_fraction_of_the_cost(encoders):
    """rgb/reconstruction decodes the full-resolution input with 64 channels (7.6 GFLOP per batch of
    16, 18x the student: it set the pace of every search candidate that had it).  target_scale=2,
    hidden=32 decodes the 2x2-pooled input for <= 1/4 of that; the default is unchanged."""
    x, feats = _tiny_batch_features(encoders)
    batch = {"rgb": x}
    student = _flops(lambda: encoders["rgb"].forward_features(x))
    full = _task_flops(encoders, "reconstruction", ("rgb",), batch, feats)
    half = _task_flops(encoders, "reconstruction", ("rgb",), batch, feats, hidden=32, target_scale=2)
    assert full >= 10 * student  # the default: full resolution, as before
    assert half <= 0.25 * full and half <= 2.5 * student
    task = TASKS.create("reconstruction", modalities=("rgb",), encoders=encoders, hidden=32, target_scale=2)
    pooled = x.reshape(16, 3, 8, 16, 2, 16, 2).mean((4, 6))
    pred = task.decoder(decoder_input(feats, "layer2"), pooled.shape[2:])
    loss = task(TaskInputs(batch, {"rgb": feats}, encoders, torch.Generator().manual_seed(0)))
    assert torch.allclose(loss, (pred - pooled).pow(2).mean(), rtol=1e-4)  # L2 to the pooled input
    with pytest.raises(ValueError, match="power of 2"):
        TASKS.create("reconstruction", modalities=("rgb",), encoders=encoders, target_scale=3)


def _flops(fn) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as count:
        fn()
    return count.get_total_flops()


def _task_flops(encoders, name, modalities, batch, feats, **kw) -> int:
    task = TASKS.create(name, modalities=modalities, encoders=encoders, **kw)
    return _flops(lambda: task(TaskInputs(batch, {"rgb": feats}, encoders, torch.Generator().manual_seed(0))))


def test_transfer_target_is_pooled_flow_standardised(encoders):
    """target_scale=2 averages 2x2 pixels, then standardises per channel; 1 keeps full resolution."""
    flow = torch.randn(4, 2, 8, 32, 32) * 0.05 + 0.3
    half = TASKS.create("cross_modal_transfer", modalities=("rgb", "flow"), encoders=encoders)
    full = TASKS.create("cross_modal_transfer", modalities=("rgb", "flow"), encoders=encoders, target_scale=1)
    t = half.target({"flow": flow})
    assert t.shape == (4, 2, 8, 16, 16)
    pooled = flow.reshape(4, 2, 8, 16, 2, 16, 2).mean((4, 6))
    expect = (pooled - pooled.mean((0, 2, 3, 4), keepdim=True)) / pooled.std((0, 2, 3, 4), keepdim=True)
    assert torch.allclose(t, expect, atol=1e-5)
    assert full.target({"flow": flow}).shape == (4, 2, 8, 32, 32)
    _, feats = _tiny_batch_features(encoders, 4)
    out = half.predict(feats, t.shape[2:])
    assert out.shape == t.shape
    with pytest.raises(ValueError, match="power of 2"):
        TASKS.create("cross_modal_transfer", modalities=("rgb", "flow"), encoders=encoders, target_scale=3)
