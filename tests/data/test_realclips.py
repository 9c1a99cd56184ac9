"""The real clips in ../shared/realclips decode through every available backend."""
from __future__ import annotations

import pytest
import torch

from evovideo.clip import ClipSpec
from evovideo.data import ClipDataset, DecodeError, SampleBuilder, VideoRecord, decode_video, decode_window, open_video
from evovideo.modalities import FlowSettings

from data_layouts import BACKENDS, NO_TORCHCODEC, TORCHCODEC

# name -> (width, height, fps, has_audio)
CLIPS = {
    "ucf101_applyeyemakeup_mpeg4_mp3.avi": (320, 240, 25.0, True),
    "kinetics_armwrestling_h264.mp4": (340, 256, 28.0, False),
    "ntu_1080p_h264.avi": (1920, 1080, 30.0, False),
    "ava_style_h264_6fps.mp4": (340, 256, 6.0, False),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", list(CLIPS))
def test_real_clip_decodes(realclips, name, backend):
    width, height, fps, has_audio = CLIPS[name]
    with open_video(realclips / name, backend) as r:
        assert (r.info.width, r.info.height, r.info.has_audio) == (width, height, has_audio)
        assert r.info.fps == pytest.approx(fps, rel=0.01)
        times = [0.5 + i * 0.1 for i in range(4)]
        frames, nxt = r.frames_at(times, 64, with_next=True)
        assert frames.shape[0] == 4 and min(frames.shape[1:3]) == 64 and frames.dtype == torch.uint8
        assert frames.float().std() > 5  # real content, not a blank frame
        wave = r.audio(0.5, 1.5, 16000)
        assert (wave is not None) == has_audio
        if has_audio:
            assert wave.shape == (1, 16000) and wave.abs().max() > 0.01


def test_real_clip_sample(realclips):
    path = str(realclips / "ucf101_applyeyemakeup_mpeg4_mp3.avi")
    builder = SampleBuilder(ClipSpec(num_frames=4, size=32),
                            modalities=["rgb", "gray", "flow", "audio"], train=False, flow=FlowSettings("farneback"), n_mels=16)
    s = ClipDataset([VideoRecord(path, 0)], builder, train=False, backend="pyav")[0]
    assert s["rgb"].shape == (3, 4, 32, 32) and s["flow"].shape == (2, 4, 32, 32)
    assert bool(s["has_audio"]) and s["audio"].shape[:2] == (1, 16)


@pytest.mark.skipif(not TORCHCODEC, reason=NO_TORCHCODEC)
def test_real_clip_backends_agree(realclips):
    path = str(realclips / "ucf101_applyeyemakeup_mpeg4_mp3.avi")
    with open_video(path, "pyav") as a, open_video(path, "torchcodec") as b:
        fa, _ = a.frames_at([1.0, 2.0], None)
        fb, _ = b.frames_at([1.0, 2.0], None)
    assert (fa.float() - fb.float()).abs().mean() < 2.0  # the same frames


def test_decode_window_and_whole_file(realclips):
    w = decode_window(realclips / "kinetics_armwrestling_h264.mp4", 2.0, 3.0, backend="pyav")
    assert w.num_frames == 28 and w.audio is None and w.start_sec == 2.0
    full = decode_video(realclips / "ava_style_h264_6fps.mp4")
    assert full.num_frames == 57 and full.fps == 6.0


@pytest.mark.parametrize("backend", BACKENDS)
def test_audio_only_file_is_a_clean_error(realclips, backend):
    wav = realclips / "speech_16k_stereo.wav"
    with pytest.raises(DecodeError, match=r"speech_16k_stereo\.wav.*no video stream"):
        open_video(wav, backend)
    with pytest.raises(DecodeError, match="no video stream"):
        decode_video(wav)
