"""A seeded, procedurally rendered video set whose classes differ by motion, not appearance.

Every clip shows one soft-edged, striped blob over a static textured background.  Colours,
stripes, background, blob size, start position and speed are drawn at random for every clip from
the same distributions for every class, and the scene wraps around at the borders (the blob
leaving on the right comes back on the left), so a single frame carries no class signal: only
how the blob moves does.  The ten motions (``MOTIONS``; ``num_classes`` takes the first N):

  MoveLeft, MoveRight, MoveUp, MoveDown     straight line, 0.5-1 frame widths per second
  CircleClockwise, CircleAnticlockwise      0.75-1.25 turns per second around a random centre
  ZoomIn, ZoomOut                           radius grows / shrinks about 3x over the clip
  Blink                                     static, fades out and in 1.5-3 times per second
  Jitter                                    shakes in place (random offsets every frame)

The mono audio track (16 kHz) is a tone that follows the blob: its pitch rises with the blob's
height in the frame (220 Hz at the bottom to 880 Hz at the top, two octaves) and its loudness
with how fast the blob changes (speed + growth + fading), so audio-video tasks (alignment,
cross-modal embedding) have something to learn.

Clip ``i`` is rendered from ``numpy.random.SeedSequence([seed, i])`` alone (three independent
streams: motion, blob look, background), so any item can be made on its own and the same seed
gives identical tensors.  ``stream="eval"`` renders from ``SeedSequence([seed, i],
spawn_key=(EVAL_STREAM_KEY,))`` instead: a separate seed stream for evaluation sets, so an
evaluation set never re-renders a pretraining clip, whatever the two seeds (the pretraining
DataModules always render ``stream="pretrain"``).  Every clip has its own background: no two clips share a scene, whatever
their class or group, so appearance carries no class signal and no group confound (a background
shared within a group would make clips of *different* classes look alike, since the clips of one
class all come from different groups; one shared within a class would be a shortcut).  Clips are
numbered class-major (``label = i // num_videos_per_class``) and assigned UCF101-style groups
1..25, which only name the files and make the group-wise splits.

  ds = SyntheticVideos(num_videos_per_class=8, num_classes=10, num_frames=32, size=64, fps=16)
  video, label = ds[0]          # DecodedVideo(frames (32, 64, 64, 3) uint8, audio (1, 32000))
  SyntheticVideos(audio=False)[0]   # the same frames, no audio track (faster when no task hears)
  write_ucf101_layout("/tmp/synth", ds, container="avi")   # real files + ucfTrainTestlist/
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from evovideo.data.decode import DecodedVideo

log = logging.getLogger(__name__)

MOTIONS = (
    "MoveLeft", "MoveRight", "MoveUp", "MoveDown", "CircleClockwise", "CircleAnticlockwise",
    "ZoomIn", "ZoomOut", "Blink", "Jitter",
)
# Bump whenever the same arguments render different pixels or audio: caches of features computed on
# the synthetic set (evovideo.eval.features) key on it.  2: every clip has its own background.
RENDER_VERSION = 2
STREAMS = ("pretrain", "eval")
EVAL_STREAM_KEY = 1  # spawn key of the evaluation stream (the pretraining stream has none)
NUM_GROUPS = 25  # UCF101: 25 groups per class; split k tests groups 7k-6 .. 7k
PITCH_LOW_HZ, PITCH_OCTAVES = 220.0, 2.0


@dataclass
class Trajectory:
    """Per-frame state of the blob (arrays of length T): centre ``x``, ``y`` in pixels (wrapped
    to [0, size)), ``radius`` in pixels, ``visibility`` in [0, 1], and ``speed`` (frame widths
    per second of movement + growth + fading) that drives the loudness."""

    x: np.ndarray
    y: np.ndarray
    radius: np.ndarray
    visibility: np.ndarray
    speed: np.ndarray


class SyntheticVideos(Dataset):
    """In-memory synthetic videos: items are ``(DecodedVideo, label)``; see the module docstring."""

    def __init__(
        self,
        num_videos_per_class: int = 8,
        num_classes: int = 10,
        num_frames: int = 32,
        size: int = 64,
        fps: int = 16,
        sample_rate: int = 16000,
        seed: int = 0,
        noise: float = 0.01,
        stream: str = "pretrain",
        audio: bool = True,
    ) -> None:
        if stream not in STREAMS:
            raise ValueError(f"stream '{stream}' is unknown; choose 'pretrain' (training sets) or 'eval' "
                             "(evaluation sets: never the clips of any pretraining seed)")
        if not 1 <= num_classes <= len(MOTIONS):
            raise ValueError(f"num_classes={num_classes}: the synthetic set has 1..{len(MOTIONS)} motions")
        if num_videos_per_class < 1 or num_frames < 2:
            raise ValueError("need num_videos_per_class >= 1 and num_frames >= 2")
        if size < 16 or size % 2:
            raise ValueError(f"size={size} must be even and >= 16 (video codecs need even sizes)")
        self.num_videos_per_class = num_videos_per_class
        self.num_classes = num_classes
        self.num_frames = num_frames
        self.size = size
        self.fps = fps
        self.sample_rate = sample_rate
        self.seed = seed
        self.noise = noise
        self.stream = stream
        self.audio = audio  # False: frames only (no audio track; the frames are the same: audio draws come after)
        self.classes = list(MOTIONS[:num_classes])
        self._group_clip = group_clips(num_videos_per_class)

    def __len__(self) -> int:
        return self.num_classes * self.num_videos_per_class

    def label(self, index: int) -> int:
        return self._check(index) // self.num_videos_per_class

    def group_clip(self, index: int) -> tuple[int, int]:
        """UCF101 (group, clip) numbers of clip ``index``, both from 1."""
        return self._group_clip[self._check(index) % self.num_videos_per_class]

    def name(self, index: int) -> str:
        """``ClassName/v_ClassName_gXX_cYY`` (no suffix), as in UCF101."""
        cls = self.classes[self.label(index)]
        group, clip = self.group_clip(index)
        return f"{cls}/v_{cls}_g{group:02d}_c{clip:02d}"

    def trajectory(self, index: int) -> Trajectory:
        """The blob's per-frame state for clip ``index`` (what the frames and audio are made from)."""
        motion_rng, _, _ = self._rngs(index)
        return _trajectory(MOTIONS[self.label(index)], motion_rng, self.num_frames, self.size, self.fps)

    def __getitem__(self, index: int) -> tuple[DecodedVideo, int]:
        label = self.label(index)
        motion_rng, look_rng, bg_rng = self._rngs(index)
        traj = _trajectory(MOTIONS[label], motion_rng, self.num_frames, self.size, self.fps)
        frames = _render_frames(traj, look_rng, bg_rng, self.size, self.noise)
        if not self.audio:
            return DecodedVideo(torch.from_numpy(frames), float(self.fps)), label
        wave = _render_audio(traj, look_rng, self.size, self.fps, self.sample_rate)
        video = DecodedVideo(torch.from_numpy(frames), float(self.fps), torch.from_numpy(wave), self.sample_rate)
        return video, label

    def _check(self, index: int) -> int:
        if not 0 <= index < len(self):
            raise IndexError(f"clip index {index} out of range for {len(self)} synthetic clips")
        return index

    def _rngs(self, index: int) -> tuple[np.random.Generator, np.random.Generator, np.random.Generator]:
        """Independent (motion, look, background) generators of clip ``index``, from (seed, index, stream) only."""
        spawn_key = (EVAL_STREAM_KEY,) if self.stream == "eval" else ()
        streams = np.random.SeedSequence([self.seed, self._check(index)], spawn_key=spawn_key).spawn(3)
        return tuple(np.random.default_rng(s) for s in streams)  # type: ignore[return-value]


def _trajectory(motion: str, rng: np.random.Generator, num_frames: int, size: int, fps: float) -> Trajectory:
    """Where the blob is, how big and how visible, frame by frame, for one ``motion``."""
    t = np.arange(num_frames) / fps  # seconds
    x0, y0 = rng.uniform(0, size, 2)
    speed = rng.uniform(0.5, 1.0) * size  # pixels per second
    radius = np.full(num_frames, rng.uniform(0.1, 0.3) * size)
    x, y = np.full(num_frames, x0), np.full(num_frames, y0)
    visibility = np.ones(num_frames)
    if motion in ("MoveLeft", "MoveRight"):
        x = x0 + (1 if motion == "MoveRight" else -1) * speed * t
    elif motion in ("MoveUp", "MoveDown"):
        y = y0 + (1 if motion == "MoveDown" else -1) * speed * t  # image y points down
    elif motion.startswith("Circle"):
        orbit = rng.uniform(0.15, 0.25) * size
        turns = rng.uniform(0.75, 1.25) * (1 if motion == "CircleClockwise" else -1)  # clockwise on screen
        phase = rng.uniform(0, 2 * np.pi) + 2 * np.pi * turns * t
        x, y = x0 + orbit * np.cos(phase), y0 + orbit * np.sin(phase)
    elif motion in ("ZoomIn", "ZoomOut"):
        small, large = rng.uniform(0.08, 0.12) * size, rng.uniform(0.25, 0.32) * size
        ramp = np.linspace(0.0, 1.0, num_frames)
        radius = small + (large - small) * (ramp if motion == "ZoomIn" else 1 - ramp)
    elif motion == "Blink":
        rate_hz = rng.uniform(1.5, 3.0)
        visibility = np.clip(0.5 + 0.8 * np.cos(2 * np.pi * rate_hz * t + rng.uniform(0, 2 * np.pi)), 0, 1)
    elif motion == "Jitter":
        amp = 0.06 * size
        x, y = x0 + rng.uniform(-amp, amp, num_frames), y0 + rng.uniform(-amp, amp, num_frames)
    else:
        raise ValueError(f"unknown motion '{motion}'; known: {', '.join(MOTIONS)}")
    # change per second, in frame widths: movement + growth + fading (scaled by the blob's size)
    change = np.hypot(np.diff(x), np.diff(y)) + np.abs(np.diff(radius)) + radius[1:] * np.abs(np.diff(visibility))
    change = np.concatenate([change[:1], change]) * fps / size
    return Trajectory(np.mod(x, size), np.mod(y, size), radius, visibility, change)


def _colour_pair(rng: np.random.Generator, min_distance: float = 0.35) -> tuple[np.ndarray, np.ndarray]:
    a = rng.uniform(0, 1, 3)
    for _ in range(20):
        b = rng.uniform(0, 1, 3)
        if np.linalg.norm(a - b) >= min_distance:
            break
    return a, b


def _render_frames(traj: Trajectory, look: np.random.Generator, bg_rng: np.random.Generator,
                   size: int, noise: float) -> np.ndarray:
    """(T, H, W, 3) uint8: the striped blob composited over the static background."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    # background: two colours mixed by a sum of two low-frequency plane waves
    bg_a, bg_b = _colour_pair(bg_rng)
    waves = sum(
        np.sin(2 * np.pi * (xx * np.cos(th) + yy * np.sin(th)) * f / size + ph)
        for th, f, ph in zip(bg_rng.uniform(0, np.pi, 2), bg_rng.uniform(1, 3, 2), bg_rng.uniform(0, 2 * np.pi, 2))
    )
    mix = (0.5 + 0.25 * waves)[..., None]
    background = (bg_a * mix + bg_b * (1 - mix)).astype(np.float32)  # (H, W, 3)
    # blob: stripes that move and scale with it; colours far from the background's
    blob_a, blob_b = _colour_pair(look)
    if np.linalg.norm((blob_a + blob_b - bg_a - bg_b) / 2) < 0.3:
        blob_a, blob_b = 1 - blob_a, 1 - blob_b
    angle, cycles, phase = look.uniform(0, np.pi), look.uniform(1.0, 2.5), look.uniform(0, 2 * np.pi)
    f32 = lambda a: np.asarray(a, dtype=np.float32)[:, None, None]  # noqa: E731  (T,) -> (T, 1, 1)
    # offsets to the blob centre on the torus: dx (T, 1, W), dy (T, H, 1); they broadcast to (T, H, W)
    dx = np.mod(xx[None, :1] - f32(traj.x) + size / 2, size) - size / 2
    dy = np.mod(yy[None, :, :1] - f32(traj.y) + size / 2, size) - size / 2
    radius = f32(traj.radius)
    alpha = np.clip((radius - np.hypot(dx, dy)) / 1.5 + 0.5, 0, 1) * f32(traj.visibility)  # (T, H, W)
    stripes = 0.5 + 0.5 * np.sin(2 * np.pi * cycles * (dx * np.cos(angle) + dy * np.sin(angle)) / radius + phase)
    blob = blob_b.astype(np.float32) + stripes[..., None] * (blob_a - blob_b).astype(np.float32)  # (T, H, W, 3)
    frames = background[None] + alpha[..., None] * (blob - background[None])
    if noise > 0:  # sensor-like luminance noise, the same on the three channels
        frames += noise * look.standard_normal(frames.shape[:3], dtype=np.float32)[..., None]
    frames *= 255
    frames += 0.5
    return np.clip(frames, 0, 255, out=frames).astype(np.uint8)


def _render_audio(traj: Trajectory, look: np.random.Generator, size: int, fps: float, sample_rate: int) -> np.ndarray:
    """(1, S) float32: a tone, pitch from the blob's height, loudness from its speed."""
    num = int(round(len(traj.x) / fps * sample_rate))
    frame_pos = np.arange(num) / sample_rate * fps - 0.5  # position of each sample in frame units
    frames = np.arange(len(traj.x))
    height = 1 - traj.y / size  # 0 at the bottom, 1 at the top
    pitch = PITCH_LOW_HZ * 2 ** (PITCH_OCTAVES * np.interp(frame_pos, frames, height))
    loudness = 0.05 + 0.75 * np.clip(np.interp(frame_pos, frames, traj.speed), 0, 1)
    phase = 2 * np.pi * np.cumsum(pitch) / sample_rate + look.uniform(0, 2 * np.pi)
    wave = loudness * np.sin(phase) + look.normal(0, 0.005, num)
    return np.clip(wave, -1, 1).astype(np.float32)[None]


def group_clips(n: int) -> list[tuple[int, int]]:
    """UCF101-style (group, clip) numbers, both from 1, of the ``n`` clips of one class: groups spread over 1..25."""
    groups = [j * NUM_GROUPS // n + 1 for j in range(n)]
    return [(g, groups[: j + 1].count(g)) for j, g in enumerate(groups)]


def ucf101_split_groups(split: int) -> range:
    """Test groups of UCF101 split ``split`` (1..3): 1-7, 8-14, 15-21; the other groups train."""
    if split not in (1, 2, 3):
        raise ValueError(f"UCF101 has splits 1, 2, 3; got {split}")
    return range(7 * split - 6, 7 * split + 1)


def write_ucf101_layout(
    root: str | Path, dataset: SyntheticVideos, *, container: str = "avi",
    videos: Sequence[DecodedVideo] | None = None,
) -> list[Path]:
    """Write ``dataset`` as real video files in UCF101's layout under ``root``; return the files.

    ``root/UCF-101/<ClassName>/v_<ClassName>_gXX_cYY.<container>`` and
    ``root/ucfTrainTestlist/{classInd,trainlist0k,testlist0k}.txt`` in UCF101's format, with CRLF
    line ends (as we recall the official archive has; a parser must accept both).
    ``container``: ``avi`` (MPEG-4 Part 2 + MP3, as UCF101) or ``mp4`` (H.264 + AAC).
    ``dataset``: a :class:`SyntheticVideos` or anything with its ``classes``, ``len``, items,
    ``label``, ``name`` and ``group_clip``.  ``videos``: the clips of ``dataset`` already rendered,
    in order (saves rendering them again).
    """
    from evovideo.data.encode import write_video

    if container not in ("avi", "mp4"):
        raise ValueError(f"container '{container}' is not supported; use 'avi' or 'mp4'")
    if videos is not None and len(videos) != len(dataset):
        raise ValueError(f"got {len(videos)} rendered videos for a dataset of {len(dataset)} clips")
    root = Path(root)
    videos_dir, lists_dir = root / "UCF-101", root / "ucfTrainTestlist"
    lists_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for index in range(len(dataset)):
        video = videos[index] if videos is not None else dataset[index][0]
        paths.append(write_video(videos_dir / f"{dataset.name(index)}.{container}", video))
    _write_lines(lists_dir / "classInd.txt", [f"{i + 1} {c}" for i, c in enumerate(dataset.classes)])
    for split in (1, 2, 3):
        test_groups = ucf101_split_groups(split)
        train, test = [], []
        for index in range(len(dataset)):
            rel = f"{dataset.name(index)}.{container}"
            if dataset.group_clip(index)[0] in test_groups:
                test.append(rel)
            else:
                train.append(f"{rel} {dataset.label(index) + 1}")
        _write_lines(lists_dir / f"trainlist0{split}.txt", train)
        _write_lines(lists_dir / f"testlist0{split}.txt", test)
    log.info("wrote %d %s clips in the UCF101 layout under %s", len(paths), container, root)
    return paths


def _write_lines(path: Path, lines: list[str]) -> None:
    path.write_bytes("".join(f"{line}\r\n" for line in lines).encode())
