"""Helpers: real encoded tiny videos (PyAV) arranged in the official dataset layouts."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from evovideo.data.decode import DecodedVideo, torchcodec_status
from evovideo.data.encode import write_video

FPS = 8
TORCHCODEC, _WHY = torchcodec_status()  # a real decode of a probe clip, not an import
NO_TORCHCODEC = f"TorchCodec cannot decode on this machine: {_WHY}"


def with_torchcodec(*values):
    """A parametrize value that needs TorchCodec: skipped, with the reason, when it cannot load."""
    return pytest.param(*values, marks=pytest.mark.skipif(not TORCHCODEC, reason=NO_TORCHCODEC))


BACKENDS = ["pyav", with_torchcodec("torchcodec")]
CLASSES = ["ApplyLipstick", "Biking", "Diving"]


def tiny_video(seed: int, *, frames: int = 16, audio: bool = True) -> DecodedVideo:
    """A bright square moving right on noise (so flow is not zero), 32x24, optional 440 Hz tone."""
    g = np.random.default_rng(seed)
    video = g.integers(0, 60, (frames, 24, 32, 3), dtype=np.uint8)
    for t in range(frames):
        x = (2 * t + seed) % 24
        video[t, 8:16, x:x + 8] = 230
    wave = None
    if audio:
        s = np.arange(int(16000 * frames / FPS)) / 16000
        wave = torch.from_numpy((0.3 * np.sin(2 * np.pi * (440 + 50 * seed) * s)).astype(np.float32))[None]
    return DecodedVideo(torch.from_numpy(video), float(FPS), wave, 16000 if audio else None)


def _copy(bank: dict[str, Path], i: int, dest: Path, suffix: str = ".avi") -> Path:
    keys = [k for k in bank if bank[k].suffix == suffix]
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(bank[keys[i % len(keys)]], dest)
    return dest


def make_ucf101(root: Path, bank: dict[str, Path], groups: int = 3) -> Path:
    """UCF-101/<Class>/v_<Class>_gXX_c01.avi + ucfTrainTestlist/ (split N: group N is test)."""
    lists = root / "ucfTrainTestlist"
    lists.mkdir(parents=True)
    (lists / "classInd.txt").write_text("".join(f"{i + 1} {c}\n" for i, c in enumerate(CLASSES)))
    names = {}
    for ci, c in enumerate(CLASSES):
        for g in range(1, groups + 1):
            rel = f"{c}/v_{c}_g{g:02d}_c01.avi"
            _copy(bank, ci + g, root / "UCF-101" / rel)
            names[(ci, g)] = rel
    for split in (1, 2, 3):
        train = [f"{rel} {ci + 1}\n" for (ci, g), rel in names.items() if g != split]
        test = [f"{rel}\n" for (ci, g), rel in names.items() if g == split]
        (lists / f"trainlist{split:02d}.txt").write_text("".join(train))
        (lists / f"testlist{split:02d}.txt").write_text("".join(test))
    return root


def make_hmdb51(root: Path, bank: dict[str, Path], per_class: int = 3) -> Path:
    """<class>/<video>.avi + testTrainMulti_7030_splits/<class>_test_splitN.txt (1 train, 2 test, 0 unused)."""
    lists = root / "testTrainMulti_7030_splits"
    lists.mkdir(parents=True)
    classes = ["brush_hair", "cartwheel", "climb"]
    for ci, c in enumerate(classes):
        vids = [f"{c}_clip{i}_u_nm_np1_fr_med_{i}.avi" for i in range(per_class)]
        for i, v in enumerate(vids):
            _copy(bank, ci + i, root / c / v)
        for split in (1, 2, 3):
            tags = ["2" if i == split - 1 else "1" for i in range(per_class)]
            tags[(split) % per_class] = "0" if per_class > 2 else tags[(split) % per_class]
            (lists / f"{c}_test_split{split}.txt").write_text("".join(f"{v} {t} \n" for v, t in zip(vids, tags)))
    return root


def make_kinetics_csv(root: Path, bank: dict[str, Path]) -> Path:
    """annotations/{train,validate,test}.csv + <fold>/<label>/<ytid>_<start>_<end>.mp4 (one row missing)."""
    (root / "annotations").mkdir(parents=True)
    labels = ["arm wrestling", "abseiling"]
    for fold, csv_name, n in (("train", "train", 4), ("val", "validate", 2), ("test", "test", 2)):
        rows = ["label,youtube_id,time_start,time_end,split"]
        for i in range(n):
            label, yt = labels[i % 2], f"{fold[:2]}{i:09d}"
            rows.append(f"{label},{yt},{10 * i},{10 * i + 10},{csv_name}")
            _copy(bank, i, root / fold / label / f"{yt}_{10 * i:06d}_{10 * i + 10:06d}.mp4", ".mp4")
        rows.append(f"{labels[0]},gone0000000,0,10,{csv_name}")  # deleted from YouTube: no file
        (root / "annotations" / f"{csv_name}.csv").write_text("\n".join(rows) + "\n")
    return root


def make_kinetics_folders(root: Path, bank: dict[str, Path]) -> Path:
    for fold in ("train", "val", "test"):
        for ci, c in enumerate(["abseiling", "arm wrestling"]):
            for i in range(2):
                _copy(bank, ci + i, root / fold / c / f"x{ci}{i}.mp4", ".mp4")
    return root


# small clips so every test stays fast: 4 frames, 16x16 crops of 20-pixel frames
SMALL = dict(num_frames=4, stride=1, frame_rate=8.0, size=16, resize=20, batch_size=2, test_clips=2, test_crops=3)
