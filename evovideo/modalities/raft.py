"""RAFT optical flow (torchvision) on a GPU, from weights already on disk: never downloaded.

``flow_method: raft_small`` or ``raft_large`` with ``params: {weights: /path/to.pth, device: cuda,
iters: 12}``.  Without ``weights`` the file torchvision would download is looked up in the torch
hub cache (``$TORCH_HOME/hub/checkpoints/``); if it is not there the error says how to put it
there from a machine with network.  ``device`` and ``batch`` do not change the flow, so they are
not part of the cache key (a cache filled on a GPU serves CPU training).  Frames are padded
(replicating the border) to a multiple of 8 and at least 128 px (RAFT's correlation pyramid)
and the flow cropped back.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import torch
import torch.nn.functional as F

RAFT_METHODS = ("raft_small", "raft_large")
RUNTIME_PARAMS = ("device", "batch")  # how, not what: left out of the cache key


def _weights_enum(method: str):
    from torchvision.models.optical_flow import Raft_Large_Weights, Raft_Small_Weights

    return {"raft_small": Raft_Small_Weights, "raft_large": Raft_Large_Weights}[method].DEFAULT


def weights_path(method: str, weights: str | None = None) -> Path:
    """The local weights file of ``method``; FileNotFoundError (saying how to get it) if absent."""
    enum = _weights_enum(method)
    path = Path(weights) if weights else Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(enum.url)
    if not path.is_file():
        raise FileNotFoundError(
            f"{method} weights not found at {path}; evovideo never downloads them.  On a machine with network run "
            f"`python -c \"from torchvision.models.optical_flow import {type(enum).__name__} as W; "
            f"W.DEFAULT.get_state_dict(progress=True)\"`, copy ~/.cache/torch/hub/checkpoints/{os.path.basename(enum.url)} "
            f"here, and pass its path as flow params {{weights: /path/to/file.pth}} (or put it at {path}); "
            "or use flow_method tvl1 / dis / farneback (CPU)")
    return path


@lru_cache(maxsize=4)
def _model(method: str, path: str, device: str) -> torch.nn.Module:
    from torchvision.models.optical_flow import raft_large, raft_small

    model = {"raft_small": raft_small, "raft_large": raft_large}[method](weights=None, progress=False)
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model.eval().to(device)


@torch.inference_mode()
def raft_flow(frames: torch.Tensor, next_frames: torch.Tensor, method: str, params: dict) -> torch.Tensor:
    """(T, H, W, 3) uint8 pairs -> (T, 2, H, W) float32 flow in pixels (dx, dy)."""
    p = dict(params)
    device = p.pop("device", "cuda" if torch.cuda.is_available() else "cpu")
    batch = int(p.pop("batch", 8))
    iters = int(p.pop("iters", 12))
    path = weights_path(method, p.pop("weights", None))
    if p:
        raise ValueError(f"unknown {method} flow params {sorted(p)}; known: weights, device, iters, batch")
    model = _model(method, str(path), str(device))
    T, H, W, _ = frames.shape
    ph, pw = max(128, H + (-H) % 8) - H, max(128, W + (-W) % 8) - W
    out = []
    for lo in range(0, T, batch):
        a, b = (x[lo:lo + batch].to(device).permute(0, 3, 1, 2).float() / 127.5 - 1.0 for x in (frames, next_frames))
        if ph or pw:
            a, b = F.pad(a, (0, pw, 0, ph), mode="replicate"), F.pad(b, (0, pw, 0, ph), mode="replicate")
        out.append(model(a, b, num_flow_updates=iters)[-1][:, :, :H, :W].float().cpu())  # (n, 2, H, W)
    return torch.cat(out)
