"""`evovideo zipf` scores an encoder without labels: synthetic videos and a folder of real clips."""
from __future__ import annotations

import json
import math

import pytest

from evovideo.cli import main


def test_zipf_command_synthetic_with_knn(tmp_path, capsys):
    out = tmp_path / "z"
    assert main(["zipf", "--encoder", "test_r2plus1d", "--dataset", "synthetic", "--videos-per-class", "2",
                 "--k", "4", "--knn", "--out", str(out)]) == 0
    report = json.loads((out / "zipf.json").read_text())
    assert report["videos"] == 20 and report["k"] == 4 and len(report["masses"]) == 4
    assert report["zipf_kl_worst"] == pytest.approx(math.log(1 + 1 / 2 + 1 / 3 + 1 / 4))
    assert 0.0 <= report["zipf_kl"] <= report["zipf_kl_worst"]
    assert 0.0 <= report["knn_accuracy"] <= 1.0
    assert (out / "rank_size.png").stat().st_size > 0
    printed = capsys.readouterr().out
    assert "Zipf fitness =" in printed and "KL(p||q) =" in printed and "structure g" in printed


def test_zipf_command_on_unlabeled_folder_of_real_clips(tmp_path, realclips):
    out = tmp_path / "z"
    assert main(["zipf", "--encoder", "test_r2plus1d", "--dataset", "folder", "--root", str(realclips),
                 "--k", "2", "--precision", "int8", "--out", str(out)]) == 0
    report = json.loads((out / "zipf.json").read_text())
    assert report["videos"] >= 2 and report["clusters_found"] == 2 and report["precision"] == "int8"


def test_precision_choices_follow_kmeans():
    """The CLIs list the precisions without importing torch (fast --help); they must match kmeans'."""
    import argparse

    from evovideo.bench import zipf as bench_zipf
    from evovideo.commands import zipf as zipf_command
    from evovideo.evolution.kmeans import PRECISION_CHOICES, PRECISIONS

    parser = argparse.ArgumentParser()
    zipf_command.add_arguments(parser)
    assert next(a for a in parser._actions if a.dest == "precision").choices == PRECISION_CHOICES
    parser = argparse.ArgumentParser()
    bench_zipf.add_arguments(parser)
    assert tuple(next(a for a in parser._actions if a.dest == "precision").default) == PRECISIONS


def test_zipf_command_is_deterministic_for_a_random_init_encoder(tmp_path):
    import torch

    scores = []
    for run, state in enumerate((1, 2)):
        torch.manual_seed(state)  # whatever the process' RNG state was before
        out = tmp_path / f"z{run}"
        assert main(["zipf", "--encoder", "test_r2plus1d", "--videos-per-class", "1", "--k", "3",
                     "--out", str(out)]) == 0
        scores.append(json.loads((out / "zipf.json").read_text())["zipf_kl"])
    assert scores[0] == scores[1]


def test_zipf_command_k_larger_than_the_videos_fails_before_extraction(monkeypatch, realclips):
    import evovideo.eval.features as features

    monkeypatch.setattr(features, "extract_features", lambda *a, **k: pytest.fail("features were extracted"))
    with pytest.raises(SystemExit, match="--k 100 \\(the default\\) is more clusters than the [0-9] videos"):
        main(["zipf", "--encoder", "test_r2plus1d", "--dataset", "folder", "--root", str(realclips)])
    with pytest.raises(SystemExit, match="--k 11 is more clusters than the 10 videos of --dataset synthetic"):
        main(["zipf", "--encoder", "test_r2plus1d", "--videos-per-class", "1", "--k", "11"])
