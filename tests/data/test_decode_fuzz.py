"""Every decode path raises DecodeError on a damaged file, never a raw PyAV/FFmpeg error.

Seeded damaged copies of the real clips (../shared/realclips): bytes flipped inside the audio
packets (where a whole-file decode used to leak ``av.error.InvalidDataError``), a few bytes flipped
anywhere, a run of bytes flipped, a block zeroed, the file truncated, a chunk repeated.  Each copy
goes through ``decode_video`` (the whole file with its audio, as the demo uses it) and the clip
reader (``open_video``: frames + an audio window); each call must return or raise ``DecodeError``.
"""
from __future__ import annotations

import random

import av
import pytest

from evovideo.data.decode import DecodeError, decode_video, open_video

CLIPS = ["ucf101_applyeyemakeup_mpeg4_mp3.avi", "ava_style_h264_6fps.mp4"]  # MPEG-4 + MP3 audio; H.264
COPIES = 18
KINDS = ("audio", "scatter", "flip", "zero", "truncate", "repeat")


def audio_spans(path) -> list[tuple[int, int]]:
    """(byte offset, size) of every audio packet of ``path``."""
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return []
        return [(p.pos, p.size) for p in container.demux(container.streams.audio[0]) if p.pos is not None and p.size]


def damaged(data: bytes, seed: int, spans: list[tuple[int, int]]) -> bytes:
    rng = random.Random(seed)
    kind = KINDS[seed % len(KINDS)]
    n = len(data)
    out = bytearray(data)
    if kind == "audio" and spans:
        for _ in range(rng.randrange(1, 8)):
            pos, size = spans[rng.randrange(len(spans))]
            for _ in range(rng.randrange(1, 16)):
                out[pos + rng.randrange(size)] ^= rng.randrange(1, 256)
        return bytes(out)
    if kind in ("audio", "scatter"):  # a few bytes here and there: the decoders' error paths
        for _ in range(rng.randrange(4, 32)):
            out[rng.randrange(n // 20, n)] ^= rng.randrange(1, 256)
        return bytes(out)
    at = rng.randrange(n // 20, n - 1)  # past the first bytes, so most copies still open
    size = rng.randrange(64, 4096)
    if kind == "flip":
        return data[:at] + bytes(b ^ rng.randrange(1, 256) for b in data[at:at + size]) + data[at + size:]
    if kind == "zero":
        return data[:at] + bytes(min(size, n - at)) + data[at + size:]
    if kind == "truncate":
        return data[:at]
    return data[:at] + data[at:at + size] * 3 + data[at + size:]


def _only_decode_errors(call, path) -> str:
    try:
        call()
    except DecodeError as err:
        assert str(path) in str(err)
        return "error"
    return "ok"


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("clip", CLIPS)
def test_damaged_copies_raise_only_decode_error(realclips, tmp_path, clip):
    if not (realclips / clip).is_file():
        pytest.skip(f"{clip} not in {realclips}")
    data = (realclips / clip).read_bytes()
    spans = audio_spans(realclips / clip)
    outcomes = []
    for seed in range(COPIES):
        path = tmp_path / f"{seed:02d}_{clip}"
        path.write_bytes(damaged(data, seed, spans))

        def clip_reader():
            with open_video(path, "pyav") as reader:
                t = reader.info.duration / 2
                reader.frames_at([t, t + 0.1], 32)
                reader.audio(0.0, reader.info.duration, 16000)

        outcomes.append(_only_decode_errors(lambda: decode_video(path), path))
        outcomes.append(_only_decode_errors(clip_reader, path))
    assert "ok" in outcomes and "error" in outcomes  # damage that matters, but not so heavy nothing decodes
