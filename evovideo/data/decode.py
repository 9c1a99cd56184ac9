"""Decoding video files into frames (and audio) tensors.

PyAV by default (pip-only install); TorchCodec when it is installed and the system has FFmpeg
(``backend="torchcodec"`` or ``"auto"``).  Two ways in:

* ``decode_video(path)`` decodes a whole file into a ``DecodedVideo``;
* ``open_video(path)`` returns a reader that decodes only what a clip needs: one seek, the frames
  played at the asked times (converted to RGB at the asked size, nothing else), and the audio of a
  time window resampled to mono.  ``decode_window`` wraps it for one time window.

Any failure to read or decode a file raises ``DecodeError`` naming the file.
"""
from __future__ import annotations

import functools
import importlib.util
import io
import logging
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import av
import av.video.reformatter
import numpy as np
import torch

log = logging.getLogger(__name__)

BACKENDS = ("auto", "pyav", "torchcodec")


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


class DecoderUnavailable(RuntimeError):
    """A decoder backend cannot decode on this machine (a missing library, not a bad file).

    Never caught by the datasets' skip-the-bad-file logic: one broken decoder is not N broken files.
    """


def _probe_clip() -> bytes:
    """Two 16x16 MPEG-4 frames in Matroska, in memory: a clip any FFmpeg build decodes."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="matroska") as container:
        stream = container.add_stream("mpeg4", rate=8)
        stream.width = stream.height = 16
        stream.pix_fmt = "yuv420p"
        frame = av.VideoFrame.from_ndarray(np.zeros((16, 16, 3), np.uint8), format="rgb24")
        for packet in [*stream.encode(frame), *stream.encode(frame), *stream.encode()]:
            container.mux(packet)
    return buf.getvalue()


def load_failure(err: Exception) -> str:
    """Why TorchCodec failed to decode the probe clip, in one line (the FFmpeg library named)."""
    text = str(err)
    missing = sorted(set(re.findall(r"(lib(?:avutil|avcodec|avformat)\.so\.\d+): cannot open", text)))
    if missing:
        names = missing[0] if len(missing) == 1 else f"{missing[0]} ... {missing[-1].rsplit('.', 1)[-1]}"
        return (f"the system FFmpeg libraries are missing ({names} not found; TorchCodec loads FFmpeg "
                "from the system, it does not ship it)")
    first = text.strip().splitlines()[0] if text.strip() else ""
    return f"{type(err).__name__}: {first}"


@functools.lru_cache(maxsize=None)
def torchcodec_status() -> tuple[bool, str]:
    """(can TorchCodec decode here, why or why not): it really decodes a tiny in-memory clip, once
    per process.  TorchCodec >= 0.17 *imports* without FFmpeg and fails only when the first
    decoder is built, so importing proves nothing."""
    if importlib.util.find_spec("torchcodec") is None:
        return False, "torchcodec is not installed (`pip install evovideo[torchcodec]`)"
    try:
        from torchcodec.decoders import VideoDecoder

        frame = VideoDecoder(_probe_clip())[0]
        if tuple(frame.shape) != (3, 16, 16):
            return False, f"TorchCodec decoded the probe clip to shape {tuple(frame.shape)}, not (3, 16, 16)"
    except Exception as err:  # noqa: BLE001  (import, native load and decode errors alike)
        return False, load_failure(err)
    return True, "TorchCodec decoded a probe clip"


def torchcodec_available() -> bool:
    """True when TorchCodec can decode on this machine (see ``torchcodec_status``)."""
    return torchcodec_status()[0]


def unavailable(reason: str) -> DecoderUnavailable:
    return DecoderUnavailable(
        f"decoder backend 'torchcodec' cannot decode on this machine: {reason}. Install FFmpeg's "
        "libraries (`apt-get install ffmpeg`), or decode with PyAV (`--backend pyav`, or "
        "`--data.backend pyav` in a recipe, or backend='pyav' in Python)"
    )


@functools.lru_cache(maxsize=None)
def resolve_backend(backend: str) -> str:
    """The backend to decode with: ``auto`` -> ``torchcodec`` when it can really decode here, else
    ``pyav`` (said once, at INFO, with the reason).  An explicit ``torchcodec`` that cannot decode
    raises ``DecoderUnavailable`` at once, before any file is read."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown decoder backend '{backend}'; choose from {', '.join(BACKENDS)}")
    if backend == "pyav":
        return backend
    ok, why = torchcodec_status()
    if backend == "torchcodec":
        if not ok:
            raise unavailable(why)
        return backend
    if ok:
        return "torchcodec"
    log.info("decoder backend 'auto': using PyAV, because TorchCodec cannot decode here (%s)", why)
    return "pyav"


def open_video(path: str | Path, backend: str = "auto") -> VideoReader:
    """Open ``path`` for clip decoding with ``backend`` ('pyav', 'torchcodec' or 'auto')."""
    backend = resolve_backend(backend)
    path = Path(path)
    if not path.is_file():
        raise DecodeError(path, "no such file")
    if path.stat().st_size == 0:
        raise DecodeError(path, "the file is empty (0 bytes)")
    if backend == "torchcodec":
        from evovideo.data.torchcodec_reader import TorchCodecReader

        return TorchCodecReader(path)
    return PyAVReader(path)


def decode_window(
    path: str | Path,
    start_sec: float,
    end_sec: float,
    *,
    audio: bool = True,
    sample_rate: int = 16000,
    short_side: int | None = None,
    backend: str = "auto",
) -> DecodedVideo:
    """Every frame of [start_sec, end_sec) (and its mono audio at ``sample_rate``), decoding
    only from the keyframe before ``start_sec``."""
    with open_video(path, backend) as reader:
        fps = reader.info.fps
        end_sec = min(end_sec, reader.info.duration)
        n = max(1, int(round((end_sec - start_sec) * fps)))
        times = [start_sec + i / fps for i in range(n)]
        frames, _ = reader.frames_at(times, short_side)
        wave = reader.audio(start_sec, end_sec, sample_rate) if audio else None
    return DecodedVideo(frames, fps, wave, sample_rate if wave is not None else None, start_sec)


def decode_video(path: str | Path, *, audio: bool = True) -> DecodedVideo:
    """Decode every frame of ``path`` (and its first audio track when ``audio``) with PyAV."""
    path = Path(path)
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise DecodeError(path, "no video stream (an audio-only file?)")
            vstream = container.streams.video[0]
            fps = float(vstream.average_rate or vstream.guessed_rate or 25.0)
            frames = [f.to_ndarray(format="rgb24") for f in container.decode(vstream)]
    except DecodeError:
        raise
    except Exception as err:  # noqa: BLE001  (FFmpeg, OS and parsing errors alike)
        raise DecodeError(path, _why(err)) from err
    if not frames:
        raise DecodeError(path, "the video stream has no decodable frames")
    wave, rate = (None, None)
    if audio:
        try:
            wave, rate = _decode_audio(path)
        except Exception as err:  # noqa: BLE001  (a damaged audio track: the same one error as the video)
            raise DecodeError(path, f"audio: {_why(err)}") from err
    try:
        video = torch.from_numpy(np.stack(frames))
    except ValueError as err:  # frames of different sizes (a stream that changes resolution mid-file)
        raise DecodeError(path, f"frames of different sizes ({err})") from err
    return DecodedVideo(video, fps, wave, rate)


def _decode_audio(path: Path) -> tuple[torch.Tensor | None, int | None]:
    """The first audio track, (channels, samples) float32, and its rate; PyAV errors propagate."""
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


_local = threading.local()


def _reformatter() -> "av.video.reformatter.VideoReformatter":
    """This thread's reformatter, made anew in a forked process (a DataLoader worker must not use
    a swscale context built in its parent)."""
    if getattr(_local, "pid", None) != os.getpid():
        _local.reformatter, _local.pid = av.video.reformatter.VideoReformatter(), os.getpid()
    return _local.reformatter


def _why(err: Exception) -> str:
    """The reason of an FFmpeg / OS error without the file name (the caller names the file)."""
    text = getattr(err, "strerror", None) or str(err)
    return f"{type(err).__name__}: {text}"


class PyAVReader(VideoReader):
    """Clip decoding with PyAV: seek once, decode forward, convert only the frames asked for."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        try:
            self._container = av.open(self.path)
            if not self._container.streams.video:
                raise DecodeError(path, "no video stream (an audio-only file?)")
            vs = self._container.streams.video[0]
            fps = float(vs.average_rate or vs.guessed_rate or 0) or 25.0
            if vs.duration and vs.time_base:
                duration = float(vs.duration * vs.time_base)
            elif self._container.duration:
                duration = self._container.duration / av.time_base
            else:
                duration = (vs.frames or 0) / fps
            width, height = vs.codec_context.width, vs.codec_context.height
        except DecodeError:
            self.close()
            raise
        except Exception as err:  # noqa: BLE001
            self.close()
            raise DecodeError(path, _why(err)) from err
        if not width or not height:
            self.close()
            raise DecodeError(path, "the video stream has no frame size (not a video?)")
        self._vs = vs
        self.info = VideoInfo(max(duration, 1.0 / fps), fps, width, height, bool(self._container.streams.audio))

    def close(self) -> None:
        container = getattr(self, "_container", None)
        if container is not None:
            container.close()
            self._container = None

    def _seek(self, stream: "av.stream.Stream", t: float) -> None:
        offset = int(max(t, 0.0) / stream.time_base) + (stream.start_time or 0)
        self._container.seek(offset, stream=stream, backward=True, any_frame=False)

    def _frames_from(self, t: float):
        """Decoded frames with their times, from the keyframe at or before ``t``."""
        self._seek(self._vs, t)
        first = True
        last_t = -1.0
        for frame in self._container.decode(self._vs):
            ft = float(frame.time) if frame.time is not None else last_t + 1.0 / self.info.fps
            if first and ft > t + 1.5 / self.info.fps and t > 0:
                # the demuxer seeked past the time asked for (imprecise index): start over at 0
                self._seek(self._vs, 0.0)
                yield from self._frames_from_start()
                return
            first = False
            last_t = ft
            yield ft, frame

    def _frames_from_start(self):
        last_t = -1.0
        for frame in self._container.decode(self._vs):
            ft = float(frame.time) if frame.time is not None else last_t + 1.0 / self.info.fps
            last_t = ft
            yield ft, frame

    def frames_at(self, times, short_side=None, with_next=False):
        h, w = resized_shape(self.info.height, self.info.width, short_side)
        order = sorted(range(len(times)), key=lambda i: times[i])
        picked: list = [None] * len(times)
        nexts: list = [None] * len(times)
        converted: dict[int, np.ndarray] = {}

        def rgb(k: int, frame) -> np.ndarray:
            if k not in converted:
                # one reformatter per thread: its swscale context is reused across frames and
                # files of one size (setting one up costs far more than converting a frame)
                converted[k] = _reformatter().reformat(
                    frame, width=w, height=h, format="rgb24", interpolation="BILINEAR", threads=1
                ).to_ndarray()  # threads=1: no swscale thread pool (loader workers are the parallelism)
            return converted[k]

        j, prev, prev_k = 0, None, -1
        try:
            for k, (ft, frame) in enumerate(self._frames_from(times[order[0]] if times else 0.0)):
                while j < len(order) and times[order[j]] < ft - 1e-6:
                    i = order[j]
                    if prev is None:  # asked for a time before the first frame: use the first
                        picked[i] = rgb(k, frame)
                        nexts[i] = picked[i]
                    else:
                        picked[i] = rgb(prev_k, prev)
                        nexts[i] = rgb(k, frame) if with_next else None
                    j += 1
                if j == len(order):
                    break
                prev, prev_k = frame, k
        except Exception as err:  # noqa: BLE001
            raise DecodeError(self.path, _why(err)) from err
        if prev is None and j < len(order):
            raise DecodeError(self.path, "the video stream has no decodable frames")
        for i in order[j:]:  # times at or past the last frame: hold the last frame
            picked[i] = rgb(prev_k, prev)
            nexts[i] = picked[i]
        frames = torch.from_numpy(np.stack(picked))
        return frames, (torch.from_numpy(np.stack(nexts)) if with_next else None)

    def audio(self, start, end, sample_rate):
        if not self.info.has_audio:
            return None
        n = max(1, int(round((end - start) * sample_rate)))
        astream = self._container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
        chunks, first_t, restarted = [], None, False
        try:
            self._seek(astream, start)
            for frame in self._container.decode(astream):
                if first_t is None:
                    first_t = float(frame.time) if frame.time is not None else 0.0
                    if first_t > start + 0.05 and start > 0 and not restarted:
                        self._seek(astream, 0.0)  # seeked too far (imprecise index): read from 0
                        first_t, restarted = None, True
                        continue
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
                if first_t + sum(len(c) for c in chunks) / sample_rate >= end:
                    break
        except Exception as err:  # noqa: BLE001
            raise DecodeError(self.path, f"audio: {_why(err)}") from err
        wave = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
        offset = int(round((start - (first_t or 0.0)) * sample_rate))
        out = np.zeros(n, np.float32)
        src = wave[max(offset, 0):max(offset, 0) + n - max(-offset, 0)]
        out[max(-offset, 0):max(-offset, 0) + len(src)] = src
        return torch.from_numpy(out)[None]


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
        n = max(1, int(round((end - start) * sample_rate)))
        a = int(round((start - v.start_sec) * sample_rate))
        out = torch.zeros(n)
        src = wave[max(a, 0):max(a, 0) + n - max(-a, 0)]
        out[max(-a, 0):max(-a, 0) + src.shape[0]] = src
        return out[None]
