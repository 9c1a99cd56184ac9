"""The reader interface every decoder implements, and what it hands over.

``VideoReader``: one open video; ``frames_at(times, short_side)`` gives the frames played at
``times``, ``audio(start, end, rate)`` a mono window.  ``DecodedVideo`` holds frames (and audio)
in memory; ``DecodeError`` names a file that cannot be read.  Implementations:
``evovideo.data.pyav_reader`` (PyAV), ``evovideo.data.torchcodec_reader`` (TorchCodec),
``evovideo.data.memory_reader`` (frames in memory); ``evovideo.data.backend`` chooses.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import torch


class DecodeError(RuntimeError):
    """A file could not be opened or decoded; ``path`` names it, ``reason`` says why."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path, self.reason = str(path), reason
        super().__init__(f"cannot decode '{path}': {reason}")


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


@dataclass(frozen=True)
class VideoInfo:
    duration: float  # seconds
    fps: float
    width: int
    height: int
    has_audio: bool


MAX_ASPECT = 4.0  # long side / short side after a resize; real videos stay below (32:9 is 3.56)


def resized_shape(height: int, width: int, short_side: int | None) -> tuple[int, int]:
    """(h, w) with the short side scaled to ``short_side`` (aspect kept); unchanged for None.

    The long side is capped at ``MAX_ASPECT`` x ``short_side``: a degenerate frame (a 128 x 2 strip
    would become 36 x 2304) is squeezed instead, so one odd file cannot cost an epoch's worth of
    resizing and optical flow.
    """
    if not short_side:
        return height, width
    cap = int(MAX_ASPECT * short_side)
    if height <= width:
        return short_side, min(cap, max(1, round(width * short_side / height)))
    return min(cap, max(1, round(height * short_side / width))), short_side


class VideoReader:
    """One open video.  Subclasses implement ``frames_at`` and ``audio``; ``info`` describes it."""

    path: str
    info: VideoInfo
    #: True when ``frames_at`` resizes while converting (cheap); False when it decodes full
    #: size and resizes afterwards, so cropping first saves work (``SampleBuilder`` does).
    resizes_while_converting: bool = True

    def frames_at(
        self, times: Sequence[float], short_side: int | None = None, with_next: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Frames played at ``times`` (seconds) -> (N, H, W, 3) uint8; with ``with_next`` also the
        frame that follows each of them (for optical flow between consecutive frames)."""
        raise NotImplementedError

    def audio(self, start: float, end: float, sample_rate: int) -> torch.Tensor | None:
        """Mono audio of [start, end) resampled to ``sample_rate`` -> (1, S), zero-padded past
        the end of the track; None when the file has no audio track."""
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self) -> "VideoReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def audio_window(wave: torch.Tensor, wave_start: float, start: float, end: float, sample_rate: int) -> torch.Tensor:
    """The mono ``wave`` (samples,) whose first sample plays at ``wave_start`` seconds, cut to the
    window [start, end) at ``sample_rate``: (1, n) float32, zeros where the track does not reach."""
    n = max(1, int(round((end - start) * sample_rate)))
    offset = int(round((start - wave_start) * sample_rate))  # samples of the wave before the window
    out = torch.zeros(1, n)
    src = wave[max(offset, 0):max(offset, 0) + n - max(-offset, 0)]
    out[0, max(-offset, 0):max(-offset, 0) + src.shape[0]] = src
    return out
