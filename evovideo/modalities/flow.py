"""Optical flow between consecutive frames, computed with OpenCV (cached per video by
:mod:`evovideo.modalities.flow_cache`).

Methods: ``tvl1`` (Dual TV-L1, ``cv2.optflow``; slow: 0.73 CPU-s per frame pair at 256x340),
``farneback`` and ``dis`` (fast: 13 ms per pair), and on a GPU ``raft_small`` / ``raft_large``
(torchvision RAFT from weights on disk, never downloaded: :mod:`evovideo.modalities.raft`).  The ELo paper does not say which flow
algorithm it used (not confirmed; TV-L1 is the classic choice of its time, so it is the
default).  Flow is clipped to ``[-bound, bound]`` pixels and divided by ``bound`` so it lies in
[-1, 1]; the cache stores it as int8 (1/127 steps).  OpenCV (``opencv-contrib-python-headless``,
which has ``cv2.optflow``) is a dependency of evovideo.
"""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

log = logging.getLogger(__name__)

FLOW_METHODS = ("tvl1", "farneback", "dis", "raft_small", "raft_large")  # raft_*: GPU, local weights only


@dataclass(frozen=True)
class FlowSettings:
    """How flow is computed.  Every field is part of the cache key."""

    method: str = "tvl1"
    bound: float = 20.0  # pixels at the flow resolution; |flow| beyond this is clipped
    params: dict = field(default_factory=dict)  # passed to the OpenCV constructor / call

    def __post_init__(self) -> None:
        if self.method not in FLOW_METHODS:
            raise ValueError(f"unknown flow method '{self.method}'; choose from {', '.join(FLOW_METHODS)}")
        if self.bound <= 0:
            raise ValueError(f"flow bound must be > 0, got {self.bound}")

    def to_dict(self) -> dict:
        return asdict(self)

    def key_dict(self) -> dict:
        """What decides the flow values (the cache key): ``to_dict`` less RAFT's device / batch."""
        from evovideo.modalities.raft import RUNTIME_PARAMS

        d = self.to_dict()
        d["params"] = {k: v for k, v in d["params"].items() if k not in RUNTIME_PARAMS}
        return d


def _cv2():
    try:
        import cv2
    except ImportError as err:  # pragma: no cover - depends on the install
        raise ImportError(
            "optical flow needs OpenCV, a dependency of evovideo: `pip install opencv-contrib-python-headless`"
        ) from err
    return cv2


def _make_flow_fn(settings: FlowSettings):
    cv2 = _cv2()
    p = dict(settings.params)
    if settings.method == "tvl1":
        if not hasattr(cv2, "optflow"):
            raise ImportError(
                "TV-L1 flow needs opencv-contrib (cv2.optflow); another OpenCV package (opencv-python?) shadows it: "
                "`pip uninstall opencv-python opencv-python-headless && pip install opencv-contrib-python-headless`, "
                "or use flow_method='farneback' / 'dis'"
            )
        algo = cv2.optflow.DualTVL1OpticalFlow_create(**p)
        return lambda a, b: algo.calc(a, b, None)
    if settings.method == "dis":
        algo = cv2.DISOpticalFlow_create(p.pop("preset", cv2.DISOPTICAL_FLOW_PRESET_MEDIUM))
        return lambda a, b: algo.calc(a, b, None)
    fb = {"pyr_scale": 0.5, "levels": 3, "winsize": 15, "iterations": 3, "poly_n": 5, "poly_sigma": 1.2, "flags": 0}
    fb.update(p)
    return lambda a, b: cv2.calcOpticalFlowFarneback(a, b, None, **fb)


def compute_flow(frames: torch.Tensor, next_frames: torch.Tensor, settings: FlowSettings) -> torch.Tensor:
    """(T, H, W, 3) uint8 frames and the frame after each -> (2, T, H, W) float32 in [-1, 1]."""
    if settings.method.startswith("raft"):
        from evovideo.modalities.raft import raft_flow

        f = raft_flow(frames, next_frames, settings.method, settings.params).permute(1, 0, 2, 3)  # (2, T, H, W)
        return (f / settings.bound).clamp(-1.0, 1.0).contiguous()
    cv2 = _cv2()
    fn = _make_flow_fn(settings)
    out = np.empty((2, frames.shape[0], frames.shape[1], frames.shape[2]), np.float32)
    a_np, b_np = np.ascontiguousarray(frames.numpy()), np.ascontiguousarray(next_frames.numpy())
    for t in range(frames.shape[0]):
        a = cv2.cvtColor(a_np[t], cv2.COLOR_RGB2GRAY)
        b = cv2.cvtColor(b_np[t], cv2.COLOR_RGB2GRAY)
        f = fn(a, b)  # (H, W, 2): dx, dy
        out[:, t] = np.moveaxis(f, -1, 0)
    return torch.from_numpy(np.clip(out / settings.bound, -1.0, 1.0))
