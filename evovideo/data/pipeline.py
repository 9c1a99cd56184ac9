"""From one decoded window of a video to the sample dict every task consumes.

A clip (the contract ``evovideo.clip.ClipSpec``) is ``num_frames`` frames, one every ``stride``
frames at the nominal ``frame_rate``, so
it spans ``num_frames * stride / frame_rate`` seconds whatever the file's own rate is (audio
lengths stay equal across videos).  ONE call to the reader fetches the clip's frames, the
``future_frames`` after it (and, for flow, the frame after each clip frame); one audio read
covers the clip and its shifted copy.  Then::

    frames (T+Tf, h, w, 3) uint8, short side = resize
      -> rgb   (3, T, S, S)   crop/flip, normalised          -> gray (1, T, S, S)
      -> flow  (2, T, S, S)   OpenCV on (frame, next frame), same crop; in [-1, 1]; with a
                              cache: the slice of the video's whole-grid flow (one file per video)
      -> rgb_future (3, Tf, S, S)
    audio (1, samples) -> audio / audio_shifted (1, n_mels, A) log-mel; zeros + has_audio False
"""
from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

import torch

from torchvision.transforms.v2 import functional as F

from evovideo.clip import BatchKeys, ClipSpec
from evovideo.data.reader import VideoReader, resized_shape
from evovideo.models.base import MODALITIES
from evovideo.modalities import (
    ClipCrop,
    FlowCache,
    FlowGrid,
    FlowSettings,
    compute_flow,
    gray_stats,
    log_mel,
    normalize,
    normalize_uint8,
    silent_log_mel,
    to_float_clip,
    to_gray,
)
from evovideo.modalities.flow_cache import slice_entry

if TYPE_CHECKING:
    from evovideo.models.base import InputConfig


class SampleBuilder:
    """Build the sample dict (the batch keys: ``evovideo.clip.BatchKeys``) from a reader and a clip start time.

    Train samples (``train=True``) take a random crop, a random horizontal flip when ``hflip``
    (turn it off for classes that are not mirror-invariant: the synthetic MoveLeft flipped is
    MoveRight) and a random audio-shift sign, all from the ``rng`` handed to ``build`` (the
    dataset seeds it per sample).  Eval samples use fixed crops and no flip.
    """

    def __init__(
        self,
        clip: ClipSpec = ClipSpec(),
        *,
        modalities: Sequence[str] = ("rgb",),
        future_frames: int = 0,
        audio_shift: float = 0.0,
        flow: FlowSettings | None = None,
        flow_cache_dir: str | Path | None = None,
        flow_cache_max_gb: float | None = None,
        sample_rate: int = 16000,
        n_mels: int = 64,
        win_ms: float = 25.0,
        hop_ms: float = 10.0,
        train: bool = True,
        num_crops: int = 1,
        hflip: bool = True,
        **clip_fields: object,
    ) -> None:
        if clip_fields:  # the flat clip arguments of before the contract
            spelled = ", ".join(f"{k}={v!r}" for k, v in clip_fields.items())
            raise TypeError(f"SampleBuilder takes the clip settings as one ClipSpec: write "
                            f"SampleBuilder(ClipSpec({spelled}), ...) (evovideo.clip.ClipSpec)")
        if not isinstance(clip, ClipSpec):
            raise TypeError(f"SampleBuilder takes the clip contract first: SampleBuilder(ClipSpec(num_frames=..., "
                            f"size=...), modalities=...), got {type(clip).__name__}")
        unknown = [m for m in modalities if m not in MODALITIES]
        if unknown:
            raise ValueError(f"unknown modalities {unknown}; choose from {', '.join(MODALITIES)}")
        self.modalities = tuple(modalities)
        self.clip = clip
        self.future_frames = int(future_frames)
        self.size, self.resize = clip.size, clip.short_side
        self.audio_shift = float(audio_shift)
        self.mean, self.std = clip.mean, clip.std
        # a gray encoder's contract holds the gray channel's statistics; an RGB one's give them by luma
        self.gray_mean, self.gray_std = (self.mean, self.std) if len(self.mean) == 1 else gray_stats(self.mean, self.std)
        self.flow = flow or FlowSettings()
        max_bytes = None if flow_cache_max_gb is None else int(flow_cache_max_gb * 1e9)
        self.flow_cache = FlowCache(flow_cache_dir, max_bytes) if flow_cache_dir else None
        self.flow_grid = FlowGrid(clip.step, self.resize)
        self.sample_rate, self.n_mels, self.win_ms, self.hop_ms = sample_rate, n_mels, win_ms, hop_ms
        self.crop = ClipCrop(clip.size, train=train, num_crops=num_crops, hflip=hflip)
        self.train = train

    @classmethod
    def for_encoder(cls, cfg: "InputConfig", *, frame_rate: float | None = None, num_crops: int = 1) -> "SampleBuilder":
        """The evaluation builder for an encoder's input (its clip contract; ``frame_rate`` overrides
        the contract's): what ``eval``, ``zipf`` and ``transforms_for`` all use."""
        if cfg.modality not in ("rgb", "gray"):
            raise ValueError(f"encoder input modality '{cfg.modality}' is not a video clip; evaluate the RGB student")
        clip = cfg.clip if frame_rate is None else replace(cfg.clip, frame_rate=float(frame_rate))
        return cls(clip, modalities=[cfg.modality], train=False, num_crops=num_crops)

    @property
    def window_sec(self) -> float:
        """Seconds the clip and its future frames cover (what a clip sampler must fit)."""
        return self.clip.window_sec(self.future_frames)

    @property
    def wants_audio(self) -> bool:
        return "audio" in self.modalities or self.audio_shift > 0

    def align(self, start: float) -> float:
        """With a flow cache, clips start on the flow grid (``k * step``, rounded down) so every
        clip's flow is a slice of its video's cached entry; otherwise ``start`` unchanged."""
        if self.flow_cache is None or "flow" not in self.modalities:
            return start
        step = self.clip.step
        return float(np.floor(start / step + 1e-6)) * step

    def build(self, reader: VideoReader, start: float, crop_index: int = 0, rng: random.Random | None = None) -> dict:
        """The sample of the clip starting at ``start``; train draws come from ``rng`` (default
        ``random.Random(0)``: the process-wide RNG is never used)."""
        rng = rng or random.Random(0)
        times = self.clip.times(start, self.future_frames)
        want_flow = "flow" in self.modalities
        flow = self._cached_flow(reader, times) if want_flow and self.flow_cache is not None else None
        need_next = want_flow and flow is None  # no cache, or a cache that cannot store: per clip
        if not need_next and not reader.resizes_while_converting:
            return self._build_crop_first(reader, times, start, crop_index, rng, flow)
        frames, nexts = reader.frames_at(times, self.resize, with_next=need_next)  # (T+Tf, h, w, 3)
        if nexts is not None:
            n = self.clip.num_frames
            flow = compute_flow(frames[:n], nexts[:n], self.flow)
        box = self.crop.choose(frames.shape[1], frames.shape[2], crop_index, rng)
        return self._finish(reader, frames, flow, box, start, rng, crop=lambda x: self._crop_frames(x, box))

    def _build_crop_first(self, reader: VideoReader, times, start: float, crop_index: int, rng, flow) -> dict:
        """Full-size frames: crop the region the resized crop would cover, then resize only it."""
        frames, _ = reader.frames_at(times, None)  # (T+Tf, H, W, 3)
        H, W = frames.shape[1:3]
        h, w = resized_shape(H, W, self.resize)
        top, left, flip = box = self.crop.choose(h, w, crop_index, rng)
        sy, sx = H / h, W / w
        y0, x0 = int(round(top * sy)), int(round(left * sx))
        y1, x1 = min(H, int(round((top + min(self.size, h)) * sy))), min(W, int(round((left + min(self.size, w)) * sx)))

        def crop(x: torch.Tensor) -> torch.Tensor:  # (N, H, W, 3) -> (N, S, S, 3)
            x = F.resize(x[:, y0:y1, x0:x1].permute(0, 3, 1, 2), [self.size, self.size], antialias=True)
            return (F.horizontal_flip(x) if flip else x).permute(0, 2, 3, 1)

        return self._finish(reader, frames, flow, box, start, rng, crop=crop)

    def _finish(self, reader, frames, flow, box, start, rng, *, crop) -> dict:
        n = self.clip.num_frames
        sample: dict = {}
        # crop the uint8 frames first, then convert: fewer pixels to turn into floats
        clip = crop(frames[:n])  # (T, S, S, 3) uint8
        if "rgb" in self.modalities:
            sample["rgb"] = normalize_uint8(clip, self.mean, self.std)  # (3, T, S, S)
        if "gray" in self.modalities:
            sample["gray"] = normalize(to_gray(to_float_clip(clip)), self.gray_mean, self.gray_std)
        if self.future_frames:
            sample[BatchKeys.RGB_FUTURE] = normalize_uint8(crop(frames[n:]), self.mean, self.std)
        if flow is not None:  # (2, T, h, w) -> (2, T, S, S)
            sample["flow"] = self.crop.apply(flow, box, is_flow=True)
        if self.wants_audio:
            sample.update(self._audio(reader, start, rng))
        return sample

    def _crop_frames(self, frames: torch.Tensor, box) -> torch.Tensor:
        """(T, h, w, 3) uint8 -> (T, S, S, 3) uint8 with the clip's crop (and flip)."""
        return self.crop.apply(frames.permute(3, 0, 1, 2), box).permute(1, 2, 3, 0)

    def _cached_flow(self, reader: VideoReader, times) -> torch.Tensor | None:
        """The clip's flow ``(2, T, h, w)`` from its video's cache entry (computing and storing the
        whole video on a miss); None when the clip is off the grid or the cache cannot store."""
        n, cache, grid = self.clip.num_frames, self.flow_cache, self.flow_grid
        first = grid.index(times[0])
        if first is None:
            return None
        key = FlowCache.key(reader.path, grid, self.flow)
        flow = cache.load(key, first, n)
        if flow is not None and tuple(flow.shape[-2:]) == resized_shape(reader.info.height, reader.info.width, grid.resize):
            cache.count_hit()
            return flow
        cache.count_miss()
        if not cache.writable:
            return None
        from evovideo.data.flow_grid import video_flow

        entry = video_flow(reader, grid, self.flow)  # (N, 2, h, w) int8
        cache.store(key, entry)
        return slice_entry(entry, first, n)

    def _audio(self, reader: VideoReader, start: float, rng: random.Random) -> dict:
        sr, clip = self.sample_rate, self.clip.clip_sec
        n = int(round(clip * sr))
        out: dict = {}
        shift = self._shift(start, reader.info.duration, rng) if self.audio_shift > 0 else 0.0
        lo, hi = min(start, start + shift), max(start, start + shift) + clip
        wave = reader.audio(lo, hi, sr)
        out[BatchKeys.HAS_AUDIO] = torch.tensor(wave is not None)
        mel = dict(n_mels=self.n_mels, win_ms=self.win_ms, hop_ms=self.hop_ms)

        def spec(at: float) -> torch.Tensor:
            if wave is None:
                return silent_log_mel(n, sr, n_mels=self.n_mels, hop_ms=self.hop_ms)
            i = int(round((at - lo) * sr))
            return log_mel(wave[:, i:i + n], sr, **mel)

        if "audio" in self.modalities:
            out["audio"] = spec(start)
        if self.audio_shift > 0:
            out[BatchKeys.AUDIO_SHIFTED] = spec(start + shift)
            out[BatchKeys.AUDIO_SHIFT] = torch.tensor(shift, dtype=torch.float32)
        return out

    def _shift(self, start: float, duration: float, rng: random.Random) -> float:
        """+-audio_shift seconds, the sign chosen at random (train) or + (eval), flipped when the
        shifted window would leave the video."""
        s = self.audio_shift
        signs = [1.0, -1.0] if not self.train or rng.random() < 0.5 else [-1.0, 1.0]
        clip = self.clip.clip_sec
        for sign in signs:
            if 0.0 <= start + sign * s and start + sign * s + clip <= duration + 1e-6:
                return sign * s
        return signs[0] * s  # video too short for either: the window runs past an end (zero-padded)
