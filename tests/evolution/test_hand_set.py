"""Once a pretrain recipe pins its search's pick, the λ the search started from must live somewhere:
the evolve recipe's ``hand_set_lambdas``.  They are generation 0's first candidate (so the search still
reproduces, starting where it started) and `bench evolution`'s hand-set arm (so "evolved vs hand-set"
does not compare the pick with itself)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from tiny_evolve import PRETRAIN, evolve

from evovideo.evolution.recipe import EvolveRecipe

ROOT = Path(__file__).resolve().parents[2]


def test_hand_set_lambdas_are_the_first_candidate(tmp_path, monkeypatch):
    hand = {"rgb/reconstruction": 1.0, "rgb/arrow_of_time": 0.25}
    assert evolve(tmp_path, monkeypatch, hand_set_lambdas=hand) == 0
    first = json.loads((tmp_path / "out" / "results.jsonl").read_text().splitlines()[1])
    assert first["id"] == "g000c000" and first["lambdas"] == hand  # not the recipe's 0.5 / 0.5


def test_hand_set_lambdas_default_to_the_recipe_and_fill_in_from_it(tmp_path):
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(PRETRAIN))
    base = PRETRAIN
    assert EvolveRecipe(pretrain=str(tmp_path / "p.yaml")).hand_lambdas(base) == {
        "rgb/reconstruction": 0.5, "rgb/arrow_of_time": 0.5}
    partial = EvolveRecipe(pretrain=str(tmp_path / "p.yaml"), hand_set_lambdas={"rgb/arrow_of_time": 0.0})
    assert partial.hand_lambdas(base) == {"rgb/reconstruction": 0.5, "rgb/arrow_of_time": 0.0}


@pytest.mark.parametrize("hand,message", [
    ({"rgb/recon": 0.5}, "hand_set_lambdas: 'rgb/recon' is neither a term of the pretrain recipe nor of the search "
                         "space (rgb/"),  # then the known terms
    ({"rgb/reconstruction": 2}, "hand_set_lambdas['rgb/reconstruction'] = 2: must be a number >= 0 and <= 1"),
])
def test_bad_hand_set_lambdas_are_one_line_before_anything_runs(tmp_path, monkeypatch, capsys, hand, message):
    assert evolve(tmp_path, monkeypatch, hand_set_lambdas=hand) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "out").exists()


def test_bench_hand_arm_is_the_searchs_hand_set_lambdas(tmp_path, monkeypatch):
    """With --search, the hand-set arm trains the search's hand_set_lambdas, not the recipe's (pinned) λ."""
    import evovideo.lightning.pretrain as pretrain
    from evovideo.cli import main
    from evovideo.factory import create_model

    calls = []
    monkeypatch.setattr(pretrain, "run_pretraining",
                        lambda config, lambdas=None, **kw: calls.append(dict(lambdas["tasks"])) or create_model("test_r2plus1d"))
    recipe = {**PRETRAIN, "trainer": {**PRETRAIN["trainer"], "max_steps": 2}}
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(recipe))
    search = {"pretrain": str(tmp_path / "p.yaml"), "hand_set_lambdas": {"rgb/reconstruction": 1.0},
              "fitness": {"name": "gap", "data": PRETRAIN["data"]}}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(search))
    assert main(["bench", "evolution", "--recipe", str(tmp_path / "p.yaml"), "--search", str(tmp_path / "s.yaml"),
                 "--arms", "hand", "--seeds", "0", "--shot", "1", "--videos-per-class", "4", "--query", "2",
                 "--episodes", "5", "--out", str(tmp_path / "out")]) == 0
    assert calls == [{"rgb/reconstruction": 1.0, "rgb/arrow_of_time": 0.5}]


def test_the_demo_recipe_pins_its_searchs_pick_and_the_search_still_starts_from_the_hand_set_lambdas():
    """The issue's promise: the recipe of `evovideo demo` and of the packaged student carries the λ the
    label-free search found (its non-zero terms), the zoo and the packaged weights say so, and re-running
    the search starts from the hand-set λ it started from (the packaged summary's g000c000)."""
    from evovideo.models.zoo import get_pretrained_cfg

    summary = json.loads((ROOT / "recipes" / "evolve" / "demo_synthetic.summary.json").read_text())
    search = EvolveRecipe.from_yaml(ROOT / "recipes" / "evolve" / "demo_synthetic.yaml")
    base = search.base_recipe()
    nonzero = lambda lam: {n: v for n, v in lam.items() if v}  # noqa: E731
    assert nonzero(search.initial_lambdas(base)) == nonzero(summary["best"]["lambdas"])
    assert search.starting_lambdas(base)[0] == summary["initial"][0]
    cfg = get_pretrained_cfg("test_r2plus1d.elo_synthetic")
    assert nonzero({**cfg.lambdas["tasks"], **cfg.lambdas["distill"]}) == nonzero(summary["best"]["lambdas"])
    packaged = json.loads(cfg.weight_files()[0].read_text())["extra"]["lambdas"]
    assert packaged == cfg.lambdas  # the shipped weights were trained with them
    assert summary["best"]["id"] in cfg.lambdas_source and "evolved" in cfg.lambdas_source
