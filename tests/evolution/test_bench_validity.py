"""`evovideo bench validity`: every candidate student of a run re-scored on held-out clips, long-tailed
and balanced, against labelled measures."""
from __future__ import annotations

import json

import torch

from evovideo.bench.validity import correlations, students
from evovideo.cli import main
from evovideo.factory import create_model
from evovideo.hub.io import save_pretrained


def _run(tmp_path, ids=("g000c000", "g000c001", "g000c002", "g000c003"), steps=(3,)):
    run = tmp_path / "ev"
    rows = [{"kind": "header"}]
    for i, cid in enumerate(ids):
        for n in steps:
            torch.manual_seed(i)
            save_pretrained(create_model("test_r2plus1d"), run / "candidates" / cid / f"steps{n}" / "logs" / "version_0" / "student")
            rows.append({"id": cid, "generation": 0, "index": i, "steps": n, "score": 0.1 * i, "lambdas": {}})
    (run / "results.jsonl").write_text("\n".join(map(json.dumps, rows)) + "\n")
    return run


def test_bench_validity_rescores_every_candidate_on_both_sets(tmp_path, capsys):
    run = _run(tmp_path)
    assert [s[:2] for s in students(run)] == [(f"g000c00{i}", 3) for i in range(4)]
    assert main(["bench", "validity", "--run", str(run), "--videos-per-class", "8", "--query", "2", "--episodes", "10",
                 "--restarts", "1", "--k", "3", "--flow-method", "farneback"]) == 0
    out = json.loads((run / "validity.json").read_text())
    assert [c["id"] for c in out["candidates"]] == [f"g000c00{i}" for i in range(4)]
    agreement = "agreement (ARI with the clusters of the clips' flow HOF)"  # scored against the clips' own flow
    assert all(-1 <= c["fitness"][agreement][s] <= 1 for c in out["candidates"] for s in ("long-tailed", "balanced"))
    assert len({c["fitness"][agreement]["balanced"] for c in out["candidates"]}) > 1
    assert [c["run_score"] for c in out["candidates"]] == [0.0, 0.1, 0.2, 0.30000000000000004]
    kinds = {(c["fitness"], c["set"]) for c in out["correlations"]}
    assert ("the run's own score", "its fitness set") in kinds
    assert {("zipf (guarded, default)", s) for s in ("long-tailed", "balanced")} <= kinds
    assert all(c["n"] == 4 for c in out["correlations"])
    # the shipped score's parts are correlated on their own, negated (lower is better): g in [0, 1]
    guard = [c["fitness"]["guard g alone (explained x spread)"] for c in out["candidates"]]
    assert all(-1 <= g[s] <= 0 for g in guard for s in ("long-tailed", "balanced"))
    assert ("explained variance alone", "balanced") in kinds
    assert (run / "plots" / "validity.png").stat().st_size > 0
    assert (run / "plots" / "validity_agreement.png").stat().st_size > 0
    assert "| 3 steps | zipf (guarded, default) | long-tailed |" in capsys.readouterr().out
    # students from elsewhere (full-length runs) join the last rung in "all students"
    torch.manual_seed(9)
    save_pretrained(create_model("test_r2plus1d"), tmp_path / "arm-seed0" / "logs" / "student")
    assert main(["bench", "validity", "--run", str(run), "--videos-per-class", "8", "--query", "2", "--episodes", "10",
                 "--restarts", "1", "--k", "3", "--flow-method", "farneback",
                 "--also", str(tmp_path / "arm-seed0"), str(tmp_path / "nothing")]) == 0
    out = json.loads((run / "validity.json").read_text())
    assert out["candidates"][-1]["id"] == "arm-seed0" and out["candidates"][-1]["run_score"] is None
    groups = {(c["students"], c["n"]) for c in out["correlations"]}
    assert groups == {("3 steps", 4), ("all students", 5)}


def test_validity_correlates_per_rung_with_the_sign_of_agreement():
    rows = [{"id": str(i), "steps": n, "run_score": float(-acc), "fewshot5": acc, "knn": -acc,
             "fitness": {"f": {"long-tailed": float(-acc), "balanced": float(acc)}}}
            for n in (5, 10) for i, acc in enumerate([20.0, 30.0, 40.0, 50.0])]
    corr = {(int(c["students"].split()[0]), c["fitness"], c["set"]): c for c in correlations(rows)}
    assert len(corr) == 6  # 2 rungs x (run score + 2 sets)
    assert corr[(5, "f", "long-tailed")]["rho_fewshot5"] == 1.0  # lower fitness, higher accuracy: agrees
    assert corr[(5, "f", "balanced")]["rho_fewshot5"] == -1.0
    assert corr[(10, "the run's own score", "its fitness set")]["rho_knn"] == -1.0


def test_bench_validity_ranks_students_given_with_also_alone(tmp_path, capsys):
    for i in range(3):
        torch.manual_seed(i)
        save_pretrained(create_model("test_r2plus1d"), tmp_path / f"arm-seed{i}" / "logs" / "student")
    out_dir = tmp_path / "pool"
    assert main(["bench", "validity", "--run", str(out_dir), "--videos-per-class", "8", "--query", "2", "--episodes",
                 "5", "--restarts", "1", "--k", "3", "--flow-method", "farneback",
                 "--also", *(str(tmp_path / f"arm-seed{i}") for i in range(3))]) == 0
    out = json.loads((out_dir / "validity.json").read_text())
    assert [c["id"] for c in out["candidates"]] == ["arm-seed0", "arm-seed1", "arm-seed2"]
    assert {c["students"] for c in out["correlations"]} == {"all students"}


def test_bench_validity_without_any_student_says_what_to_give(tmp_path):
    import pytest

    with pytest.raises(SystemExit, match="and --also names none"):
        main(["bench", "validity", "--run", str(tmp_path / "empty")])


def test_bench_validity_rescores_on_a_labelled_folder(tmp_path, textured_source, capsys):
    """--dataset class-folders --root DIR: the candidates are ranked on those videos (before, only on rendered
    synthetic clips: a search over other data could not be checked on data like its own), the agreement's
    flow reference read from the same files."""
    run = _run(tmp_path, ids=("g000c000", "g000c001", "g000c002"))
    assert main(["bench", "motion-set", "--sources", str(textured_source), "--videos-per-class", "7",
                 "--out", str(tmp_path / "motion")]) == 0
    root = tmp_path / "motion" / "UCF-101"
    args = ["bench", "validity", "--run", str(run), "--query", "2", "--episodes", "5", "--restarts", "1", "--k", "8",
            "--flow-method", "farneback"]
    assert main([*args, "--dataset", "class-folders", "--root", str(root)]) == 0
    out = json.loads((run / "validity.json").read_text())
    agreement = "agreement (ARI with the clusters of the clips' flow HOF)"
    assert len({c["fitness"][agreement]["balanced"] for c in out["candidates"]}) > 1
    assert out["settings"]["dataset"] == "class-folders" and out["settings"]["root"] == str(root)
    assert main([*args, "--dataset", "class-folders", "--root", str(tmp_path / "none")]) != 0
    assert "needs --root, an existing folder" in capsys.readouterr().err
