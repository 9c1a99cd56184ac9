"""The synthetic video set: determinism, motion-only class signal, audio, real files, UCF101 splits."""
from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from evovideo.data.decode import DecodedVideo, decode_video
from evovideo.data.synthetic import MOTIONS, SyntheticVideos, ucf101_split_groups, write_ucf101_layout


def small(**kw) -> SyntheticVideos:
    args = dict(num_videos_per_class=2, num_classes=3, num_frames=8, size=32, fps=16, seed=0)
    return SyntheticVideos(**{**args, **kw})


# -- determinism ------------------------------------------------------------------------------
def test_same_seed_same_tensors_and_items_made_alone():
    a, b = small(seed=3), small(seed=3)
    for i in range(len(a)):
        va, la = a[i]
        vb, lb = b[i]
        assert la == lb
        assert torch.equal(va.frames, vb.frames) and torch.equal(va.audio, vb.audio)
    # item 4 alone (fresh dataset, nothing rendered before it) equals item 4 after the others
    assert torch.equal(small(seed=3)[4][0].frames, a[4][0].frames)


def test_different_seeds_and_items_differ():
    a, b = small(seed=0), small(seed=1)
    assert not torch.equal(a[0][0].frames, b[0][0].frames)
    assert not torch.equal(a[0][0].audio, b[0][0].audio)
    assert not torch.equal(a[0][0].frames, a[1][0].frames)


def test_items_shapes_labels_names():
    ds = small(num_classes=10, num_videos_per_class=3)
    assert len(ds) == 30 and ds.classes == list(MOTIONS)
    video, label = ds[29]
    assert isinstance(video, DecodedVideo) and label == 9 == ds.label(29)
    assert video.frames.shape == (8, 32, 32, 3) and video.frames.dtype == torch.uint8
    assert video.fps == 16.0 and video.sample_rate == 16000
    assert video.audio.shape == (1, 8000) and video.audio.dtype == torch.float32  # 0.5 s at 16 kHz
    assert re.fullmatch(r"Jitter/v_Jitter_g\d\d_c\d\d", ds.name(29))
    assert len({ds.name(i) for i in range(len(ds))}) == len(ds)
    with pytest.raises(IndexError, match="out of range"):
        ds[30]
    with pytest.raises(ValueError, match="1..10 motions"):
        SyntheticVideos(num_classes=11)
    with pytest.raises(ValueError, match="even"):
        SyntheticVideos(size=33)


# -- classes differ by motion, not appearance -------------------------------------------------
def _gray(frames: np.ndarray) -> np.ndarray:
    return frames.astype(np.float32).mean(-1) / 255.0  # (T, H, W)


def motion_features(frames: np.ndarray) -> np.ndarray:
    """Statistics of frame differences: global translation (least-squares optical flow), how it
    turns from frame to frame, growth of the edge content, and the size of the differences."""
    g = _gray(frames)
    ix = (np.roll(g, -1, 2) - np.roll(g, 1, 2)) / 2  # the scene wraps around, so roll is exact
    iy = (np.roll(g, -1, 1) - np.roll(g, 1, 1)) / 2
    d = g[1:] - g[:-1]
    ix, iy = (ix[1:] + ix[:-1]) / 2, (iy[1:] + iy[:-1]) / 2
    a, b, c = (ix * ix).sum((1, 2)), (ix * iy).sum((1, 2)), (iy * iy).sum((1, 2))
    p, q = -(ix * d).sum((1, 2)), -(iy * d).sum((1, 2))
    det = a * c - b * b + 1e-8
    u, v = (c * p - b * q) / det, (a * q - b * p) / det  # (T-1,) translation per frame pair
    speed = np.hypot(u, v) + 1e-8
    turn = (u[:-1] * v[1:] - v[:-1] * u[1:]) / (speed[:-1] * speed[1:])
    same_way = (u[:-1] * u[1:] + v[:-1] * v[1:]) / (speed[:-1] * speed[1:])
    edges = np.hypot(ix, iy).sum((1, 2))
    growth = np.polyfit(np.arange(len(edges)), edges / edges.mean(), 1)[0] * len(edges)
    return np.array([u.mean(), v.mean(), turn.mean(), same_way.mean(), growth,
                     edges.std() / edges.mean(), np.abs(d).mean() * 10])


def appearance_features(frames: np.ndarray) -> np.ndarray:
    """Statistics that ignore time: mean / std colour of the clip and of its first frame, texture."""
    f = frames.astype(np.float32) / 255.0
    g = _gray(frames)
    texture = np.hypot(np.diff(g, axis=2)[:, :-1], np.diff(g, axis=1)[:, :, :-1]).mean()
    return np.concatenate([f.mean((0, 1, 2)), f.std((0, 1, 2)), f[0].mean((0, 1)), [texture]])


def nearest_centroid_accuracy(x: np.ndarray, y: np.ndarray, train: np.ndarray) -> float:
    x = (x - x[train].mean(0)) / (x[train].std(0) + 1e-8)
    centroids = np.stack([x[train & (y == k)].mean(0) for k in np.unique(y)])
    pred = np.argmin(((x[~train][:, None] - centroids[None]) ** 2).sum(-1), 1)
    return float((pred == y[~train]).mean())


def test_classes_differ_by_motion_not_appearance():
    ds = SyntheticVideos(num_videos_per_class=8, num_classes=10, num_frames=16, size=32, seed=0)
    frames = [ds[i][0].frames.numpy() for i in range(len(ds))]
    y = np.array([ds.label(i) for i in range(len(ds))])
    train = np.arange(len(ds)) % 2 == 0
    motion = nearest_centroid_accuracy(np.stack([motion_features(f) for f in frames]), y, train)
    looks = nearest_centroid_accuracy(np.stack([appearance_features(f) for f in frames]), y, train)
    # chance is 0.1; measured over seeds 0-5 (a scene per clip): motion 0.62-0.75, appearance 0.075-0.20
    assert motion >= 0.5, motion
    assert looks <= 0.3, looks


# -- audio follows what moves -----------------------------------------------------------------
def _dominant_log2_hz(wave: np.ndarray, sample_rate: int) -> float:
    spec = np.abs(np.fft.rfft(wave * np.hanning(len(wave)), 8192))
    return float(np.log2(np.fft.rfftfreq(8192, 1 / sample_rate)[spec.argmax()]))


def test_audio_pitch_follows_height_and_loudness_follows_motion():
    ds = SyntheticVideos(num_videos_per_class=3, num_classes=10, num_frames=16, size=32, seed=0)
    heights, pitches, rms, pixel_change, per_frame = [], [], [], [], []
    for i in range(len(ds)):
        video, _ = ds[i]
        wave, traj = video.audio[0].numpy(), ds.trajectory(i)
        n = len(wave) // ds.num_frames
        windows = wave[: n * ds.num_frames].reshape(ds.num_frames, n)
        pitches += [_dominant_log2_hz(w, 16000) for w in windows]
        heights += list(1 - traj.y / ds.size)
        if traj.speed.std() > 0.05:  # blinking, jittering: the speed changes within the clip
            per_frame.append(np.corrcoef(np.sqrt((windows ** 2).mean(1)), traj.speed)[0, 1])
        rms.append(np.sqrt((wave ** 2).mean()))
        pixel_change.append(np.abs(np.diff(_gray(video.frames.numpy()), axis=0)).mean())
    assert np.corrcoef(heights, pitches)[0, 1] > 0.95  # two octaves from bottom to top
    assert len(per_frame) >= 6 and np.mean(per_frame) > 0.8  # loudness tracks the speed frame by frame
    # and, from the pixels alone: clips whose frames change more are louder (rank correlation)
    ranks = lambda v: np.argsort(np.argsort(v))  # noqa: E731
    assert np.corrcoef(ranks(rms), ranks(pixel_change))[0, 1] > 0.3
    # a blob moving up sounds higher and higher (between wrap-arounds); moving down, lower
    up, down = ds.classes.index("MoveUp"), ds.classes.index("MoveDown")
    p = np.array(pitches).reshape(len(ds), ds.num_frames)
    rises = lambda k: (np.diff(p[k * 3:(k + 1) * 3], axis=1) > 0).mean()  # noqa: E731
    assert rises(up) > 0.75 and rises(down) < 0.25


# -- real files in the UCF101 layout ----------------------------------------------------------
@pytest.mark.parametrize("container", ["avi", "mp4"])
def test_files_decode_back(tmp_path, container):
    ds = small()
    paths = write_ucf101_layout(tmp_path, ds, container=container)
    assert len(paths) == len(ds)
    codecs = {"avi": ("mpeg4", "mp3"), "mp4": ("h264", "aac")}[container]
    import av

    for i, path in enumerate(paths):
        assert path == tmp_path / "UCF-101" / f"{ds.name(i)}.{container}"
        with av.open(str(path)) as f:
            assert (f.streams.video[0].codec_context.name, f.streams.audio[0].codec_context.name[:3]) == codecs
        original, _ = ds[i]
        decoded = decode_video(path)
        assert decoded.frames.shape == original.frames.shape  # same frame count and size
        assert decoded.fps == pytest.approx(16.0)
        corr = np.corrcoef(decoded.frames.float().flatten(), original.frames.float().flatten())[0, 1]
        assert corr > 0.9, corr
        assert decoded.audio is not None and decoded.sample_rate == 16000
        # codec padding adds at most two frames of samples (MP3: 1152 each; AAC: 1024)
        assert abs(decoded.audio.shape[1] - original.audio.shape[1]) <= 2304
        ratio = float(decoded.audio.pow(2).mean().sqrt() / original.audio.pow(2).mean().sqrt())
        assert 0.7 < ratio < 1.3


def test_split_files_are_ucf101_format_and_cover_every_video(tmp_path):
    ds = small(num_videos_per_class=6, num_classes=4)
    write_ucf101_layout(tmp_path, ds, container="avi")
    lists = tmp_path / "ucfTrainTestlist"
    raw = (lists / "classInd.txt").read_bytes()
    assert raw.endswith(b"\r\n")  # Windows line ends, which a split parser has to cope with
    class_ind = dict(line.split(" ") for line in raw.decode().splitlines())
    assert class_ind == {"1": "MoveLeft", "2": "MoveRight", "3": "MoveUp", "4": "MoveDown"}
    on_disk = {p.relative_to(tmp_path / "UCF-101").as_posix() for p in (tmp_path / "UCF-101").rglob("*.avi")}
    assert len(on_disk) == len(ds)
    for split in (1, 2, 3):
        train_lines = (lists / f"trainlist0{split}.txt").read_text().splitlines()
        test_lines = (lists / f"testlist0{split}.txt").read_text().splitlines()
        train = {}
        for line in train_lines:
            m = re.fullmatch(r"(\w+)/v_(\w+)_g(\d\d)_c(\d\d)\.avi (\d+)", line)
            assert m, line
            assert m[1] == m[2] == class_ind[m[5]]
            assert int(m[3]) not in ucf101_split_groups(split)
            train[line.split(" ")[0]] = int(m[5])
        for line in test_lines:
            m = re.fullmatch(r"(\w+)/v_(\w+)_g(\d\d)_c(\d\d)\.avi", line)
            assert m, line
            assert int(m[3]) in ucf101_split_groups(split)
        assert not set(train) & set(test_lines)
        assert sorted([*train, *test_lines]) == sorted(on_disk)  # every video once per split
        assert len(test_lines) > 0 and len(train) > len(test_lines)


def test_groups_spread_over_25_and_every_clip_has_its_own_scene():
    ds = small(num_videos_per_class=30, num_classes=2, num_frames=2)
    groups = [ds.group_clip(i) for i in range(30)]
    assert groups[0] == (1, 1) and groups[-1][0] == 25 and len(set(groups)) == 30
    assert [ds.group_clip(i) for i in range(30, 60)] == groups
    assert groups[1] == (1, 2)  # 30 clips over 25 groups: group 1 has clips c01 and c02

    def background_gap(i: int, j: int) -> float:
        # median pixel difference: the blob covers a minority of pixels
        return float((ds[i][0].frames[0].float() - ds[j][0].frames[0].float()).abs().median())

    # the same clip rendered twice differs by nothing; any two clips differ by their whole scene:
    # same group and class (0, 1), same group in another class (0, 30), same class (0, 29)
    assert background_gap(0, 0) == 0
    assert background_gap(0, 1) > 10 and background_gap(0, 30) > 10 and background_gap(0, 29) > 10
    # no scene is shared at all, within a group, a class or across them
    gaps = [background_gap(i, j) for i in range(0, 60, 7) for j in range(i + 1, 60, 11)]
    assert min(gaps) > 3, min(gaps)


def test_background_alone_carries_no_class_or_group_signal():
    """Static appearance (the first frame's colours and texture, mostly background) is no closer
    between clips of one class, or of one group, than between any two clips."""
    ds = SyntheticVideos(num_videos_per_class=25, num_classes=4, num_frames=2, size=32, seed=0)
    x = np.stack([appearance_features(ds[i][0].frames.numpy()) for i in range(len(ds))])
    x = (x - x.mean(0)) / x.std(0)
    d = ((x[:, None] - x[None]) ** 2).sum(-1)
    y = np.array([ds.label(i) for i in range(len(ds))])
    g = np.array([ds.group_clip(i)[0] for i in range(len(ds))])
    off = ~np.eye(len(ds), dtype=bool)
    same_class, same_group = (y[:, None] == y[None]) & off, (g[:, None] == g[None]) & off
    other = off & ~same_class & ~same_group
    # measured over seeds 0-3 with a scene per clip: ratios 0.96-1.02; a scene shared by the clips
    # of a group (or of a class) gives 0.27 for same-group (same-class) pairs
    assert 0.8 < d[same_group].mean() / d[other].mean() < 1.25, d[same_group].mean() / d[other].mean()
    assert 0.8 < d[same_class].mean() / d[other].mean() < 1.25, d[same_class].mean() / d[other].mean()
