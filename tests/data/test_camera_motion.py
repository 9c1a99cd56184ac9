"""The camera-motion set: real footage, eight camera motions, each visible in the clips' optical flow."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from evovideo.cli import main
from evovideo.data.camera_motion import CAMERA_MOTIONS, CameraMotionVideos, camera_path


def _flow_stats(frames: np.ndarray) -> dict[str, float]:
    """Mean flow (x, y), divergence and curl of the Farneback flow of the clip's centre (pixels a frame)."""
    grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    flow = np.stack([cv2.calcOpticalFlowFarneback(grey[k], grey[k + 1], None, 0.5, 3, 9, 3, 5, 1.1, 0)
                     for k in range(len(grey) - 1)])[:, 8:-8, 8:-8]
    h, w = flow.shape[1:3]
    y, x = np.mgrid[0:h, 0:w] - np.array([(h - 1) / 2, (w - 1) / 2])[:, None, None]
    norm = (x ** 2).mean()
    return {"x": flow[..., 0].mean(), "y": flow[..., 1].mean(),
            "div": (flow[..., 0] * x + flow[..., 1] * y).mean() / norm,
            "curl": (flow[..., 1] * x - flow[..., 0] * y).mean() / norm}


# the scene moves against the camera: panning left moves it right, zooming in spreads it out
EXPECTED = {"PanLeft": ("x", 1), "PanRight": ("x", -1), "PanUp": ("y", 1), "PanDown": ("y", -1),
            "ZoomIn": ("div", 1), "ZoomOut": ("div", -1), "RotateCW": ("curl", -1), "RotateCCW": ("curl", 1)}


def test_every_clip_moves_as_its_class_says(textured_source):
    """On a still scene the only motion is the camera's: every clip's flow has its class's sign, and the
    measures of the other motions stay small."""
    ds = CameraMotionVideos([textured_source], num_videos_per_class=3, seed=0)
    assert ds.classes == list(CAMERA_MOTIONS) and len(ds) == 24
    for index in range(len(ds)):
        video, label = ds[index]
        assert video.frames.shape == (32, 48, 48, 3) and video.fps == 16.0 and video.audio is None
        key, sign = EXPECTED[CAMERA_MOTIONS[label]]
        stats = _flow_stats(video.frames.numpy())
        floor = 0.3 if key in ("x", "y") else 0.01  # pixels a frame; divergence and curl per pixel of radius
        assert sign * stats[key] > floor, (CAMERA_MOTIONS[label], stats)
        if key in ("div", "curl"):
            assert abs(stats["x"]) < 0.2 and abs(stats["y"]) < 0.2, (CAMERA_MOTIONS[label], stats)


def test_clips_are_seeded_and_the_camera_stays_inside_the_footage(textured_source):
    a = CameraMotionVideos([textured_source], num_videos_per_class=2, seed=3)
    b = CameraMotionVideos([textured_source], num_videos_per_class=2, seed=3)
    c = CameraMotionVideos([textured_source], num_videos_per_class=2, seed=4)
    assert (a[5][0].frames == b[5][0].frames).all() and not (a[5][0].frames == c[5][0].frames).all()
    rng = np.random.default_rng(0)
    half = np.array([(-1, -1), (1, -1), (1, 1), (-1, 1)]) / 2
    for motion in CAMERA_MOTIONS:
        for _ in range(50):
            centre, side, angle = camera_path(motion, rng, 32, 48, width=256, height=192)
            cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
            xs = centre[:, None, 0] + side[:, None] * (cos * half[:, 0] - sin * half[:, 1])
            ys = centre[:, None, 1] + side[:, None] * (sin * half[:, 0] + cos * half[:, 1])
            assert xs.min() >= -1e-6 and xs.max() <= 256 + 1e-6 and ys.min() >= -1e-6 and ys.max() <= 192 + 1e-6


def test_long_tail_keeps_zipf_counts_and_ucf101_names(textured_source):
    ds = CameraMotionVideos([textured_source], num_videos_per_class=8, long_tail=1.0)
    assert ds.counts == [8, 4, 3, 2, 2, 1, 1, 1] and len(ds) == 22
    names = [ds.name(i) for i in range(len(ds))]
    assert len(set(names)) == len(names) and names[8] == "PanRight/v_PanRight_g01_c01"
    assert [ds.label(i) for i in (0, 7, 8, 11, 12, 21)] == [0, 0, 1, 1, 2, 7]
    with pytest.raises(ValueError, match="at least one source video"):
        CameraMotionVideos([])
    with pytest.raises(IndexError, match="out of range for 22 camera-motion clips"):
        ds[22]


def test_bench_motion_set_writes_a_layout_the_loaders_read(textured_source, tmp_path, capsys):
    from evovideo.eval.videos import dataset_classes, dataset_records

    out = tmp_path / "motion"
    args = ["bench", "motion-set", "--sources", str(textured_source), "--videos-per-class", "2", "--out", str(out)]
    assert main(args) == 0
    assert dataset_classes("class-folders", out / "UCF-101") == sorted(CAMERA_MOTIONS)
    records = dataset_records("class-folders", out / "UCF-101")[0]
    assert len(records) == 16 and {r.class_name for r in records} == set(CAMERA_MOTIONS)
    assert json.loads((out / "motion_set.json").read_text())["counts"]["RotateCCW"] == 2
    assert main(args) != 0  # never written twice into one folder
    assert "exists: give a new --out" in capsys.readouterr().err
    assert main([*args[:3], str(tmp_path / "nope.mp4"), *args[4:-1], str(tmp_path / "m2")]) != 0
    assert "source video(s) not found" in capsys.readouterr().err
