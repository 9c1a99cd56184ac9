"""The generative tasks' decoders can decode: more than a thumbnail of the last feature map, and
future frames from the end of the clip."""
from __future__ import annotations

import pytest
import torch

from evovideo.factory import create_model
from evovideo.tasks import TASKS, Features, TaskInputs


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
