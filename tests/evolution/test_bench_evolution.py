"""`evovideo bench evolution`: arms built from a results file and a recipe, trained and scored end to end."""
from __future__ import annotations

import json
import re

import pytest
import yaml

from evovideo.bench.arm_stats import format_table
from evovideo.bench.evolution import best_of
from evovideo.cli import main

TINY = {"num_classes": 4, "video_frames": 16, "video_size": 32, "modalities": ["rgb"], "num_frames": 4,
        "stride": 2, "size": 16, "resize": 20, "batch_size": 4, "num_videos_per_class": 2}
RECIPE = {
    "model": {"class_path": "evovideo.lightning.PretrainModule",
              "init_args": {"student": "test_r2plus1d", "tasks": {"rgb/reconstruction": 0.5, "rgb/arrow_of_time": 0.5},
                            "lr": 0.01}},
    "data": {"class_path": "evovideo.lightning.SyntheticDataModule", "init_args": TINY},
    "trainer": {"accelerator": "cpu", "devices": 1, "max_steps": 2, "limit_val_batches": 0, "logger": False},
}


def _results(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(json.dumps(r) for r in [{"kind": "header"}, *rows]) + "\n")
    return path


def test_best_of_ranks_like_the_search(tmp_path):
    rows = [{"id": "a", "generation": 0, "index": 0, "score": 0.1, "steps": 3, "final": True, "lambdas": {"x": 1}},
            {"id": "b", "generation": 0, "index": 1, "score": 0.5, "steps": 9, "final": True, "lambdas": {"x": 0}},
            {"id": "c", "generation": 0, "index": 2, "score": 0.01, "steps": 9, "final": False, "lambdas": {"x": 0}},
            {"id": "d", "generation": 1, "index": 0, "score": float("inf"), "lambdas": {"x": 0}}]
    assert best_of(_results(tmp_path / "r.jsonl", rows))["id"] == "b"  # survivor at 9 steps beats a rung-3 score
    table = format_table({"arms": {"x": {"runs": [{"1-shot": {"mean": 40.0, "ci95": 1.0}},
                                                  {"1-shot": {"mean": 50.0, "ci95": 1.0}}]},
                                   "y": {"runs": []}}}, [1])
    assert "| x | 45.0 ± 63.5 | 2 seeds |" in table and "| y | refused |" in table


def test_the_evolved_arm_can_be_the_pick_of_a_packaged_summary(tmp_path):
    """The packaged summary's pick can be tested on fresh seeds without the search's results.jsonl."""
    import argparse
    from pathlib import Path

    from evovideo.bench.evolution import arms

    packaged = Path(__file__).resolve().parents[2] / "recipes" / "evolve" / "demo_synthetic.summary.json"
    best = json.loads(packaged.read_text())["best"]
    assert best_of(packaged) == best
    args = argparse.Namespace(arms=["evolved", "hand"], evolved=str(packaged), random=None, single=None)
    table = arms(args, {"flow-rgb/cross_modal_embedding": 1.0, "flow:layer3": 0.5}, {})
    label = f"evolved ({best['id']} of demo_synthetic.summary.json)"
    assert list(table) == [label, "hand-set (recipe)"]
    assert {n: v for n, v in table[label].items() if v} == {n: v for n, v in best["lambdas"].items() if v}
    (tmp_path / "summary.json").write_text(json.dumps({"command": "evovideo evolve", "best": None}))
    with pytest.raises(ValueError, match="summary.json has no 'best' candidate"):
        best_of(tmp_path / "summary.json")


@pytest.mark.slow
def test_bench_evolution_runs_every_arm(tmp_path, capsys):
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(RECIPE))
    res = _results(tmp_path / "ev" / "results.jsonl", [{"id": "g000c001", "generation": 0, "index": 1, "score": 0.3,
                                                        "lambdas": {"rgb/reconstruction": 0.2, "rgb/arrow_of_time": 0.9}}])
    code = main(["bench", "evolution", "--recipe", str(tmp_path / "p.yaml"), "--evolved", str(res), "--seeds", "0", "--shot", "1",
                 "--arms", "evolved", "hand", "uniform", "single", "--single", "rgb/reconstruction",
                 "--videos-per-class", "4", "--query", "2", "--episodes", "20", "--out", str(tmp_path / "out")])
    assert code == 0
    out = json.loads((tmp_path / "out" / "results.json").read_text())
    assert list(out["arms"]) == ["evolved (g000c001 of ev)", "hand-set (recipe)", "uniform 1", "only rgb/reconstruction"]
    assert out["arms"]["evolved (g000c001 of ev)"]["lambdas"] == {"rgb/reconstruction": 0.2, "rgb/arrow_of_time": 0.9}
    assert out["arms"]["only rgb/reconstruction"]["lambdas"] == {"rgb/reconstruction": 1.0, "rgb/arrow_of_time": 0.0}
    assert all(len(a["runs"]) == 1 and 0 <= a["runs"][0]["1-shot"]["mean"] <= 100 for a in out["arms"].values())
    assert "| hand-set (recipe) |" in capsys.readouterr().out


def test_bench_evolution_merges_parallel_parts_by_arm_and_seed(tmp_path, capsys):
    def part(name, seeds, arms):
        path = tmp_path / name / "results.json"
        path.parent.mkdir()
        path.write_text(json.dumps({"recipe": "r.yaml", "steps": 9, "seeds": seeds, "data_seed": 1, "episodes": 5, "arms": {
            a: {"lambdas": {"x": 1.0}, "runs": [{"seed": s, "1-shot": {"mean": 40.0 + s, "ci95": 1.0}} for s in seeds]}
            for a in arms}}))
        return str(path)

    parts = [part("a", [0, 1], ["hand", "only x"]), part("b", [2], ["hand"]), part("c", [0], ["uniform"])]
    assert main(["bench", "evolution", "--merge", *parts, "--out", str(tmp_path / "ab")]) == 0
    out = json.loads((tmp_path / "ab" / "results.json").read_text())
    assert [r["seed"] for r in out["arms"]["hand"]["runs"]] == [0, 1, 2] and out["seeds"] == [0, 1, 2]
    assert list(out["arms"]) == ["hand", "only x", "uniform"]
    printed = capsys.readouterr().out
    assert "| hand | 41.0 ± 2.5 | 3 seeds |" in printed
    assert "\n\n" not in printed  # no blank line for the onsets these runs do not have
    bad = part("d", [3], ["hand"])
    data = json.loads(open(bad).read())
    data["steps"] = 10
    open(bad, "w").write(json.dumps(data))
    assert main(["bench", "evolution", "--merge", parts[0], bad, "--out", str(tmp_path / "x")]) != 0


def _arms(table):
    return {"arms": {name: {"runs": [{"seed": s, "5-shot": {"mean": v, "ci95": 1.0}} for s, v in enumerate(row)]}
                     for name, row in table.items()}}


def test_seed_reliability_separates_lambda_from_seed_luck():
    from evovideo.bench.arm_stats import format_reliability, seed_reliability

    # additive: seed 2 is bad for every arm alike, so one seed (common random numbers) ranks λ perfectly
    additive = seed_reliability(_arms({"a": [40, 42, 30], "b": [30, 32, 20], "c": [20, 22, 10]}))
    assert additive["interaction"] < 1e-9 and additive["reliability"][1] == pytest.approx(1.0)
    assert additive["pairs_agree"] == 1.0 and additive["share"]["seed"] > 0.1
    # pure interaction: each seed favours another arm, the arm means are equal: no seed count ranks λ
    crossed = seed_reliability(_arms({"a": [40, 20, 30], "b": [30, 40, 20], "c": [20, 30, 40]}))
    assert crossed["lambda"] == 0.0 and crossed["reliability"][5] == 0.0
    # in between, more seeds per candidate rank better
    mixed = seed_reliability(_arms({"a": [44, 38, 30], "b": [30, 36, 26], "c": [21, 22, 20]}))
    r = mixed["reliability"]
    assert 0 < r[1] < r[2] < r[3] < r[5] < 1 and "reliability" in format_reliability(mixed)
    # an arm that ran no seed (refused) is left out; one arm or one seed: nothing to decompose
    assert seed_reliability(_arms({"a": [40, 30], "b": []})) is None
    assert seed_reliability(_arms({"a": [40], "b": [30]})) is None


def test_table_gives_the_paired_difference_to_the_hand_set_arm():
    # seed 2 is bad for both arms: unpaired CIs overlap widely, the paired difference is a steady +5
    table = format_table(_arms({"hand-set (recipe)": [34, 36, 20], "b": [39, 41, 25], "c": [30]}), [5])
    assert "Δ 5-shot vs hand-set, paired" in table
    assert "| b | 35.0 ± 21.7 | 3 seeds | +5.0 ± 0.0 (3, p < 0.001) |" in table
    assert "| c | 30.0 ± 1.0 | episodes | |" in table  # one shared seed: no paired CI
    assert "| hand-set (recipe) | 30.0 ± 21.7 | 3 seeds | |" in table


def test_table_pairs_every_arm_with_the_best_single_term_too():
    """The issue's goal is "evolved >= best single term, > hand-set": both paired differences, with p,
    come from the table itself (they were computed by session scripts before)."""
    arms = _arms({"evolved (g1)": [40, 42, 30, 41], "hand-set (recipe)": [38, 40, 29, 38],
                  "only a": [41, 43, 30, 43], "only b": [20, 21, 20, 22]})
    table = format_table(arms, [5])
    assert "Δ 5-shot vs best single term (only a), paired" in table
    row = next(line for line in table.splitlines() if line.startswith("| evolved (g1) |"))
    assert row.endswith("| +2.0 ± 1.3 (4, p 0.016) | −1.0 ± 1.3 (4, p 0.092) |")  # = scipy.stats.ttest_rel
    assert next(line for line in table.splitlines() if line.startswith("| only a |")).endswith("| +3.0 ± 2.6 (4, p 0.035) | |")
    assert "vs best single term" not in format_table(_arms({"hand-set (recipe)": [1, 2], "b": [2, 4]}), [5])


def test_table_marks_an_arm_whose_runs_came_from_different_code():
    """Two parts of one arm, run before and after a decoder change, have the same recipe text: the
    runs' code fingerprints tell them apart, and the table says the mean is not one setting's."""
    runs = lambda codes: [{"seed": s, "5-shot": {"mean": 30.0 + s, "ci95": 1.0}, "code": c}  # noqa: E731
                          for s, c in enumerate(codes)]
    table = format_table({"arms": {"same": {"runs": runs(["aa", "aa"])}, "mixed": {"runs": runs(["aa", "bb", "bb"])}}}, [5])
    assert "| same | 30.5 ± 6.4 | 2 seeds |" in table
    assert "| mixed | 31.0 ± 2.5 | 3 seeds, **runs of 2 code versions** |" in table


def test_code_fingerprint_ignores_docs_and_follows_code(tmp_path):
    from evovideo.provenance import code_fingerprint

    def fingerprint(name, text):
        (tmp_path / name).mkdir()
        (tmp_path / name / "m.py").write_text(text)
        return code_fingerprint(tmp_path / name)

    base = fingerprint("a", 'def f(x):\n    """Doubles."""\n    return 2 * x\n')
    assert fingerprint("b", 'def f(x):\n    """Twice x."""  \n    # the factor\n    return 2 * x\n') == base
    assert fingerprint("c", 'def f(x):\n    """Doubles."""\n    return 3 * x\n') != base


def _metrics_csv(path, columns):
    """A Lightning CSVLogger file: one row per logged step (every 10), blank cells where a key was not logged."""
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = ["step", *columns]
    rows = [",".join(keys)]
    for i in range(40):
        rows.append(",".join([str(10 * i)] + [("" if f(10 * i) is None else str(f(10 * i))) for f in columns.values()]))
    path.write_text("\n".join(rows) + "\n")


def test_loss_onset_is_the_step_a_term_leaves_its_start(tmp_path):
    from evovideo.bench.onset import loss_onsets

    csv = tmp_path / "metrics.csv"
    _metrics_csv(csv, {"train/a": lambda s: 2.77 if s < 200 else 1.5,  # leaves ln 16 at step 200
                       "train/b": lambda s: 2.77,  # never
                       "train/c": lambda s: None if s % 20 else 1.0 - s / 1000,  # logged every 20 steps, slow fall
                       "train/loss": lambda s: 9.0, "train/masked_terms": lambda s: 0.0})
    onsets = loss_onsets(csv)
    assert onsets == {"a": 200, "b": None, "c": 140}  # c: mean of 0.90, 0.88, 0.86 <= 0.9 * mean(1.0, 0.98, 0.96)


def test_merge_reads_onsets_from_the_runs_and_ranks_them_against_accuracy(tmp_path, capsys):
    """Results written before onsets were recorded get them from their runs' logs on --merge; the
    table then says how the onset of each term orders the runs' accuracy."""
    part = tmp_path / "a" / "results.json"
    runs = []
    for seed, (onset, acc) in enumerate([(100, 40.0), (200, 35.0), (300, 30.0), (None, 20.0)]):
        _metrics_csv(tmp_path / "a" / "runs" / f"hand_set__recipe_-seed{seed}" / "logs" / "version_0" / "metrics.csv",
                     {"train/x": (lambda s, o=onset: 2.77 if o is None or s < o else 1.0)})
        runs.append({"seed": seed, "5-shot": {"mean": acc, "ci95": 1.0}})
    part.write_text(json.dumps({"recipe": "r.yaml", "steps": 400, "seeds": [0, 1, 2, 3], "data_seed": 1, "episodes": 5,
                                "arms": {"hand-set (recipe)": {"lambdas": {"x": 1.0}, "runs": runs}}}))
    assert main(["bench", "evolution", "--merge", str(part), "--out", str(tmp_path / "m")]) == 0
    out = json.loads((tmp_path / "m" / "results.json").read_text())
    assert [r["onset"] for r in out["arms"]["hand-set (recipe)"]["runs"]] == [{"x": 100}, {"x": 200}, {"x": 300}, {"x": None}]
    printed = capsys.readouterr().out
    assert "x ρ -1.00" in printed and "1 never" in printed, printed


def test_onset_adjusted_difference_separates_a_late_start_from_a_lower_end():
    """Arm b starts its term later (so its raw mean is lower) but ends 3 points higher than arm a at the
    same onset: the raw difference says b is worse, the onset-adjusted one says +3 (exact on noise-free
    lines: CI 0), and the report prints it."""
    from evovideo.bench.evolution import report
    from evovideo.bench.onset import onset_adjusted

    def runs(onsets, intercept):
        return [{"seed": i, "5-shot": {"mean": intercept - 0.05 * o, "ci95": 1.0}, "onset": {"nce": o, "other": 5}}
                for i, o in enumerate(onsets)]
    results = {"recipe": "r.yaml", "steps": 450, "seeds": [0, 1, 2, 3],
               "arms": {"a": {"runs": runs([100, 150, 200, 250], 50.0)}, "b": {"runs": runs([200, 250, 300, 400], 53.0)}}}
    adj = onset_adjusted(results)
    b = adj["arms"]["b"]
    assert b["term"] == "nce" and adj["reference"] == "a"
    assert b["delta"] == pytest.approx(3.0) and b["ci95"] == pytest.approx(0.0, abs=1e-6)
    assert b["per_step"] == pytest.approx(-0.05) and b["n"] == [4, 4] and b["median_onset"] == [200, 300]
    assert ("5-shot, each arm − a at the same loss onset (least squares, unpaired): b +3.0 ± 0.0 at the same nce onset "
            "(median 300 vs 200; n 4 + 4)") in report(results, [5])
    assert onset_adjusted({**results, "arms": {"a": results["arms"]["a"]}}) is None  # one arm: nothing to adjust
    # no run of the two arms left the plateau (a third arm's runs did): nothing to separate, and no crash
    # (before, a singular least-squares system raised in the report a bench prints after every seed)
    never = [{**r, "onset": {"nce": None}} for r in runs([0, 0], 20.0)]
    three = {"a": {"runs": never}, "b": {"runs": never}, "c": results["arms"]["b"]}
    adj = onset_adjusted({**results, "arms": three})
    assert adj is None or "b" not in adj["arms"]
    late = [{**r, "onset": {"nce": 300}} for r in runs([0, 0], 25.0)]  # one onset per arm, two arms apart
    adj = onset_adjusted({**results, "arms": {"a": {"runs": never}, "b": {"runs": late}, "c": results["arms"]["b"]}})
    assert adj is None or "b" not in adj["arms"]


def test_merge_compares_recipes_by_content_not_path(tmp_path):
    """Parts run from two checkouts of the same recipe merge; parts whose recipes differ do not."""
    from evovideo.bench.evolution import merge

    def part(name, recipe_text):
        (tmp_path / name).mkdir()
        recipe = tmp_path / name / "recipe.yaml"
        recipe.write_text(recipe_text)
        path = tmp_path / name / "results.json"
        path.write_text(json.dumps({"recipe": str(recipe), "steps": 9, "seeds": [0], "data_seed": 1, "episodes": 5,
                                    "arms": {"hand": {"lambdas": {"x": 1.0}, "runs": [{"seed": 0}]}}}))
        return str(path)

    a, b, c = part("a", "max_steps: 9\n"), part("b", "max_steps: 9\n"), part("c", "max_steps: 10\n")
    assert merge([a, b])["seeds"] == [0]
    with pytest.raises(ValueError, match="'recipe' differ"):
        merge([a, c])


@pytest.fixture
def fake_training(monkeypatch):
    """run_pretraining replaced by a fresh tiny student (the bench's bookkeeping is under test, not training)."""
    import evovideo.lightning.pretrain as pretrain
    from evovideo.factory import create_model

    calls = []

    def fake(config, lambdas=None, max_steps=None, seed=0, root_dir=None, trainer_overrides=None):
        calls.append((dict(lambdas["tasks"]), seed))
        fake.configs.append((config, max_steps))
        if len(calls) == getattr(fake, "fail_at", 0):
            raise KeyboardInterrupt
        return create_model("test_r2plus1d")

    fake.configs = []
    monkeypatch.setattr(pretrain, "run_pretraining", fake)
    return fake, calls


def _bench(tmp_path, *args):
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(RECIPE))
    return main(["bench", "evolution", "--recipe", str(tmp_path / "p.yaml"), "--shot", "1", "--videos-per-class", "4",
                 "--query", "2", "--episodes", "5", "--out", str(tmp_path / "out"), *args])


def test_bench_evolution_continues_into_the_same_out(tmp_path, fake_training):
    """A second run into the same --out keeps the first's arms and seeds and trains only what is
    missing (before, it overwrote results.json with its own arms: the first run's were lost)."""
    _, calls = fake_training
    assert _bench(tmp_path, "--arms", "hand", "--seeds", "0") == 0
    assert _bench(tmp_path, "--arms", "hand", "uniform", "--seeds", "0", "1") == 0
    assert [seed for _, seed in calls] == [0, 1, 0, 1]  # hand 0; then hand 1, uniform 0, uniform 1
    out = json.loads((tmp_path / "out" / "results.json").read_text())
    assert {name: [r["seed"] for r in arm["runs"]] for name, arm in out["arms"].items()} == {
        "hand-set (recipe)": [0, 1], "uniform 1": [0, 1]}
    assert out["seeds"] == [0, 1]


def test_a_killed_bench_keeps_the_runs_it_finished(tmp_path, fake_training):
    fake, calls = fake_training
    fake.fail_at = 3
    assert _bench(tmp_path, "--arms", "hand", "--seeds", "0", "1", "2") == 130  # Ctrl-C at the third run
    out = json.loads((tmp_path / "out" / "results.json").read_text())
    assert [r["seed"] for r in out["arms"]["hand-set (recipe)"]["runs"]] == [0, 1]
    fake.fail_at = 0
    assert _bench(tmp_path, "--arms", "hand", "--seeds", "0", "1", "2") == 0
    assert [seed for _, seed in calls] == [0, 1, 2, 2]  # only seed 2 again


def test_a_folder_of_other_settings_is_refused_untouched(tmp_path, fake_training, capsys):
    assert _bench(tmp_path, "--arms", "hand", "--seeds", "0") == 0
    before = (tmp_path / "out" / "results.json").read_text()
    assert _bench(tmp_path, "--arms", "hand", "--seeds", "0", "--steps", "3") != 0
    assert "steps: 2 here, 3 now" in capsys.readouterr().err
    assert (tmp_path / "out" / "results.json").read_text() == before


def test_a_search_that_leaves_a_recipe_term_out_is_benched(tmp_path, fake_training):
    """A search_space without one of the recipe's terms (the all-modalities search leaves out the arrow of
    time): every arm still trains the recipe's left-out term at its recipe λ, and the single-term arms span
    the searched terms only (before, every arm failed: "lambda 'rgb/arrow_of_time' is in neither group")."""
    _, calls = fake_training
    search = {"pretrain": str(tmp_path / "p.yaml"), "search_space": {"tasks": ["rgb/reconstruction"]},
              "fitness": {"name": "gap", "data": {"class_path": "evovideo.lightning.SyntheticDataModule",
                                                  "init_args": TINY}}}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(search))
    assert _bench(tmp_path, "--search", str(tmp_path / "s.yaml"), "--arms", "hand", "single", "--seeds", "0") == 0
    assert [tasks for tasks, _ in calls] == [{"rgb/reconstruction": 0.5, "rgb/arrow_of_time": 0.5},
                                             {"rgb/reconstruction": 1.0, "rgb/arrow_of_time": 0.5}]
    out = json.loads((tmp_path / "out" / "results.json").read_text())
    assert list(out["arms"]) == ["hand-set (recipe)", "only rgb/reconstruction"]


def test_set_changes_the_recipe_every_arm_trains_and_is_kept_as_a_setting(tmp_path, fake_training, capsys):
    """--set KEY=VALUE edits the recipe for a controlled comparison (e.g. the four-tower recipe on the
    two-tower recipe's data) without a second recipe file; the edits are a setting of the results folder,
    so runs under other edits are refused, not mixed in."""
    fake, _ = fake_training
    assert _bench(tmp_path, "--arms", "hand", "--seeds", "0", "--set", "data.init_args.batch_size=2",
                  "trainer.max_steps=3") == 0
    config, steps = fake.configs[0]
    assert config["data"]["init_args"]["batch_size"] == 2 and steps == 3  # the edited length is the default --steps
    out = json.loads((tmp_path / "out" / "results.json").read_text())
    assert out["set"] == {"data.init_args.batch_size": 2, "trainer.max_steps": 3} and out["steps"] == 3
    assert "edited: data.init_args.batch_size=2, trainer.max_steps=3" in capsys.readouterr().out
    assert _bench(tmp_path, "--arms", "hand", "--seeds", "1", "--set", "data.init_args.batch_size=4",
                  "trainer.max_steps=3") != 0
    assert "set: {'data.init_args.batch_size': 2, 'trainer.max_steps': 3} here" in capsys.readouterr().err
    assert _bench(tmp_path, "--seeds", "0", "--set", "data.init_args") != 0
    assert "--set 'data.init_args': expected KEY=VALUE" in capsys.readouterr().err
    assert _bench(tmp_path, "--seeds", "0", "--set", "trainer.max_steps.x=1") != 0
    assert "--set 'trainer.max_steps.x=1': 'max_steps' is not a mapping in the recipe" in capsys.readouterr().err


def test_compare_pairs_arms_of_two_recipes_by_seed(tmp_path, capsys):
    """--compare: arms of benches of different recipes (or --set edits, or lengths) in one table, each paired
    by seed with the first file's hand-set arm and its best single term -- what --merge refuses, and what two
    sessions computed with session scripts.  The few-shot protocol must be the same, or it is refused."""
    def part(name, recipe, steps, arms, **extra):
        path = tmp_path / name / "results.json"
        path.parent.mkdir()
        path.write_text(json.dumps({"recipe": recipe, "steps": steps, "seeds": [0, 1, 2], "data_seed": 1, "episodes": 5,
                                    "shots": [5], "query": 15, "videos_per_class": 20, **extra, "arms": {
            a: {"lambdas": {"x": 1.0}, "runs": [{"seed": s, "5-shot": {"mean": v, "ci95": 1.0}} for s, v in enumerate(vals)]}
            for a, vals in arms.items()}}))
        return str(path)

    two = part("two", "recipes/pretrain/demo_synthetic.yaml", 450,
               {"hand-set (recipe)": [30.0, 40.0, 35.0], "only nce": [32.0, 41.0, 39.0]})
    four = part("four", "recipes/pretrain/all_modalities_synthetic.yaml", 450,
                {"hand-set (recipe)": [34.0, 44.0, 39.0]}, set={"data.init_args.batch_size": 16})
    assert main(["bench", "evolution", "--compare", two, four, "--out", str(tmp_path / "cmp")]) == 0
    printed = capsys.readouterr().out
    row = next(line for line in printed.splitlines() if line.startswith("| all_modalities_synthetic"))
    assert row.startswith("| all_modalities_synthetic (450 steps, edited): hand-set (recipe) | 39.0 ± 12.4 | 3 seeds |")
    assert "| +4.0 ± 0.0 (3, p < 0.001) |" in row  # vs the two-tower hand-set λ, seed by seed: +4, +4, +4
    assert "| +1.7 ± 3.8 (3, p 0.199) |" in row  # vs the best single term (only nce): +2, +3, 0
    assert "edited: data.init_args.batch_size=16" in printed
    assert json.loads((tmp_path / "cmp" / "comparison.json").read_text())["compared"][1]["recipe"].endswith("all_modalities_synthetic.yaml")
    other = part("other", "r.yaml", 450, {"hand-set (recipe)": [1.0, 2.0, 3.0]}, episodes=1000)
    assert main(["bench", "evolution", "--compare", two, other, "--out", str(tmp_path / "x")]) != 0
    assert "'episodes' differ" in capsys.readouterr().err
    assert main(["bench", "evolution", "--compare", two, four, "--merge", two, "--out", str(tmp_path / "y")]) != 0
    assert "give one of them" in capsys.readouterr().err


def test_bench_with_a_search_trains_that_searchs_recipe(tmp_path, fake_training, capsys):
    """`--search S` without `--recipe` trains S's pretrain recipe (before, the demo's two-tower recipe
    silently, with S's space), and a --recipe that is not S's pretrain is refused before anything trains."""
    fake, calls = fake_training
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(RECIPE))
    search = {"pretrain": str(tmp_path / "p.yaml"), "search_space": {"tasks": ["rgb/reconstruction"]},
              "fitness": {"name": "gap", "data": {"class_path": "evovideo.lightning.SyntheticDataModule",
                                                  "init_args": TINY}}}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(search))
    common = ["--arms", "hand", "--seeds", "0", "--shot", "1", "--videos-per-class", "4", "--query", "2",
              "--episodes", "5"]
    assert main(["bench", "evolution", "--search", str(tmp_path / "s.yaml"), *common, "--out", str(tmp_path / "a")]) == 0
    assert fake.configs[0][0]["model"]["init_args"]["tasks"] == RECIPE["model"]["init_args"]["tasks"]
    assert json.loads((tmp_path / "a" / "results.json").read_text())["recipe"] == str(tmp_path / "p.yaml")
    other = {**RECIPE, "seed_everything": 5}
    (tmp_path / "q.yaml").write_text(yaml.safe_dump(other))
    capsys.readouterr()
    assert main(["bench", "evolution", "--recipe", str(tmp_path / "q.yaml"), "--search", str(tmp_path / "s.yaml"),
                 *common, "--out", str(tmp_path / "b")]) == 2
    assert re.search(r"q\.yaml is not the pretrain recipe of --search .*s\.yaml.*drop --recipe", capsys.readouterr().err)
    assert len(calls) == 1 and not (tmp_path / "b").exists()


def test_bench_scores_few_shot_on_a_labelled_folder_and_keeps_it_as_protocol(tmp_path, fake_training, textured_source,
                                                                             capsys):
    """--dataset class-folders --root DIR: the arms' few-shot runs on those videos (before, only on rendered
    synthetic clips, so a search on other data could not be tested on it), and the videos are part of the
    protocol: a folder of synthetic-set runs is not continued with them, nor compared with them."""
    assert main(["bench", "motion-set", "--sources", str(textured_source), "--videos-per-class", "3",
                 "--out", str(tmp_path / "motion")]) == 0
    root = tmp_path / "motion" / "UCF-101"
    assert _bench(tmp_path, "--arms", "hand", "--seeds", "0", "--dataset", "class-folders", "--root", str(root)) == 0
    out = json.loads((tmp_path / "out" / "results.json").read_text())
    assert out["fewshot_data"] == {"dataset": "class-folders", "root": str(root.resolve())}
    assert out["data_seed"] is None and out["videos_per_class"] is None  # settings of the synthetic clips only
    assert 0 <= out["arms"]["hand-set (recipe)"]["runs"][0]["1-shot"]["mean"] <= 100
    assert "few-shot on the class-folders videos under" in capsys.readouterr().out
    assert _bench(tmp_path, "--arms", "hand", "--seeds", "1") != 0  # the synthetic clips into the same --out
    assert "fewshot_data" in capsys.readouterr().err
    (tmp_path / "out").rename(tmp_path / "folder")
    assert _bench(tmp_path, "--arms", "hand", "--seeds", "0") == 0
    assert main(["bench", "evolution", "--compare", str(tmp_path / "out" / "results.json"),
                 str(tmp_path / "folder" / "results.json"), "--out", str(tmp_path / "cmp")]) != 0
    assert "'fewshot_data' differ" in capsys.readouterr().err
    old = json.loads((tmp_path / "out" / "results.json").read_text())  # written before the videos were recorded
    del old["fewshot_data"]
    (tmp_path / "out" / "results.json").write_text(json.dumps(old))
    assert _bench(tmp_path, "--arms", "hand", "--seeds", "1", "--dataset", "class-folders", "--root", str(root)) != 0
    assert "fewshot_data: {'dataset': 'synthetic'} here" in capsys.readouterr().err
    assert main(["bench", "evolution", "--merge", str(tmp_path / "out" / "results.json"),
                 str(tmp_path / "folder" / "results.json"), "--out", str(tmp_path / "m")]) != 0
    assert "their 'fewshot_data' differ" in capsys.readouterr().err
    assert _bench(tmp_path, "--seeds", "0", "--root", str(root)) != 0
    assert "drop --root or give --dataset" in capsys.readouterr().err
    assert _bench(tmp_path, "--seeds", "0", "--dataset", "class-folders", "--root", str(tmp_path / "none")) != 0
    assert "needs --root, an existing folder" in capsys.readouterr().err
    assert _bench(tmp_path, "--seeds", "0", "--dataset", "kinetics", "--root", str(root)) != 0
    assert "not a labelled set; choose from" in capsys.readouterr().err


def test_lambdas_searched_on_another_recipe_are_refused_unless_asked_for(tmp_path, fake_training, capsys):
    """--evolved / --random name the search whose pick an arm trains; before, a pick searched on another
    recipe (other data, student or task settings) was trained on the benched one without a word, and the
    table read as if the search had been run there.  The search's recipe is compared with the benched one
    (λ, seed and trainer aside: the bench sets those), a difference is refused naming it and the way out,
    and a transfer test asked for with --allow-other-recipe says so under the table."""
    fake, calls = fake_training
    searched = yaml.safe_load(yaml.safe_dump(RECIPE))
    searched["model"]["init_args"]["tasks"] = {"rgb/reconstruction": 1.0, "rgb/arrow_of_time": 0.0}  # λ: not compared
    searched["trainer"]["max_steps"] = 450
    searched["seed_everything"] = 3
    rows = [{"id": "g000c001", "generation": 0, "index": 1, "score": 0.1, "steps": 9, "final": True,
             "lambdas": {"rgb/reconstruction": 0.3, "rgb/arrow_of_time": 0.9}}]
    same = tmp_path / "same" / "results.jsonl"
    same.parent.mkdir()
    same.write_text("\n".join(json.dumps(r) for r in [{"kind": "header", "pretrain": searched}, *rows]) + "\n")
    assert _bench(tmp_path, "--arms", "evolved", "--evolved", str(same), "--seeds", "0") == 0
    assert calls[-1][0] == {"rgb/reconstruction": 0.3, "rgb/arrow_of_time": 0.9}
    assert "searched on" not in capsys.readouterr().out

    other = yaml.safe_load(yaml.safe_dump(searched))
    other["data"]["init_args"]["num_classes"] = 8
    other["model"]["init_args"]["lr"] = 0.1
    elsewhere = tmp_path / "other" / "results.jsonl"
    elsewhere.parent.mkdir()
    elsewhere.write_text("\n".join(json.dumps(r) for r in [{"kind": "header", "pretrain": other}, *rows]) + "\n")
    args = ("--arms", "evolved", "--evolved", str(elsewhere), "--seeds", "0", "--out", str(tmp_path / "x"))
    assert _bench(tmp_path, *args) != 0
    err = capsys.readouterr().err
    assert "--evolved" in err and "searched on another pretrain recipe" in err
    assert "data.init_args.num_classes: 8 there, 4 here" in err and "model.init_args.lr: 0.1 there, 0.01 here" in err
    assert "--allow-other-recipe" in err and len(calls) == 1 and not (tmp_path / "x").exists()

    assert _bench(tmp_path, *args, "--allow-other-recipe") == 0
    printed = capsys.readouterr().out
    assert "λ searched on another recipe (data.init_args.num_classes: 8 there, 4 here; " in printed
    arm = json.loads((tmp_path / "x" / "results.json").read_text())["arms"]["evolved (g000c001 of other)"]
    assert arm["searched_on"] == ["data.init_args.num_classes: 8 there, 4 here", "model.init_args.lr: 0.1 there, 0.01 here"]

    unknown = tmp_path / "summary.json"  # a summary written before it recorded its recipe
    unknown.write_text(json.dumps({"best": rows[0]}))
    assert _bench(tmp_path, "--arms", "evolved", "--evolved", str(unknown), "--seeds", "0", "--out", str(tmp_path / "y")) == 0
    assert "summary.json does not record the recipe its search trained: not checked" in capsys.readouterr().out


def test_the_report_names_the_few_shot_videos():
    """The table says which videos it scored on (before: only the start line and results.json did)."""
    from evovideo.bench.evolution import report

    base = {"recipe": "r.yaml", "steps": 9, "seeds": [0], "episodes": 1000, "arms": {}}
    synthetic = report({**base, "fewshot_data": {"dataset": "synthetic"}, "data_seed": 1, "videos_per_class": 20}, [5])
    assert "few-shot: 5-way, 1000 episodes on synthetic clips rendered with seed 1, 20 per class" in synthetic
    folder = report({**base, "fewshot_data": {"dataset": "class-folders", "root": "/d/eval/UCF-101"}}, [5])
    assert "few-shot: 5-way, 1000 episodes on the class-folders videos under /d/eval/UCF-101" in folder
    ucf = report({**base, "fewshot_data": {"dataset": "ucf101", "root": "/d/UCF101", "split": 2}}, [5])
    assert "on the ucf101 videos under /d/UCF101 (split 2)" in ucf
    assert "synthetic clips rendered with seed 1" in report({**base, "data_seed": 1, "videos_per_class": 20}, [5])  # older file
