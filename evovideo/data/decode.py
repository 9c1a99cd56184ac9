"""Decoding video files into frames (and audio) tensors.

PyAV by default (pip-only install).  See ``decode_video`` for the one call everything uses.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import torch


@dataclass
class DecodedVideo:
    """Frames and (optionally) audio of one video or a time window of it.

    frames: (T, H, W, 3) uint8 RGB.  audio: (channels, samples) float32 in [-1, 1], or None when
    the file has no audio track (or audio was not asked for).  ``start_sec`` is the time of the
    first frame.
    """

    frames: torch.Tensor
    fps: float
    audio: torch.Tensor | None = None
    sample_rate: int | None = None
    start_sec: float = 0.0

    @property
    def num_frames(self) -> int:
        return int(self.frames.shape[0])

    @property
    def duration(self) -> float:
        return self.num_frames / self.fps


def decode_video(path: str | Path, *, audio: bool = True) -> DecodedVideo:
    """Decode every frame of ``path`` (and its first audio track when ``audio``) with PyAV."""
    path = Path(path)
    with av.open(str(path)) as container:
        vstream = container.streams.video[0]
        fps = float(vstream.average_rate or vstream.guessed_rate or 25.0)
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(vstream)]
    wave, rate = (None, None)
    if audio:
        wave, rate = _decode_audio(path)
    return DecodedVideo(torch.from_numpy(np.stack(frames)), fps, wave, rate)


def _decode_audio(path: Path) -> tuple[torch.Tensor | None, int | None]:
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return None, None
        astream = container.streams.audio[0]
        chunks = [f.to_ndarray() for f in container.decode(astream)]
        rate = astream.rate
    if not chunks:
        return None, None
    arr = np.concatenate([c.reshape(c.shape[0], -1) if c.ndim == 2 else c[None] for c in chunks], axis=1)
    if arr.dtype.kind in "iu":
        arr = arr.astype(np.float32) / float(np.iinfo(arr.dtype).max)
    return torch.from_numpy(arr.astype(np.float32)), int(rate)
