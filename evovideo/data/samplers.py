"""Clip samplers: where in a video each clip starts.  They follow pytorchvideo's ``ClipSampler``.

Each is a ``pytorchvideo.data.clip_sampling.ClipSampler``: called as
``sampler(last_clip_time, video_duration, annotation) -> ClipInfo(clip_start_sec, clip_end_sec,
clip_index, aug_index, is_last_clip)``, so ours drive pytorchvideo's ``LabeledVideoDataset`` and
pytorchvideo's samplers drive our ``ClipDataset`` (which calls them in order, see
``clip_of``).  Ours also answer ``clip_at(index, video_duration, rng)`` directly, without state:
a map-style dataset asks for clip ``i`` of a video in any order, and a train clip's start comes
from the sample's own RNG (``evovideo.data.dataset.sample_rng``) so runs resume exactly.

    RandomClipSampler(1.0)        one clip per video, start uniform over the starts that fit
    CentreClipSampler(1.0)        one clip, the centre window
    UniformClipSampler(1.0, 10)   10 clips, the first and last windows and evenly between them;
                                  with 1 clip, the centre window

A video shorter than the window gives one clip at 0 (the reader pads it by repeating the last frame).
"""
from __future__ import annotations

import random
from fractions import Fraction
from typing import Any

import numpy as np
from pytorchvideo.data.clip_sampling import ClipInfo, ClipSampler

SAMPLERS = ("random", "centre", "uniform")


class _IndexedSampler(ClipSampler):
    """A sampler that knows clip ``index`` of a video at once; ``__call__`` walks the clips in order."""

    clips_per_video = 1

    def __init__(self, clip_duration: float) -> None:
        if not clip_duration > 0:
            raise ValueError(f"clip_duration = {clip_duration!r}: must be > 0 seconds")
        super().__init__(Fraction(clip_duration).limit_denominator(1_000_000))
        self.clip_duration = float(clip_duration)
        self._next = 0

    def start_at(self, index: int, video_duration: float, rng: random.Random | None) -> float:
        raise NotImplementedError

    def clip_at(self, index: int, video_duration: float, rng: random.Random | None = None) -> ClipInfo:
        """Clip ``index`` (0-based) of a video lasting ``video_duration`` seconds."""
        if not 0 <= index < self.clips_per_video:
            raise IndexError(f"clip {index} of {self.clips_per_video} per video")
        start = self.start_at(index, float(video_duration), rng)
        return ClipInfo(start, start + self.clip_duration, index, 0, index == self.clips_per_video - 1)

    def __call__(self, last_clip_time: float, video_duration: float, annotation: dict[str, Any]) -> ClipInfo:
        info = self.clip_at(self._next, float(video_duration), (annotation or {}).get("rng"))
        self._next = 0 if info.is_last_clip else self._next + 1
        return info

    def reset(self) -> None:
        self._next = 0

    def slack(self, video_duration: float) -> float:
        """Seconds the window can move in the video (0 when the video is shorter than it)."""
        return max(video_duration - self.clip_duration, 0.0)


class RandomClipSampler(_IndexedSampler):
    """One clip per video, its start uniform over the starts whose window fits.  Its draw comes
    from ``rng`` (``clip_at``) or ``annotation["rng"]``, else from the module ``random``."""

    def start_at(self, index: int, video_duration: float, rng: random.Random | None) -> float:
        return (rng or random).uniform(0.0, self.slack(video_duration))


class CentreClipSampler(_IndexedSampler):
    """One clip per video: the centre window (the usual single-view evaluation clip)."""

    def start_at(self, index: int, video_duration: float, rng: random.Random | None) -> float:
        return self.slack(video_duration) / 2


class UniformClipSampler(_IndexedSampler):
    """``clips_per_video`` clips spread evenly: the first and the last window and evenly between
    them; a single clip is the centre window (not the first)."""

    def __init__(self, clip_duration: float, clips_per_video: int) -> None:
        super().__init__(clip_duration)
        if not isinstance(clips_per_video, int) or clips_per_video < 1:
            raise ValueError(f"clips_per_video = {clips_per_video!r}: must be an integer >= 1")
        self.clips_per_video = clips_per_video

    def start_at(self, index: int, video_duration: float, rng: random.Random | None) -> float:
        slack = self.slack(video_duration)
        if self.clips_per_video == 1:
            return slack / 2
        return float(np.linspace(0.0, slack, self.clips_per_video)[index])


def eval_sampler(clip_duration: float, clips_per_video: int) -> _IndexedSampler:
    """The evaluation sampler: the centre window for one clip, else ``clips_per_video`` uniform."""
    if clips_per_video == 1:
        return CentreClipSampler(clip_duration)
    return UniformClipSampler(clip_duration, clips_per_video)


def clip_of(sampler: ClipSampler, index: int, video_duration: float, rng: random.Random | None = None) -> ClipInfo:
    """Clip ``index`` of a video from any pytorchvideo ``ClipSampler``: ours answer at once;
    another (pytorchvideo's own) is reset and called in order, as its datasets do."""
    if isinstance(sampler, _IndexedSampler):
        return sampler.clip_at(index, video_duration, rng)
    sampler.reset()
    last: Any = 0.0
    annotation: dict[str, Any] = {"rng": rng} if rng is not None else {}
    for i in range(index + 1):
        info = sampler(last, video_duration, annotation)
        if i == index:
            return info
        if info.is_last_clip:
            raise IndexError(f"{type(sampler).__name__} gave {i + 1} clip(s) of a {video_duration:.2f} s video; "
                             f"clip {index} asked for (lower clips_per_video)")
        last = info.clip_end_sec
    raise AssertionError("unreachable")
