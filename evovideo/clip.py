"""The clip contract: which frames a clip holds, how they are resized, cropped and normalised.

One frozen ``ClipSpec`` says it; the weights' ``config.json`` records it (``InputConfig.clip``),
and every consumer reads it: the sample builder of the DataModules and of evaluation, and
``transforms_for`` (inference).  A change to a clip setting is one edit here or in a recipe::

    spec = ClipSpec(num_frames=8, stride=2, frame_rate=16.0, size=32, resize=36)
    spec.step            # 0.125 s between clip frames
    spec.window_sec      # 1.0 s: what a clip sampler must fit in the video
    spec.short_side      # 36: frames are resized to this short side, then cropped to 32 x 32

This module imports nothing from evovideo, so ``models/`` (InputConfig), ``data/`` and ``hub/``
can all depend on it.  It also owns the names of the keys of a sample / batch (``BatchKeys``).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Iterable

KINETICS_MEAN = (0.43216, 0.394666, 0.37645)
KINETICS_STD = (0.22803, 0.22145, 0.216989)


def default_resize(size: int) -> int:
    """Short side frames are resized to before a ``size`` crop (the usual 8/7: 112 -> 128, 224 -> 256)."""
    return int(round(size * 8 / 7))


@dataclass(frozen=True)
class ClipSpec:
    """A clip: ``num_frames`` frames, one every ``stride`` frames at the nominal ``frame_rate``
    (so it spans ``num_frames * stride / frame_rate`` seconds whatever the file's own rate),
    short side resized to ``resize`` (None: ``round(size * 8 / 7)``), cropped ``size`` x ``size``,
    normalised with ``mean`` / ``std`` (one entry per channel)."""

    num_frames: int = 16
    stride: int = 2
    frame_rate: float = 25.0
    size: int = 112
    resize: int | None = None
    mean: tuple[float, ...] = KINETICS_MEAN
    std: tuple[float, ...] = KINETICS_STD

    def __post_init__(self) -> None:
        object.__setattr__(self, "mean", tuple(float(x) for x in self.mean))
        object.__setattr__(self, "std", tuple(float(x) for x in self.std))
        object.__setattr__(self, "frame_rate", float(self.frame_rate))
        for name in ("num_frames", "stride", "size"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"ClipSpec.{name} = {v!r}: must be an integer >= 1")
        if not self.frame_rate > 0:
            raise ValueError(f"ClipSpec.frame_rate = {self.frame_rate!r}: must be a number > 0 (frames per second)")
        if self.resize is not None and (not isinstance(self.resize, int) or self.resize < self.size):
            raise ValueError(f"ClipSpec.resize = {self.resize!r}: must be None (round(size * 8/7)) "
                             f"or an integer >= size ({self.size})")
        if len(self.mean) != len(self.std) or min(self.std, default=1.0) <= 0:
            raise ValueError(f"ClipSpec mean {self.mean} / std {self.std}: one entry per channel each, std > 0")

    @property
    def short_side(self) -> int:
        """The short side frames are resized to before the crop."""
        return self.resize if self.resize is not None else default_resize(self.size)

    @property
    def step(self) -> float:
        """Seconds between two clip frames."""
        return self.stride / self.frame_rate

    @property
    def clip_sec(self) -> float:
        return self.num_frames * self.step

    def window_sec(self, future_frames: int = 0) -> float:
        """Seconds the clip and ``future_frames`` after it cover (what a clip sampler must fit)."""
        return (self.num_frames + future_frames) * self.step

    def times(self, start: float, future_frames: int = 0) -> list[float]:
        """The time of each clip frame (and the future frames after it), from ``start``."""
        return [start + i * self.step for i in range(self.num_frames + future_frames)]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["mean"], d["std"] = list(self.mean), list(self.std)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ClipSpec":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown clip field(s) {unknown}; known: {', '.join(sorted(known))}")
        return cls(**d)

    def with_(self, **changes: Any) -> "ClipSpec":
        """A copy with ``changes`` (None values are ignored: 'not set here')."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


class BatchKeys:
    """The names of a sample's (and a batch's) keys: the one place that spells them.

    A modality's clip is under its own name (``rgb``, ``gray``, ``flow``, ``audio``)."""

    LABEL = "label"
    VIDEO_INDEX = "video_index"
    VIDEO_NAME = "video_name"
    HAS_AUDIO = "has_audio"
    RGB_FUTURE = "rgb_future"
    AUDIO_SHIFTED = "audio_shifted"
    AUDIO_SHIFT = "audio_shift"

    @classmethod
    def for_sample(cls, modalities: Iterable[str], *, future_frames: int = 0, audio_shift: float = 0.0,
                   labelled: bool = True) -> set[str]:
        """The keys a sample with these settings carries."""
        mods = set(modalities)
        keys = set(mods)
        if labelled:
            keys |= {cls.LABEL, cls.VIDEO_INDEX, cls.VIDEO_NAME}
        if "audio" in mods or audio_shift > 0:
            keys.add(cls.HAS_AUDIO)
        if future_frames > 0:
            keys.add(cls.RGB_FUTURE)
        if audio_shift > 0:
            keys |= {cls.AUDIO_SHIFTED, cls.AUDIO_SHIFT}
        return keys
