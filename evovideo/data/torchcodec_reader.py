"""Clip decoding with TorchCodec (optional: `pip install evovideo[torchcodec]` + system FFmpeg).

Same interface as ``PyAVReader``; frames are decoded at full size and resized with torch.
"""
from __future__ import annotations

import re
from pathlib import Path

import torch

from evovideo.data.backend import load_failure, unavailable
from evovideo.data.reader import DecodeError, VideoInfo, VideoReader, audio_window, resized_shape


def _why(err: Exception, path: str = "") -> str:
    """First line of a TorchCodec error without its C++ source location and the file name."""
    lines = str(err).strip().splitlines()
    text = re.sub(r"^\w+, \S+:\d+, ", "", lines[0] if lines else "")
    if path:
        text = text.replace(f"{path} ", "").replace(path, "").strip()
    return f"{type(err).__name__}: {text}"


class TorchCodecReader(VideoReader):
    resizes_while_converting = False

    def __init__(self, path: Path) -> None:
        from torchcodec.decoders import VideoDecoder

        self.path = str(path)
        try:
            self._dec = VideoDecoder(self.path, dimension_order="NCHW", seek_mode="approximate")
            md = self._dec.metadata
        except Exception as err:  # noqa: BLE001
            if "Could not load libtorchcodec" in str(err):  # the decoder, not the file
                raise unavailable(load_failure(err)) from err
            reason = _why(err, self.path)
            if "video stream" in str(err).lower():
                reason = f"no video stream (an audio-only file?): {reason}"
            raise DecodeError(path, reason) from err
        if not md.width or not md.height:
            raise DecodeError(path, "the video stream has no frame size (not a video?)")
        fps = float(md.average_fps or 25.0)
        duration = float(md.duration_seconds or (md.num_frames or 0) / fps)
        self._begin = float(md.begin_stream_seconds or 0.0)
        self._end = float(md.end_stream_seconds or duration)
        # the last frame's own time: TorchCodec (approximate seek) refuses a time inside the last
        # frame's display interval past its pts ("no more frames left"), e.g. 1.999 s of 16 frames at 8 fps
        self._last = self._end - 1e-3
        if md.num_frames:
            self._last = min(self._last, self._begin + (md.num_frames - 1) / fps + 1e-6)
        self.info = VideoInfo(max(duration, 1.0 / fps), fps, md.width, md.height, self._has_audio())

    def _has_audio(self) -> bool:
        try:  # the container's stream list (TorchCodec internals; cheap, no second open)
            from torchcodec._core import get_container_metadata

            streams = get_container_metadata(self._dec._decoder).streams
            return any(type(st).__name__.startswith("Audio") for st in streams)
        except Exception:  # noqa: BLE001  (internals moved: ask PyAV)
            import av

            with av.open(self.path) as container:
                return bool(container.streams.audio)

    def frames_at(self, times, short_side=None, with_next=False):
        # decode full size, then resize with torch (measured faster than TorchCodec's Resize transform)
        h, w = resized_shape(self.info.height, self.info.width, short_side)
        try:
            # + 1e-6: the frame that starts at t, also when t lands a rounding error below its start
            # (the rule of the PyAV and memory readers; without it a centre clip differed by a frame)
            batch = self._played_at([max(float(t) + 1e-6, self._begin) for t in times])
            nxt = None
            if with_next:
                step = 1.0 / self.info.fps
                nxt = self._resize(self._played_at([float(p) + step * 1.01 for p in batch.pts_seconds]).data, h, w)
        except Exception as err:  # noqa: BLE001
            raise DecodeError(self.path, _why(err, self.path)) from err
        return self._resize(batch.data, h, w), nxt

    def _played_at(self, times: list[float]):
        """Frames played at ``times``, clamped to the last frame.  A container header can count one
        frame more than a sequential decode yields (AVI + MP3: 17 vs 16); TorchCodec then fails
        with "no more frames left", and the last frame is taken to be one frame earlier."""
        for _ in range(4):
            try:
                return self._dec.get_frames_played_at([min(t, self._last) for t in times])
            except RuntimeError as err:
                if "no more frames" not in str(err) or self._last - self._begin < 1.0 / self.info.fps:
                    raise
                self._last -= 1.0 / self.info.fps
        return self._dec.get_frames_played_at([min(t, self._last) for t in times])

    @staticmethod
    def _resize(frames: torch.Tensor, h: int, w: int) -> torch.Tensor:
        """(N, 3, H, W) uint8 -> (N, h, w, 3) uint8 (a view; no copy when the size is kept)."""
        if tuple(frames.shape[-2:]) != (h, w):
            from torchvision.transforms.v2 import functional as F

            frames = F.resize(frames, [h, w], antialias=True)
        return frames.permute(0, 2, 3, 1)

    def audio(self, start, end, sample_rate):
        if not self.info.has_audio:
            return None
        from torchcodec.decoders import AudioDecoder

        try:
            dec = AudioDecoder(self.path, sample_rate=sample_rate, num_channels=1)
            s0 = max(start, 0.0)
            s = dec.get_samples_played_in_range(s0, max(end, s0 + 1.0 / sample_rate))
        except Exception as err:  # noqa: BLE001
            msg = str(err).lower()
            if "range" in msg or "no samples" in msg:  # the window lies past the end of the track
                return audio_window(torch.zeros(0), start, start, end, sample_rate)
            raise DecodeError(self.path, f"audio: {_why(err, self.path)}") from err
        return audio_window(s.data[0], float(s.pts_seconds), start, end, sample_rate)
