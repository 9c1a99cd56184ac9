"""RAFT flow: only from local weights (never a download), same output contract as OpenCV's."""
from __future__ import annotations

import pytest
import torch

from evovideo.modalities import FlowCache, FlowGrid, FlowSettings, compute_flow


def _no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("evovideo tried to download RAFT weights")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", refuse)
    monkeypatch.setattr(torch.hub, "download_url_to_file", refuse)


def test_missing_weights_say_how_to_provide_them(tmp_path, monkeypatch):
    _no_network(monkeypatch)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    frames = torch.zeros(1, 16, 16, 3, dtype=torch.uint8)
    with pytest.raises(FileNotFoundError, match="never downloads them.*raft_small_C_T_V2-01064c6d.pth"):
        compute_flow(frames, frames, FlowSettings("raft_small", params={"device": "cpu"}))


@pytest.mark.timeout(120)
def test_raft_from_a_local_file_gives_bounded_flow_of_the_frame_size(tmp_path, monkeypatch):
    from torchvision.models.optical_flow import raft_small

    _no_network(monkeypatch)
    weights = tmp_path / "raft_small.pth"
    torch.manual_seed(0)
    torch.save(raft_small(weights=None).state_dict(), weights)  # random init: the contract, not the quality
    g = torch.Generator().manual_seed(0)
    frames = torch.randint(0, 255, (3, 20, 28, 3), dtype=torch.uint8, generator=g)  # not multiples of 8
    settings = FlowSettings("raft_small", bound=20.0, params={"weights": str(weights), "device": "cpu", "iters": 2})
    flow = compute_flow(frames, frames.roll(2, dims=2), settings)
    assert flow.shape == (2, 3, 20, 28) and flow.dtype == torch.float32
    assert flow.abs().max() <= 1.0 and torch.isfinite(flow).all()
    # the device a cache was filled on is not part of its key
    gpu = FlowSettings("raft_small", params={"weights": str(weights), "device": "cuda", "iters": 2})
    assert FlowCache.key("v.mp4", FlowGrid(0.16, 128), settings) == FlowCache.key("v.mp4", FlowGrid(0.16, 128), gpu)
