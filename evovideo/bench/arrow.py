"""Time-asymmetric clips for the arrow-of-time check of ``evovideo bench tasks``.

The built-in synthetic set has no arrow of time by construction: every motion's reversal is
another class (MoveLeft <-> MoveRight, ZoomIn <-> ZoomOut, the circles), Blink and Jitter are
symmetric, so forward and reversed clips are identically distributed and no model can beat chance.
These clips use the same renderer (a striped blob over a textured background) with a physical,
irreversible motion: the blob is launched in a random direction and slows down under friction,
``distance = v0 tau (1 - exp(-t / tau))``.  Forward it decelerates; reversed it accelerates.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from evovideo.models.base import KINETICS_MEAN, KINETICS_STD


def decelerating_clips(count: int, seed: int, num_frames: int = 8, stride: int = 2, size: int = 32,
                       render_size: int = 48, fps: int = 16) -> torch.Tensor:
    """(count, 3, num_frames, size, size) normalised RGB clips of blobs slowing down."""
    from evovideo.data.synthetic import Trajectory, _render_frames

    frames_total = num_frames * stride
    t = np.arange(frames_total) / fps
    clips = []
    for i in range(count):
        motion, look, bg = (np.random.default_rng(s) for s in np.random.SeedSequence([seed, i]).spawn(3))
        angle = motion.uniform(0, 2 * np.pi)
        v0 = motion.uniform(1.5, 2.5) * render_size  # pixels per second at launch
        tau = motion.uniform(0.15, 0.3)  # seconds: the speed falls by e every tau (the clip lasts 1 s)
        dist = v0 * tau * (1 - np.exp(-t / tau))
        x0, y0 = motion.uniform(0, render_size, 2)
        x, y = x0 + np.cos(angle) * dist, y0 + np.sin(angle) * dist
        radius = np.full(frames_total, motion.uniform(0.1, 0.25) * render_size)
        traj = Trajectory(np.mod(x, render_size), np.mod(y, render_size), radius, np.ones(frames_total),
                          np.zeros(frames_total))
        video = torch.from_numpy(_render_frames(traj, look, bg, render_size, 0.01))  # (T, H, W, 3) uint8
        clip = video[::stride].permute(3, 0, 1, 2).float() / 255  # (3, T, H, W)
        clip = F.interpolate(clip, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        mean, std = torch.tensor(KINETICS_MEAN).view(3, 1, 1, 1), torch.tensor(KINETICS_STD).view(3, 1, 1, 1)
        clips.append((clip - mean) / std)
    return torch.stack(clips)


def batches(clips: torch.Tensor, batch_size: int) -> list[dict]:
    return [{"rgb": clips[i:i + batch_size]} for i in range(0, clips.shape[0], batch_size)]
