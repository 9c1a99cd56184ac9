"""Which decoder reads a file: PyAV (pip-only) or TorchCodec (faster; needs the system's FFmpeg).

TorchCodec >= 0.17 imports without FFmpeg and fails only when the first decoder is built, so
``torchcodec_status`` probes by decoding a tiny in-memory clip, once per process.
``resolve_backend("auto")`` takes TorchCodec when that works, else PyAV (saying why, once);
``open_video(path, backend)`` opens a file with the chosen reader.
"""
from __future__ import annotations

import functools
import importlib.util
import io
import logging
import re
from pathlib import Path

import av
import numpy as np

from evovideo.data.reader import DecodeError, VideoReader

log = logging.getLogger(__name__)

BACKENDS = ("auto", "pyav", "torchcodec")


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
    from evovideo.data.pyav_reader import PyAVReader

    return PyAVReader(path)
