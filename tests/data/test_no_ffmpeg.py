"""A machine without FFmpeg's shared libraries, proven on every machine (CI's included, which has
them): a fresh interpreter whose dynamic loader refuses TorchCodec's core libraries exactly as it
does without FFmpeg (``no_ffmpeg/sitecustomize.py``).  TorchCodec >= 0.17 still imports there."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from evovideo.clip import ClipSpec
from evovideo.data import ClipDataset, SampleBuilder, VideoRecord
from evovideo.data.dataset import NoVideosDecoded
from evovideo.data.decode import DecoderUnavailable

SHIM = Path(__file__).parent / "no_ffmpeg"
REPO = Path(__file__).resolve().parents[2]


def _no_ffmpeg_env() -> dict[str, str]:
    path = os.pathsep.join([str(SHIM), str(REPO), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1", "EVOVIDEO_TRACEBACK": ""}


def _python(code: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          env=_no_ffmpeg_env(), timeout=300, **kw)


def _evovideo(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "evovideo", *argv], capture_output=True, text=True,
                          env=_no_ffmpeg_env(), timeout=300)


@pytest.mark.slow
def test_without_ffmpeg_auto_decodes_with_pyav_and_explicit_torchcodec_fails_at_once(tmp_path):
    """The README's data paths work; 'auto' says once why it took PyAV; an explicit 'torchcodec'
    fails when the DataModule is built (before any epoch), naming the library and the way out."""
    out = _python(f"""
        import logging, io
        logging.basicConfig(level=logging.INFO, format="LOG %(message)s")
        import importlib.util, torchcodec.decoders  # TorchCodec imports without FFmpeg ...
        from evovideo.data.decode import torchcodec_status, DecoderUnavailable
        ok, why = torchcodec_status()
        assert not ok and "libavutil.so.60" in why, why  # ... but cannot decode: the probe says so
        # the demo's data path: synthetic clips written as real files, decoded back, features extracted
        from evovideo.data.synthetic import SyntheticVideos, write_ucf101_layout
        from evovideo.eval.pipeline import video_features
        from evovideo.factory import create_model
        ds = SyntheticVideos(num_videos_per_class=2, num_classes=5, num_frames=16, size=32, fps=16, seed=1)
        root = {str(tmp_path)!r} + "/videos"
        write_ucf101_layout(root, ds, container="avi")
        fs = video_features(create_model("test_r2plus1d"), "ucf101", root=root, frame_rate=16.0, cache_dir=None,
                            progress=False)
        assert len(fs) == 10, len(fs)
        # a DataModule with backend='auto' trains from the files
        from evovideo.lightning import UCF101DataModule
        dm = UCF101DataModule(root=root, num_frames=4, stride=1, frame_rate=16.0, size=16, resize=20, batch_size=2,
                              val_fraction=0)  # one training group: nothing to carve a validation fold from
        dm.setup("fit")
        assert next(iter(dm.train_dataloader()))["rgb"].shape == (2, 3, 4, 16, 16)
        try:
            UCF101DataModule(root=root, backend="torchcodec")
        except DecoderUnavailable as err:
            print("EXPLICIT", err)
        else:
            raise AssertionError("backend='torchcodec' was accepted without FFmpeg")
    """)
    assert out.returncode == 0, out.stderr[-3000:]
    logs = [line for line in out.stderr.splitlines() if line.startswith("LOG ") and "decoder backend" in line]
    assert len(logs) == 1 and "using PyAV" in logs[0] and "libavutil" in logs[0], logs
    explicit = next(line for line in out.stdout.splitlines() if line.startswith("EXPLICIT"))
    assert "libavutil.so.60" in explicit and "apt-get install ffmpeg" in explicit and "--backend pyav" in explicit
    assert "skipping undecodable" not in out.stderr


@pytest.mark.slow
def test_without_ffmpeg_the_cli_refuses_torchcodec_in_one_line_and_doctor_says_why():
    refused = _evovideo("fewshot", "--encoder", "test_r2plus1d", "--backend", "torchcodec")
    assert refused.returncode == 2
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "libavutil.so.60" in lines[0] and "Traceback" not in refused.stderr, refused.stderr
    doctor = _evovideo("doctor")
    assert doctor.returncode == 0, doctor.stderr
    rows = {line[:20].strip(): line[20:] for line in doctor.stdout.splitlines()}
    assert rows["decoder 'auto'"].startswith("pyav"), doctor.stdout
    assert rows["torchcodec decodes"].startswith("no:") and "libavutil.so.60" in rows["torchcodec decodes"]
    assert rows["torch"].startswith(torch.__version__)


class _BrokenDecoderDataset(ClipDataset):
    """A dataset whose decoder cannot load (as TorchCodec without FFmpeg)."""

    opened = 0

    def _open(self, video):
        type(self).opened += 1
        raise DecoderUnavailable("decoder backend 'torchcodec' cannot decode on this machine: libavutil.so.60 ...")


def test_a_broken_decoder_is_not_n_broken_files(video_bank):
    """The error surfaces at the first file and no good file is marked skipped."""
    builder = SampleBuilder(ClipSpec(num_frames=2, stride=1, frame_rate=8.0, size=16, resize=20), train=False)
    ds = _BrokenDecoderDataset([VideoRecord(str(p)) for p in video_bank.values()], builder, train=False,
                               backend="pyav")
    with pytest.raises(DecoderUnavailable, match="libavutil"):
        ds[0]
    assert ds.skipped == 0 and _BrokenDecoderDataset.opened == 1


def test_when_every_file_fails_alike_the_error_gives_that_reason(tmp_path):
    """Six text files named .avi: the final error names the shared reason, not just 'check the files'."""
    paths = []
    for i in range(6):
        paths.append(tmp_path / f"v{i}.avi")
        paths[-1].write_text("not a video")
    builder = SampleBuilder(ClipSpec(num_frames=2, stride=1, frame_rate=8.0, size=16, resize=20), train=False)
    ds = ClipDataset([VideoRecord(str(p)) for p in paths], builder, train=False, backend="pyav")
    with pytest.raises(NoVideosDecoded) as raised:
        ds[0]
    assert "every file failed with the same error" in str(raised.value)
    assert "InvalidDataError" in str(raised.value) or "Invalid data" in str(raised.value), str(raised.value)
