"""`evovideo demo` end to end with small settings: files, pretraining, both encoders evaluated."""
from __future__ import annotations

import json

from evovideo.cli import main


def test_demo_end_to_end_small(tmp_path, capsys):
    out = tmp_path / "demo"
    code = main(["demo", "--out", str(out), "--videos-per-class", "4", "--num-classes", "5", "--num-frames", "20",
                 "--size", "32", "--pretrain-steps", "2", "--shot", "1", "--query", "2", "--episodes", "10",
                 "--container", "mp4", "--evolve-generations", "1"])
    assert code == 0
    printed = capsys.readouterr().out
    for stage in ("render", "write", "decode", "evolve", "pretrain", "evaluate", "total"):
        assert f"\n{stage}" in printed or printed.startswith(stage)
    assert "random init" in printed and "pretrained (ELo)" in printed and "next steps:" in printed
    assert "reproduce: evovideo evolve -c" in printed  # the packaged result of the search behind the recipe's λ
    assert (out / "student" / "model.safetensors").is_file() and (out / "evolve" / "results.jsonl").is_file()
    assert (out / "fewshot.png").stat().st_size > 5000
    res = json.loads((out / "results.json").read_text())
    assert set(res["results"]) == {"random init", "pretrained (ELo)"}
    assert res["config"]["episodes"] == 10 and res["config"]["shot"] == [1]  # values, not their strings
    assert set(res["split1"]["random init"]) == {"knn", "linear", "test_videos"}
    assert len(list((out / "videos" / "UCF-101").rglob("*.mp4"))) == 20
    # the student the demo saved loads back through the public loader
    from evovideo.factory import load_encoder

    assert load_encoder(f"local-dir:{out / 'student'}").model_name == "test_r2plus1d"


def test_demo_refuses_too_few_videos(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--videos-per-class", "3", "--shot", "5", "--query", "10"]) == 2
    assert "at least 15" in capsys.readouterr().out
