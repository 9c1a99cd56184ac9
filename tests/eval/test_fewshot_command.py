"""`evovideo fewshot` end to end on the built-in synthetic set, and on a real UCF101 layout."""
from __future__ import annotations

import json

import pytest

from evovideo.cli import main


def _args(tmp_path, *extra):
    return ["fewshot", "--encoder", "test_r2plus1d", "--videos-per-class", "4", "--way", "3", "--shot", "1", "2",
            "--query", "2", "--episodes", "20", "--cache-dir", str(tmp_path / "cache"), "--out", str(tmp_path / "out"),
            *extra]


def test_fewshot_synthetic_same_seed_same_numbers_and_cache(tmp_path, capsys):
    assert main(_args(tmp_path, "--dataset", "synthetic")) == 0
    printed = capsys.readouterr().out
    assert "3-way, 2 queries/class, 20 episodes, seed 0" in printed and "±" in printed
    first = json.loads((tmp_path / "out" / "results.json").read_text())
    assert (tmp_path / "out" / "fewshot.png").stat().st_size > 5000
    assert first["features"]["cache"] == "miss" and first["features"]["videos"] == 40
    (run,) = first["results"].values()
    assert [r["shot"] for r in run] == [1, 2] and set(run[0]["accuracy"]) == {"prototypes", "logreg"}
    assert main(_args(tmp_path, "--dataset", "synthetic")) == 0  # second run: features from the cache
    second = json.loads((tmp_path / "out" / "results.json").read_text())
    assert second["features"]["cache"] == "hit"
    accuracies = lambda res: [r["accuracy"] for run in res["results"].values() for r in run]  # noqa: E731
    assert accuracies(second) == accuracies(first)


def test_fewshot_class_split_file_on_ucf101_layout(tmp_path, capsys):
    from evovideo.data.synthetic import SyntheticVideos, write_ucf101_layout

    root = tmp_path / "UCF101"
    write_ucf101_layout(root, SyntheticVideos(num_videos_per_class=3, num_classes=4, num_frames=20, size=32))
    split = tmp_path / "classes.txt"
    split.write_text("MoveLeft\nmoveright\nMoveUp\n")
    assert main(["fewshot", "--encoder", "test_r2plus1d", "--dataset", "ucf101", "--root", str(root), "--way", "3",
                 "--shot", "1", "--query", "2", "--episodes", "5", "--classes", str(split), "--no-cache",
                 "--probes", "--out", str(tmp_path / "out")]) == 0
    res = json.loads((tmp_path / "out" / "results.json").read_text())
    assert res["config"]["test_classes"] == ["MoveLeft", "MoveRight", "MoveUp"] and res["features"]["videos"] == 9
    # probes: every class of split 1, train list -> test list (groups 1-7 test: 1 of the 3 clips per class)
    assert res["probes"]["train_videos"] == 8 and res["probes"]["test_videos"] == 4
    assert 0.0 <= res["probes"]["knn"] <= 100.0 and "kNN" in capsys.readouterr().out
    split.write_text("MoveLeft\nDance\n")
    assert main(["fewshot", "--encoder", "test_r2plus1d", "--dataset", "ucf101", "--root", str(root),
                 "--classes", str(split), "--no-cache"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Dance" in err[0], err


def test_fewshot_folder_of_real_clips(realclips, tmp_path):
    """The folder dataset (root/<class>/<video>) through the real decoder on real files."""
    root = tmp_path / "clips"
    groups = {"kinetics": ["kinetics_armwrestling_h264.mp4", "kinetics_style_h264_30fps.mp4"],
              "other": ["ucf101_applyeyemakeup_mpeg4_mp3.avi", "ava_style_h264_6fps.mp4"]}
    for cls, files in groups.items():
        (root / cls).mkdir(parents=True)
        for f in files:
            (root / cls / f).symlink_to(realclips / f)
    assert main(["fewshot", "--encoder", "test_r2plus1d", "--dataset", "class-folders", "--root", str(root), "--way", "2",
                 "--shot", "1", "--query", "1", "--episodes", "4", "--no-cache", "--out", str(tmp_path / "out")]) == 0
    res = json.loads((tmp_path / "out" / "results.json").read_text())
    assert res["features"]["videos"] == 4 and res["config"]["test_classes"] == ["kinetics", "other"]
