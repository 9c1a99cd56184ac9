"""The reader interface over a video held in memory (the synthetic set, ``transforms_for``)."""
from __future__ import annotations

import numpy as np
import torch

from evovideo.data.reader import DecodedVideo, VideoInfo, VideoReader, audio_window, resized_shape


class MemoryReader(VideoReader):
    """The reader interface over an in-memory ``DecodedVideo`` (the synthetic set)."""

    def __init__(self, video: DecodedVideo, name: str = "<memory>") -> None:
        self.path, self.video = name, video
        _, height, width, _ = video.frames.shape
        self.info = VideoInfo(video.duration, video.fps, width, height, video.audio is not None)

    def _index(self, t: float) -> int:
        return min(max(int(np.floor((t - self.video.start_sec) * self.video.fps + 1e-6)), 0), self.video.num_frames - 1)

    def _resize(self, frames: torch.Tensor, short_side: int | None) -> torch.Tensor:
        h, w = resized_shape(self.info.height, self.info.width, short_side)
        if (h, w) == (self.info.height, self.info.width):
            return frames
        from torchvision.transforms.v2 import functional as F

        return F.resize(frames.permute(0, 3, 1, 2), [h, w], antialias=True).permute(0, 2, 3, 1).contiguous()

    def frames_at(self, times, short_side=None, with_next=False):
        idx = torch.tensor([self._index(t) for t in times])
        frames = self._resize(self.video.frames[idx], short_side)
        if not with_next:
            return frames, None
        nxt = (idx + 1).clamp(max=self.video.num_frames - 1)
        return frames, self._resize(self.video.frames[nxt], short_side)

    def audio(self, start, end, sample_rate):
        v = self.video
        if v.audio is None or not v.sample_rate:
            return None
        wave = v.audio.mean(0)
        if v.sample_rate != sample_rate:  # linear resampling is enough for synthetic audio
            new_len = max(1, int(round(wave.shape[0] * sample_rate / v.sample_rate)))
            wave = torch.nn.functional.interpolate(wave[None, None], size=new_len, mode="linear")[0, 0]
        return audio_window(wave, v.start_sec, start, end, sample_rate)
