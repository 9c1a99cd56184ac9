"""Optical flow between consecutive frames, computed with OpenCV and cached on disk.

Methods: ``tvl1`` (Dual TV-L1, ``cv2.optflow``, as in the ELo paper; slow), ``farneback`` and
``dis`` (fast).  Flow is clipped to ``[-bound, bound]`` pixels and divided by ``bound`` so it lies
in [-1, 1]; the cache stores it as int8 (1/127 steps).  OpenCV (``opencv-contrib-python-headless``, which
has ``cv2.optflow``) is a dependency of evovideo.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

log = logging.getLogger(__name__)

FLOW_METHODS = ("tvl1", "farneback", "dis")


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


class FlowCache:
    """Flow of one clip stored once under ``root``, keyed by file identity + clip + settings.

    The key hashes the file's absolute path, size and modification time, the clip's frame times,
    the frame size and the ``FlowSettings``; changing any of them computes (and stores) anew.
    Writes are atomic (temp file + rename), so several loader workers can share one folder.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(source: str, times: list[float], size: tuple[int, int], settings: FlowSettings) -> str:
        ident: dict = {"source": source}
        path = Path(source)
        if path.is_file():
            st = path.stat()
            ident = {"source": str(path.resolve()), "bytes": st.st_size, "mtime_ns": st.st_mtime_ns}
        ident.update(times=[round(float(t), 4) for t in times], size=list(size), settings=settings.to_dict())
        return hashlib.sha1(json.dumps(ident, sort_keys=True, default=str).encode()).hexdigest()

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.npy"

    def load(self, key: str) -> torch.Tensor | None:
        p = self.path(key)
        try:
            arr = np.load(p)
        except (OSError, ValueError):
            return None
        self.hits += 1
        return torch.from_numpy(arr.astype(np.float32) / 127.0)

    def store(self, key: str, flow: torch.Tensor) -> None:
        p = self.path(key)
        p.parent.mkdir(parents=True, exist_ok=True)
        q = np.round(flow.numpy() * 127.0).astype(np.int8)
        fd, tmp = tempfile.mkstemp(dir=p.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.save(fh, q)
            os.replace(tmp, p)
        except OSError as err:
            log.warning("could not write the flow cache file %s: %s", p, err)
            Path(tmp).unlink(missing_ok=True)

    def get_or_compute(self, key: str, frames: torch.Tensor, next_frames: torch.Tensor, settings: FlowSettings) -> torch.Tensor:
        flow = self.load(key)
        if flow is not None:
            return flow
        self.misses += 1
        flow = compute_flow(frames, next_frames, settings)
        self.store(key, flow)
        return torch.from_numpy(np.round(flow.numpy() * 127.0).astype(np.float32) / 127.0)
