"""`evovideo evolve` end to end on a tiny synthetic recipe: real pretraining, Zipf fitness, outputs."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from evovideo.cli import main

TINY_DATA = {"num_classes": 4, "video_frames": 16, "video_size": 32, "modalities": ["rgb"], "num_frames": 4,
             "stride": 2, "size": 16, "resize": 20, "batch_size": 4}
PRETRAIN = {
    "seed_everything": 0,
    "model": {"class_path": "evovideo.lightning.PretrainModule",
              "init_args": {"student": "test_r2plus1d", "tasks": {"rgb/reconstruction": 0.5, "rgb/arrow_of_time": 0.5},
                            "lr": 0.01}},
    "data": {"class_path": "evovideo.lightning.SyntheticDataModule",
             "init_args": {"num_videos_per_class": 2, **TINY_DATA}},
    "trainer": {"accelerator": "cpu", "devices": 1, "max_steps": 100, "limit_val_batches": 0, "logger": False,
                "enable_checkpointing": False},
}


@pytest.mark.slow
def test_evolve_end_to_end_and_rerun_continues(tmp_path, capsys, recwarn, caplog):
    (tmp_path / "pretrain.yaml").write_text(yaml.safe_dump(PRETRAIN))
    recipe = {
        "pretrain": "pretrain.yaml", "population": 2, "tournament": 2, "generations": 2, "budget": 2, "seed": 0,
        "fitness": {"name": "zipf", "args": {"k": 3},
                    "data": {"class_path": "evovideo.lightning.SyntheticDataModule",
                             "init_args": {"num_videos_per_class": 4, **TINY_DATA}}},
        "out": str(tmp_path / "out"), "final_max_steps": 50,
    }
    (tmp_path / "evolve.yaml").write_text(yaml.safe_dump(recipe))
    with caplog.at_level("INFO"):
        assert main(["evolve", "-c", str(tmp_path / "evolve.yaml")]) == 0
    # a user sees their run, not the frameworks' chatter; each candidate says how it is doing
    noise = [str(w.message) for w in recwarn if "LightningCLI's args" in str(w.message) or "LeafSpec" in str(w.message)]
    assert not noise, noise
    logged = [r.getMessage() for r in caplog.records]
    assert not [m for m in logged if "Tip:" in m], logged
    assert any(m.startswith("g000c000: step 2/2") for m in logged), logged
    out = tmp_path / "out"
    lines = (out / "results.jsonl").read_text().splitlines()
    records = [json.loads(ln) for ln in lines[1:]]
    assert [r["id"] for r in records] == ["g000c000", "g000c001", "g001c000", "g001c001"]
    assert records[0]["lambdas"] == {"rgb/reconstruction": 0.5, "rgb/arrow_of_time": 0.5}  # start_from_recipe
    assert all(r["budget"] == 2 and r["seed"] == 0 and r["time_s"] > 0 and len(r["metrics"]["masses"]) == 3
               and 0 <= r["metrics"]["knn_accuracy"] <= 1 for r in records)  # labelled fitness set: validity too
    best = min(records, key=lambda r: r["score"])
    written = yaml.safe_load((out / "best_pretrain.yaml").read_text())
    assert written["model"]["init_args"]["tasks"] == {k: round(v, 4) for k, v in best["lambdas"].items()}
    assert written["trainer"]["max_steps"] == 50 and written["data"] == PRETRAIN["data"]
    assert {p.name for p in (out / "plots").iterdir()} == {
        "fitness_per_generation.png", "best_lambdas.png", "zipf_rank_size.png", "fitness_validity.png"}
    # the same command again: everything is finished, nothing is trained again
    before = (out / "results.jsonl").read_text()
    assert main(["evolve", "-c", str(tmp_path / "evolve.yaml"), "--no-plots"]) == 0
    assert (out / "results.jsonl").read_text() == before
    assert "continuing: 4 of 4" in capsys.readouterr().out


SHIPPED_EVOLVE = sorted(p.stem for p in (Path(__file__).resolve().parents[2] / "recipes" / "evolve").glob("*.yaml"))


def test_every_shipped_evolve_recipe_is_checked():
    assert {"demo_synthetic", "demo_synthetic_zipf", "elo_r2plus1d_50_k400", "all_modalities_synthetic"} <= set(SHIPPED_EVOLVE)


@pytest.mark.parametrize("entry", SHIPPED_EVOLVE)
def test_shipped_evolve_recipes_resolve(entry):
    from evovideo.evolution.checks import check_settings
    from evovideo.evolution.recipe import EvolveRecipe
    from evovideo.lightning.evolve import check_recipe

    recipe = EvolveRecipe.from_yaml(Path(__file__).resolve().parents[2] / "recipes" / "evolve" / f"{entry}.yaml")
    check_settings(recipe)
    base = recipe.base_recipe()
    if "Synthetic" in recipe.fitness["data"]["class_path"]:  # the paper-scale recipe reads Kinetics-400 from disk
        check_recipe(recipe, base)
    names = recipe.space_names(base)
    initial = recipe.initial_lambdas(base)
    # a term of the pretrain recipe left out of the search keeps its recipe λ: the shipped ones leave out only
    # terms at 0 (the all-modalities search: the arrow-of-time tasks, ambiguous on the synthetic set)
    assert {t: v for t, v in initial.items() if t not in names and v != 0} == {}
    assert set(recipe.distill_names(base)) <= set(names)
    two_tower = entry.startswith("demo_synthetic") or entry == "motion_folder"  # the demo's search, on other data
    assert len(names) >= (6 if two_tower else 9)  # two towers: 3 tasks + 3 distillation locations
    cand = recipe.candidate_recipe(base)
    if entry == "elo_r2plus1d_50_k400":
        assert cand["trainer"]["devices"] == 1 and base["trainer"]["devices"] == 8  # base untouched


def test_evolve_recipe_names_bad_fields(tmp_path):
    from evovideo.evolution.recipe import EvolveRecipe

    (tmp_path / "bad.yaml").write_text("pretrain: x.yaml\npopulaton: 4\n")
    with pytest.raises(ValueError, match="unknown field.*populaton.*known: pretrain"):
        EvolveRecipe.from_yaml(tmp_path / "bad.yaml")
    (tmp_path / "bad2.yaml").write_text("pretrain: x.yaml\nfitness: {nme: zipf}\n")
    with pytest.raises(ValueError, match="unknown fitness field.*nme"):
        EvolveRecipe.from_yaml(tmp_path / "bad2.yaml")


def test_interrupted_evolve_says_how_to_continue(tmp_path, capsys, monkeypatch):
    """Ctrl-C: exit code 130 and a line saying the finished candidates are kept and how to go on."""
    import evovideo.evolution.loop as loop

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(loop, "run_evolution", interrupted)
    (tmp_path / "pretrain.yaml").write_text(yaml.safe_dump(PRETRAIN))
    recipe = {"pretrain": "pretrain.yaml", "population": 2, "tournament": 2, "generations": 1, "budget": 2,
              "fitness": {"name": "zipf", "args": {"k": 3},
                          "data": {"class_path": "evovideo.lightning.SyntheticDataModule",
                                   "init_args": {"num_videos_per_class": 4, **TINY_DATA}}},
              "out": str(tmp_path / "out")}
    (tmp_path / "evolve.yaml").write_text(yaml.safe_dump(recipe))
    assert main(["evolve", "-c", str(tmp_path / "evolve.yaml")]) == 130
    assert "run the same command again to continue" in capsys.readouterr().err


def packaged_search(name: str):
    """(summary, evolve recipe, its pretrain recipe, whether that recipe pins the summary's best λ) of a
    search packaged in ``recipes/evolve/`` (a λ of 0 is no term)."""
    from evovideo.evolution.recipe import EvolveRecipe

    root = Path(__file__).resolve().parents[2] / "recipes" / "evolve"
    summary = json.loads((root / f"{name}.summary.json").read_text())
    recipe = EvolveRecipe.from_yaml(root / f"{name}.yaml")
    base = recipe.base_recipe()
    pinned = {n: v for n, v in recipe.initial_lambdas(base).items() if v}
    return summary, recipe, base, {n: v for n, v in summary["best"]["lambdas"].items() if v} == pinned


@pytest.mark.parametrize("name", ["demo_synthetic", "all_modalities_synthetic"])
def test_packaged_search_result_is_a_run_of_its_recipe_and_the_pretrain_recipe_pins_it(name):
    """A packaged summary (`evovideo demo` prints the demo's) is a run of the shipped evolve recipe, over
    its search space, fitness, data and schedule; the pretrain recipe pins its best λ, or the summary says
    it does not."""
    summary, recipe, base, pins = packaged_search(name)
    assert summary["command"].startswith(f"evovideo evolve -c recipes/evolve/{name}.yaml")
    assert list(summary["best"]["lambdas"]) == list(recipe.space_names(base))
    assert summary["candidates"] == recipe.population * recipe.generations and summary["seed"] == recipe.seed
    assert summary.get("candidate_seeds", 1) == recipe.candidate_seeds
    # selected with the recipe's fitness, on its data (a summary of the gap search is not this recipe's)
    assert summary["fitness"] == {"name": recipe.fitness["name"], "args": recipe.fitness["args"]}
    assert summary["fitness_data"] == recipe.fitness["data"]
    starts = recipe.starting_lambdas(base)  # generation 0 as the recipe starts it (the recipe's λ, each task alone)
    assert summary["initial"] == (starts[0] if len(starts) == 1 else starts)
    # the same schedule: a summary of the recipe before its rungs changed is the previous search, not this one
    assert summary["budget"] == recipe.budget and summary["halving"]["rungs"] == recipe.halving_rungs()[0]
    assert summary["budget"] == base["trainer"]["max_steps"]  # and of the pretrain recipe as it trains now
    if pins:
        assert "PINNED" in summary["decision"]
        header = recipe.resolve(recipe.pretrain).read_text().split("seed_everything")[0]  # the provenance comment
        assert summary["best"]["id"] in header and f"recipes/evolve/{name}.summary.json" in header
    else:
        assert "not pinned" in summary["decision"]


def test_the_zoo_says_whether_the_demo_recipe_pins_its_search():
    from evovideo.models.zoo import get_pretrained_cfg

    summary, _, _, pins = packaged_search("demo_synthetic")
    source = get_pretrained_cfg("test_r2plus1d.elo_synthetic").lambdas_source
    if pins:
        assert "evolved" in source and summary["best"]["id"] in source
    else:
        assert "hand-set" in source
