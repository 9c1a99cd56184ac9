"""`evovideo fewshot --protocol` end to end on generated layouts whose tiny, real video files are named
like the shipped lists' entries: the shipped list is the default, and what it names but the disk lacks
is reported by name."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import torch

from evovideo.cli import main
from evovideo.data.decode import DecodedVideo
from evovideo.data.encode import write_video
from evovideo.eval.protocols import protocol_videos


def _clips(folder: Path, suffix: str, n: int = 3) -> list[Path]:
    """``n`` encoded tiny clips (16 frames, 32x24, a bright square moving on noise), to copy under list names."""
    out = []
    for seed in range(n):
        g = np.random.default_rng(seed)
        frames = g.integers(0, 60, (16, 24, 32, 3), dtype=np.uint8)
        for t in range(16):
            frames[t, 8:16, (2 * t + 5 * seed) % 24:(2 * t + 5 * seed) % 24 + 8] = 230
        out.append(write_video(folder / f"clip{seed}{suffix}", DecodedVideo(torch.from_numpy(frames), 8.0, None, None)))
    return out


def _per_class(keys: list[str], n: int) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k in keys:
        cls, _, stem = k.rpartition("/")
        if len(out.setdefault(cls, [])) < n:
            out[cls].append(stem)
    return out


def _run(tmp_path: Path, *args: str) -> dict:
    out = tmp_path / "out"
    assert main(["fewshot", "--encoder", "test_r2plus1d", *args, "--way", "5", "--shot", "1", "--query", "2",
                 "--episodes", "5", "--no-cache", "--out", str(out)]) == 0
    return json.loads((out / "results.json").read_text())


def test_kinetics100_cmn_reads_its_shipped_list_from_class_folders(tmp_path, capsys):
    keys = protocol_videos("kinetics100-cmn")
    clips, root = _clips(tmp_path, ".mp4"), tmp_path / "kinetics100"
    on_disk = _per_class(keys, 3)  # 3 of each class's 100 listed videos: the other 97 are "removed from YouTube"
    for cls, stems in on_disk.items():
        (root / cls).mkdir(parents=True)
        for i, stem in enumerate(stems):
            shutil.copyfile(clips[i], root / cls / f"{stem}.mp4")
    res = _run(tmp_path, "--protocol", "kinetics100-cmn", "--root", str(root))
    sel = res["protocol"]
    assert sel["classes"] == list(on_disk) and len(sel["classes"]) == 24 and sel["part"] == "meta_test"
    assert sel["videos"] == 72 and sel["missing_videos"] == 2400 - 72 and res["features"]["videos"] == 72
    assert sel["video_list"].startswith("shipped kinetics100-cmn.meta_test.videos.txt (tobyperrett/trx@")
    missing = set(keys) - {f"{c}/{s}" for c, stems in on_disk.items() for s in stems}
    assert set(sel["missing"]) == missing
    printed = capsys.readouterr().out
    assert "missing: 2328 listed video(s)" in printed and sel["missing"][0] in printed
    assert res["config"]["test_classes"] == list(on_disk) and res["config"]["episodes"] == 5


def test_hmdb51_arn_meta_val_reads_every_clip_the_split_file_names(tmp_path):
    """The meta-val list on the official HMDB51 layout: a clip split 1 marks unused (tag 0) counts too."""
    keys = protocol_videos("hmdb51-arn", "meta_val")
    clips, root = _clips(tmp_path, ".avi"), tmp_path / "HMDB51"
    lists = root / "testTrainMulti_7030_splits"
    lists.mkdir(parents=True)
    on_disk = _per_class(keys, 3)
    for cls, stems in on_disk.items():
        (root / cls).mkdir()
        for i, stem in enumerate(stems):
            shutil.copyfile(clips[i], root / cls / f"{stem}.avi")
        (lists / f"{cls}_test_split1.txt").write_text("".join(f"{s}.avi {t} \n" for s, t in zip(stems, "120")))
    res = _run(tmp_path, "--protocol", "hmdb51-arn", "--protocol-part", "meta_val", "--root", str(root))
    sel = res["protocol"]
    assert sel["classes"] == sorted(on_disk) and sel["videos"] == 30 and res["features"]["videos"] == 30
    assert sel["missing_videos"] == len(keys) - 30 and sel["part"] == "meta_val"
