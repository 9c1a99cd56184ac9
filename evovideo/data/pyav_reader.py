"""Decoding with PyAV (its own FFmpeg, pip only): whole files, time windows, and the clip reader.

* ``decode_video(path)`` decodes a whole file into a ``DecodedVideo``;
* ``PyAVReader`` decodes only what a clip needs: one seek, the frames played at the asked times
  (converted to RGB at the asked size in swscale, nothing else), and the audio of a time window
  resampled to mono.  ``decode_window`` reads one window with any backend's reader.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

import av
import av.video.reformatter
import numpy as np
import torch

from evovideo.data.backend import open_video
from evovideo.data.reader import DecodedVideo, DecodeError, VideoInfo, VideoReader, audio_window, resized_shape


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
        return audio_window(torch.from_numpy(wave), first_t or 0.0, start, end, sample_rate)
