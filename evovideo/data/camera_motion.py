"""A labelled motion-only video set made from real footage: camera moves over real frames.

The built-in synthetic set (:mod:`evovideo.data.synthetic`) renders a blob over a texture; every
result measured on it may be a property of that renderer.  This set keeps the premise (the class is
the motion, never the appearance) on real pixels: every clip is a moving virtual camera, a square
crop of ``size`` pixels, over 32 consecutive frames of a real video, and its class is how the camera
moves (``CAMERA_MOTIONS``):

  PanLeft, PanRight, PanUp, PanDown   the crop slides 0.6-1.2 output pixels a frame
  ZoomIn, ZoomOut                     the crop's side shrinks / grows 1.4-1.8x over the clip
  RotateCW, RotateCCW                 the camera turns 1.5-3 degrees a frame (the scene turns the other way)

Source video, start frame, crop position and side (0.35-0.5 of the source's short side) and speed
are drawn for every clip from the same distributions for every class, so one frame carries no class
signal; the footage's own motion (people, hands) is there in every class, as camera motion is over
real scenes.  Clip ``i`` is drawn from ``numpy.random.SeedSequence([seed, i])`` alone.

Sources are decoded once with PyAV (no FFmpeg needed) and resized to a short side of ``4 x size``
(area filter) before the crops are sampled, so a crop is downsampled by ~1.4-2x, not aliased.
``long_tail`` > 0 keeps ``round(n / (c + 1) ** long_tail)`` clips of class ``c`` (Zipf frequencies,
the fitness set's premise); 0 keeps ``n`` of every class.

  ds = CameraMotionVideos(["a.mp4", "b.mp4"], num_videos_per_class=20, seed=0)
  video, label = ds[0]                       # DecodedVideo(frames (32, 48, 48, 3) uint8), no audio
  write_ucf101_layout("/tmp/motion", ds)     # UCF-101/<Class>/v_<Class>_gXX_cYY.avi + ucfTrainTestlist/
  # or: evovideo bench motion-set --sources ../shared/realclips/*.mp4 --out data/motion
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from evovideo.data.decode import DecodedVideo
from evovideo.data.synthetic import group_clips

CAMERA_MOTIONS = ("PanLeft", "PanRight", "PanUp", "PanDown", "ZoomIn", "ZoomOut", "RotateCW", "RotateCCW")
CROP_SIDE = (0.35, 0.5)  # of the source's short side
PAN_SPEED = (0.6, 1.2)  # output pixels a frame
ZOOM_TOTAL = (1.4, 1.8)  # crop side ratio between the first and last frame
ROTATE_DEG = (1.5, 3.0)  # degrees a frame


class CameraMotionVideos(Dataset):
    """Items are ``(DecodedVideo, label)``: see the module docstring."""

    def __init__(
        self,
        sources: Sequence[str | Path],
        num_videos_per_class: int = 20,
        num_frames: int = 32,
        size: int = 48,
        fps: float = 16.0,
        seed: int = 0,
        long_tail: float = 0.0,
    ) -> None:
        if not sources:
            raise ValueError("give at least one source video (any real footage: the class is the camera's motion)")
        if num_videos_per_class < 1 or num_frames < 2:
            raise ValueError("need num_videos_per_class >= 1 and num_frames >= 2")
        if size < 16 or size % 2:
            raise ValueError(f"size={size} must be even and >= 16 (video codecs need even sizes)")
        if long_tail < 0:
            raise ValueError(f"long_tail={long_tail} must be >= 0 (0: every class keeps num_videos_per_class)")
        self.sources = [Path(s) for s in sources]
        self.num_frames, self.size, self.fps, self.seed = num_frames, size, float(fps), seed
        self.classes = list(CAMERA_MOTIONS)
        self.counts = [max(1, round(num_videos_per_class / (c + 1) ** long_tail)) for c in range(len(self.classes))]
        self._starts = np.cumsum([0, *self.counts])
        self._group_clip = [group_clips(n) for n in self.counts]  # per class: names files, makes the split lists
        self._frames: list[torch.Tensor] | None = None  # decoded lazily: (T, 3, H, W) uint8 per source

    def __len__(self) -> int:
        return int(self._starts[-1])

    def label(self, index: int) -> int:
        return int(np.searchsorted(self._starts, self._check(index), side="right") - 1)

    def group_clip(self, index: int) -> tuple[int, int]:
        """UCF101 (group, clip) numbers of clip ``index``, both from 1: groups spread over 1..25 per class."""
        label = self.label(index)
        return self._group_clip[label][index - int(self._starts[label])]

    def name(self, index: int) -> str:
        """``ClassName/v_ClassName_gXX_cYY`` (no suffix), as in UCF101."""
        cls = self.classes[self.label(index)]
        group, clip = self.group_clip(index)
        return f"{cls}/v_{cls}_g{group:02d}_c{clip:02d}"

    def __getitem__(self, index: int) -> tuple[DecodedVideo, int]:
        label = self.label(index)
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, index]))
        sources = self._sources()
        frames = sources[int(rng.integers(len(sources)))]
        t0 = int(rng.integers(max(1, frames.shape[0] - self.num_frames + 1)))
        window = frames[(t0 + np.arange(self.num_frames)) % frames.shape[0]].float()
        centre, side, angle = camera_path(CAMERA_MOTIONS[label], rng, self.num_frames, self.size,
                                          frames.shape[3], frames.shape[2])
        clip = _crop(window, centre, side, angle, self.size)
        return DecodedVideo(clip, self.fps), label

    def _sources(self) -> list[torch.Tensor]:
        """Every source decoded once and resized to a short side of ``4 x size``: ``(T, 3, H, W)`` uint8."""
        if self._frames is None:
            from evovideo.data.pyav_reader import decode_video

            self._frames = [_resize_short(decode_video(p, audio=False).frames, 4 * self.size) for p in self.sources]
        return self._frames

    def _check(self, index: int) -> int:
        if not 0 <= index < len(self):
            raise IndexError(f"clip index {index} out of range for {len(self)} camera-motion clips")
        return index


def camera_path(motion: str, rng: np.random.Generator, num_frames: int, size: int, width: int, height: int,
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-frame crop centre ``(T, 2)`` (x, y source pixels), side ``(T,)`` (source pixels) and angle ``(T,)``
    (radians, clockwise on screen) of ``motion``, placed so that every corner stays inside the source."""
    t = np.arange(num_frames, dtype=np.float64)
    side0 = rng.uniform(*CROP_SIDE) * min(width, height)
    offset, side, angle = np.zeros((num_frames, 2)), np.full(num_frames, side0), np.zeros(num_frames)
    if motion.startswith("Pan"):
        step = rng.uniform(*PAN_SPEED) * side0 / size
        direction = {"PanLeft": (-1, 0), "PanRight": (1, 0), "PanUp": (0, -1), "PanDown": (0, 1)}[motion]
        offset = np.outer(t * step, direction)
    elif motion.startswith("Zoom"):
        total = rng.uniform(*ZOOM_TOTAL)
        rate = total ** (t / (num_frames - 1))
        side = side0 * (1 / rate if motion == "ZoomIn" else rate / total)  # the largest side is side0
    elif motion.startswith("Rotate"):
        angle = math.radians(rng.uniform(*ROTATE_DEG)) * t * (1 if motion == "RotateCW" else -1)
    else:
        raise ValueError(f"unknown camera motion '{motion}'; choose from {', '.join(CAMERA_MOTIONS)}")
    corners = np.array([(-1, -1), (1, -1), (1, 1), (-1, 1)], dtype=np.float64) / 2
    cos, sin = np.cos(angle), np.sin(angle)
    xs = offset[:, None, 0] + side[:, None] * (cos[:, None] * corners[None, :, 0] - sin[:, None] * corners[None, :, 1])
    ys = offset[:, None, 1] + side[:, None] * (sin[:, None] * corners[None, :, 0] + cos[:, None] * corners[None, :, 1])
    lo = np.array([-xs.min(), -ys.min()])
    hi = np.array([width - xs.max(), height - ys.max()])
    start = rng.uniform(lo, np.maximum(lo, hi))  # a path larger than the source (never with these ranges) clips
    return start + offset, side, angle


def _resize_short(frames: torch.Tensor, short: int, chunk: int = 16) -> torch.Tensor:
    """``(T, H, W, 3)`` uint8 -> ``(T, 3, h, w)`` uint8 with ``min(h, w) == short`` (area filter when shrinking),
    ``chunk`` frames at a time (a 1080p source as float would take GBs)."""
    H, W = frames.shape[1:3]
    scale = short / min(H, W)
    hw = (round(H * scale), round(W * scale))
    out = []
    for part in frames.split(chunk):
        x = part.permute(0, 3, 1, 2).float()
        x = F.interpolate(x, size=hw, mode="area") if scale < 1 else F.interpolate(x, size=hw, mode="bilinear",
                                                                                    align_corners=False)
        out.append(x.round().clamp(0, 255).to(torch.uint8))
    return torch.cat(out)


def _crop(frames: torch.Tensor, centre: np.ndarray, side: np.ndarray, angle: np.ndarray, size: int) -> torch.Tensor:
    """Sample the rotated square crops of ``frames`` ``(T, 3, H, W)`` float as ``(T, size, size, 3)`` uint8."""
    H, W = frames.shape[2:]
    lin = (torch.arange(size, dtype=torch.float64) + 0.5) / size - 0.5  # output pixel centres in [-0.5, 0.5]
    gy, gx = torch.meshgrid(lin, lin, indexing="ij")
    c = torch.from_numpy(centre)
    s, a = torch.from_numpy(side)[:, None, None], torch.from_numpy(angle)[:, None, None]
    x = c[:, 0, None, None] + s * (torch.cos(a) * gx - torch.sin(a) * gy)
    y = c[:, 1, None, None] + s * (torch.sin(a) * gx + torch.cos(a) * gy)
    grid = torch.stack([2 * x / W - 1, 2 * y / H - 1], dim=-1).float()  # align_corners=False coordinates
    out = F.grid_sample(frames, grid, mode="bilinear", padding_mode="border", align_corners=False)
    return out.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous()
