"""Decoding video files into frames (and audio) tensors: the names callers import, in one place.

PyAV by default (pip-only install); TorchCodec when it is installed and the system has FFmpeg
(``backend="torchcodec"`` or ``"auto"``).  Two ways in:

* ``decode_video(path)`` decodes a whole file into a ``DecodedVideo``;
* ``open_video(path)`` returns a reader that decodes only what a clip needs: one seek, the frames
  played at the asked times (converted to RGB at the asked size, nothing else), and the audio of a
  time window resampled to mono.  ``decode_window`` wraps it for one time window.

Any failure to read or decode a file raises ``DecodeError`` naming the file.  Each part lives in
its own module: ``reader`` (the interface), ``backend`` (the choice and the TorchCodec probe),
``pyav_reader``, ``torchcodec_reader``, ``memory_reader``.
"""
from __future__ import annotations

from evovideo.data.backend import (
    BACKENDS,
    DecoderUnavailable,
    load_failure,
    open_video,
    resolve_backend,
    torchcodec_available,
    torchcodec_status,
    unavailable,
)
from evovideo.data.memory_reader import MemoryReader
from evovideo.data.pyav_reader import PyAVReader, decode_video, decode_window
from evovideo.data.reader import MAX_ASPECT, DecodedVideo, DecodeError, VideoInfo, VideoReader, resized_shape

__all__ = [
    "BACKENDS",
    "MAX_ASPECT",
    "DecodeError",
    "DecodedVideo",
    "DecoderUnavailable",
    "MemoryReader",
    "PyAVReader",
    "VideoInfo",
    "VideoReader",
    "decode_video",
    "decode_window",
    "load_failure",
    "open_video",
    "resized_shape",
    "resolve_backend",
    "torchcodec_available",
    "torchcodec_status",
    "unavailable",
]
