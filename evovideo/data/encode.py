"""Writing frames (and audio) to real video files with PyAV — the inverse of ``decode.py``.

``write_video(path, video)`` picks the codecs from the file suffix, as the datasets we mimic do:

  .avi   MPEG-4 Part 2 video + MP3 audio    (UCF101 / HMDB51 style)
  .mp4   H.264 video + AAC audio            (Kinetics / YouTube style)

PyAV's wheels bundle an FFmpeg with these encoders (libx264, libmp3lame, aac), so nothing beyond
``pip install av`` is needed.
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from evovideo.data.decode import DecodedVideo

# suffix -> (video codec, audio codec, video encoder options)
CODECS: dict[str, tuple[str, str, dict[str, str]]] = {
    ".avi": ("mpeg4", "libmp3lame", {"qmin": "1", "qmax": "3"}),  # near-constant high quality
    ".mp4": ("libx264", "aac", {"crf": "20", "preset": "veryfast"}),
}
AUDIO_CHUNK = 1024  # samples per audio frame handed to the encoder


def write_video(path: str | Path, video: DecodedVideo, *, audio_bit_rate: int = 64000) -> Path:
    """Encode ``video`` (frames (T, H, W, 3) uint8 and optional mono/stereo audio) to ``path``.

    Height and width must be even (4:2:0 chroma).  Returns the path written.
    """
    path = Path(path)
    if path.suffix not in CODECS:
        raise ValueError(f"cannot choose codecs for '{path.name}'; use one of: {', '.join(CODECS)}")
    frames = video.frames.numpy() if hasattr(video.frames, "numpy") else np.asarray(video.frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be (T, H, W, 3) uint8, got {frames.shape} {frames.dtype}")
    height, width = frames.shape[1:3]
    if height % 2 or width % 2:
        raise ValueError(f"frame size {width}x{height} must be even for 4:2:0 video; crop or resize it")
    vcodec, acodec, options = CODECS[path.suffix]
    rate = Fraction(video.fps).limit_denominator(1001)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        vstream = container.add_stream(vcodec, rate=rate, options=dict(options))
        vstream.width, vstream.height, vstream.pix_fmt = width, height, "yuv420p"
        astream = None
        if video.audio is not None:
            if video.sample_rate is None:
                raise ValueError("video.audio is set but video.sample_rate is None; give the sample rate")
            channels = int(video.audio.shape[0])
            layout = {1: "mono", 2: "stereo"}.get(channels)
            if layout is None:
                raise ValueError(f"audio must have 1 or 2 channels, got {channels}")
            astream = container.add_stream(acodec, rate=int(video.sample_rate), layout=layout)
            astream.bit_rate = audio_bit_rate
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = i
            container.mux(vstream.encode(frame))
        container.mux(vstream.encode(None))
        if astream is not None:
            _write_audio(container, astream, np.asarray(video.audio, dtype=np.float32), layout)
    return path


def _write_audio(container: av.container.OutputContainer, stream: av.audio.stream.AudioStream,
                 wave: np.ndarray, layout: str) -> None:
    # (C, S) float32 in [-1, 1] -> planar float frames; PyAV re-chunks to the codec's frame size
    wave = np.ascontiguousarray(np.clip(wave, -1.0, 1.0))
    for start in range(0, wave.shape[1], AUDIO_CHUNK):
        chunk = np.ascontiguousarray(wave[:, start:start + AUDIO_CHUNK])
        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
        frame.sample_rate = stream.rate
        frame.pts = start
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))
