"""Clips with a known, learnable signal for the pretext checks of ``evovideo bench tasks``, where the
built-in synthetic set has none for a task.  Both use the synthetic set's renderer (a striped blob
over a textured background, :mod:`evovideo.data.synthetic`).

- :func:`decelerating_clips`, for the arrow of time.  The synthetic set has no arrow of time by
  construction: every motion's reversal is another class (MoveLeft <-> MoveRight, ZoomIn <->
  ZoomOut, the circles), Blink and Jitter are symmetric, so forward and reversed clips are
  identically distributed and no model can beat chance.  Here the blob is launched in a random
  direction and slows down under friction, ``distance = v0 tau (1 - exp(-t / tau))``: forward it
  decelerates, reversed it accelerates.
- :func:`event_clips`, for audio-visual temporal alignment.  In the synthetic set the tone follows
  the blob's height and speed, so for the left/right moves and the zooms (one pitch, steady
  loudness) a shifted window sounds like the aligned one.  Here a still blob appears and disappears
  at random times (on and off for 2-6 frames, 0.12-0.38 s) and its tone sounds while it is visible:
  an audio window shifted by ``shift`` seconds puts the sounds at other times than the flashes.
  (A hand-made check, the correlation of the clip's first principal component over time with the
  audio's loudness envelope, puts the aligned window above the shifted one for 95% of clips.)
"""
from __future__ import annotations

import itertools
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F

from evovideo.models.base import KINETICS_MEAN, KINETICS_STD


def _rngs(seed: int, index: int) -> tuple[np.random.Generator, ...]:
    """(motion, look, background) streams of clip ``index``, as the synthetic set draws them."""
    return tuple(np.random.default_rng(s) for s in np.random.SeedSequence([seed, index]).spawn(3))


def _normalised(video: np.ndarray, stride: int, size: int) -> torch.Tensor:
    """(T, H, W, 3) uint8 -> (3, T // stride, size, size) float clip, Kinetics-normalised."""
    clip = torch.from_numpy(video[::stride]).permute(3, 0, 1, 2).float() / 255
    if clip.shape[-1] != size:
        clip = F.interpolate(clip, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    mean, std = torch.tensor(KINETICS_MEAN).view(3, 1, 1, 1), torch.tensor(KINETICS_STD).view(3, 1, 1, 1)
    return (clip - mean) / std


def decelerating_clips(count: int, seed: int, num_frames: int = 8, stride: int = 2, size: int = 32,
                       render_size: int = 48, fps: int = 16) -> torch.Tensor:
    """(count, 3, num_frames, size, size) normalised RGB clips of blobs slowing down."""
    from evovideo.data.synthetic import Trajectory, _render_frames

    frames_total = num_frames * stride
    t = np.arange(frames_total) / fps
    clips = []
    for i in range(count):
        motion, look, bg = _rngs(seed, i)
        angle = motion.uniform(0, 2 * np.pi)
        v0 = motion.uniform(1.5, 2.5) * render_size  # pixels per second at launch
        tau = motion.uniform(0.15, 0.3)  # seconds: the speed falls by e every tau (the clip lasts 1 s)
        dist = v0 * tau * (1 - np.exp(-t / tau))
        x0, y0 = motion.uniform(0, render_size, 2)
        x, y = x0 + np.cos(angle) * dist, y0 + np.sin(angle) * dist
        radius = np.full(frames_total, motion.uniform(0.1, 0.25) * render_size)
        traj = Trajectory(np.mod(x, render_size), np.mod(y, render_size), radius, np.ones(frames_total),
                          np.zeros(frames_total))
        clips.append(_normalised(_render_frames(traj, look, bg, render_size, 0.01), stride, size))
    return torch.stack(clips)


def event_clips(count: int, seed: int, num_frames: int = 8, stride: int = 2, size: int = 32, fps: int = 16,
                shift: float = 0.5, sample_rate: int = 16000, start: int = 0) -> dict[str, torch.Tensor]:
    """``count`` clips of a blob flashing on and off with a tone while it is visible:
    ``{"rgb": (N, 3, num_frames, size, size), "audio": (N, 1, 64, A), "audio_shifted": (N, 1, 64, A),
    "has_audio": (N,)}``; ``audio`` covers the clip's span, ``audio_shifted`` the span moved by
    ``+-shift`` seconds (sign at random), both standardised log-mel as the pipeline makes them.
    Clip ``i`` is drawn from ``(seed, start + i)`` alone."""
    from evovideo.data.synthetic import Trajectory, _render_audio, _render_frames
    from evovideo.modalities.audio import log_mel

    span, move = num_frames * stride, int(round(shift * fps))  # frames
    if move < 1:
        raise ValueError(f"shift must be at least one frame (1/{fps} s), got {shift}")
    total, per_frame = span + 2 * move, sample_rate // fps  # the video; audio samples per frame
    out: dict[str, list[torch.Tensor]] = {"rgb": [], "audio": [], "audio_shifted": []}
    for i in range(start, start + count):
        motion, look, bg = _rngs(seed, i)
        visible, t, on = np.zeros(total), 0, motion.random() < 0.5
        while t < total:  # on / off runs of 2-6 frames
            run = int(motion.integers(2, 7))
            visible[t:t + run], t, on = float(on), t + run, not on
        x0, y0 = motion.uniform(0, size, 2)
        still = np.ones(total)
        traj = Trajectory(x0 * still, y0 * still, motion.uniform(0.15, 0.3) * size * still, visible, visible)
        wave = torch.from_numpy(_render_audio(traj, look, size, fps, sample_rate))  # loud while visible
        shown = slice(move, move + span, stride)  # render only the frames the clip keeps
        frames = Trajectory(*(np.asarray(v)[shown] for v in (traj.x, traj.y, traj.radius, traj.visibility, traj.speed)))
        moved = move + move * (1 if motion.random() < 0.5 else -1)  # the shifted window's first frame
        out["rgb"].append(_normalised(_render_frames(frames, look, bg, size, 0.01), 1, size))
        for key, start in (("audio", move), ("audio_shifted", moved)):
            out[key].append(log_mel(wave[:, start * per_frame:(start + span) * per_frame], sample_rate))
    batch = {k: torch.stack(v) for k, v in out.items()}
    batch["has_audio"] = torch.ones(count, dtype=torch.bool)
    return batch


def event_stream(seed: int, batch_size: int, **kw) -> Iterator[dict[str, torch.Tensor]]:
    """Fresh :func:`event_clips` batches without end (clip indices 0, 1, 2, ...): nothing to memorise."""
    for i in itertools.count():
        yield event_clips(batch_size, seed, start=i * batch_size, **kw)


def batches(clips: torch.Tensor | dict[str, torch.Tensor], batch_size: int) -> list[dict]:
    """Split clips (an RGB tensor, or a dict of batch keys) into batches of ``batch_size``."""
    clips = clips if isinstance(clips, dict) else {"rgb": clips}
    n = next(iter(clips.values())).shape[0]
    return [{k: v[i:i + batch_size] for k, v in clips.items()} for i in range(0, n, batch_size)]
