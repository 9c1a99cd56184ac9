"""Every evolve setting is checked before any candidate trains, in one line naming the field, the
value and what is allowed; a refused recipe leaves no results file, so the fixed recipe runs."""
from __future__ import annotations

import copy
import json

import pytest
from tiny_evolve import FITNESS_DATA, PRETRAIN, evolve

BAD = [
    ({"budget": -1}, "budget = -1: must be an integer >= 1"),
    ({"budget": 0}, "budget = 0: must be an integer >= 1"),
    ({"mutation": {"sigma": -1}}, "mutation.sigma = -1: must be a number >= 0"),
    ({"tournament": 5}, "tournament = 5: must be an integer in [1, population=2]"),
    # types are jsonargparse's, worded as a fit recipe's ('data.init_args.batch_size': Expected a <class 'int'>)
    ({"population": "abc"}, "'population': Expected a <class 'int'>. Got value: abc"),
    ({"population": 2.5}, "'population': Expected a <class 'int'>. Got value: 2.5"),
    ({"mutation": {"sigma": "wide"}}, "'mutation': Expected a <class 'float'>. Got value: wide"),
    ({"runner": {"workers": "two"}}, "'runner': Expected a <class 'int'>. Got value: two"),
    ({"halving": {"rungs": "half"}}, "'halving':"),
    ({"start_from_recipe": "yes please"}, "'start_from_recipe': Expected a <class 'bool'>"),
    ({"start_from_singles": True}, "population = 2: generation 0 starts from 3 chosen lambda vectors"),
    ({"generations": 0}, "generations = 0: must be an integer >= 1"),
    ({"elite": -1}, "elite = -1: must be an integer in [0, population=2]"),
    ({"mutation": {"rate": 2}}, "mutation.rate = 2: must be null or a number in (0, 1]"),
    ({"mutation": {"p_perturb": 0, "p_zero": 0, "p_resample": 0}}, "at least one must be > 0"),
    ({"fitness": {"name": "zipf", "args": {"k": 3}, "data": FITNESS_DATA, "fold": "holdout"}},
     "fitness.fold = 'holdout': must be one of train, val, test"),
    ({"fitness": {"name": "zipff", "args": {}, "data": FITNESS_DATA}}, "fitness.name = 'zipff': must be one of"),
    ({"fitness": {"name": "zipf", "args": {"kk": 3}, "data": FITNESS_DATA}}, "fitness.args = {'kk': 3}"),
    ({"fitness": {"name": "zipf", "args": {"k": 500}, "data": FITNESS_DATA}},
     "needs at least 500 videos, but fitness.data fold 'val' has"),
    ({"fitness": {"name": "agreement", "args": {"k": 3}, "data": {"class_path": "tiny_evolve.NoModalities"}}},
     "fitness 'agreement' compares the student with the 'flow_hof' descriptor of the fitness clips, read through "
     "fitness.data's 'modalities' argument, which tiny_evolve.NoModalities does not take"),
    ({"runner": {"name": "slurm"}}, "runner.name = 'slurm': must be one of local, ray"),
    ({"runner": {"workers": 0}}, "runner.workers = 0: must be an integer >= 1"),
    ({"final_max_steps": 0}, "final_max_steps = 0"),
]


@pytest.mark.parametrize("change,message", BAD, ids=[m.split(" =")[0].split(":")[0] for _, m in BAD])
def test_bad_setting_is_one_line_before_anything_runs(tmp_path, monkeypatch, capsys, change, message):
    rc = evolve(tmp_path, monkeypatch, **change)
    err = capsys.readouterr().err
    assert rc == 2
    assert message in err, err
    assert err.startswith("evovideo evolve: error: evolve recipe evolve.yaml: "), err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1  # one line
    assert not (tmp_path / "out").exists()  # no results file: the folder is not locked


def test_bad_command_line_override_is_refused(tmp_path, monkeypatch, capsys):
    assert evolve(tmp_path, monkeypatch, args=["--population", "1"]) == 2
    assert "population = 1: must be an integer >= 2" in capsys.readouterr().err


PRETRAIN_BAD = [
    ("num_frames", 0, "data.init_args.num_frames = 0: must be an integer >= 1"),
    ("batch_size", 0, "data.init_args.batch_size = 0: must be an integer >= 1"),
    ("modalities", ["rgb", "depth"], "data.init_args.modalities = ['rgb', 'depth']: must be a non-empty list of"),
    ("flow_method", "horn", "data.init_args.flow_method = 'horn': must be one of tvl1, farneback, dis"),
    ("stride", -2, "data.init_args.stride = -2: must be an integer >= 1"),
    ("batch_size", "eight", "'data.init_args.batch_size': Expected a <class 'int'>"),
]


@pytest.mark.parametrize("key,value,message", PRETRAIN_BAD)
def test_bad_pretrain_recipe_value_is_one_line_before_training(tmp_path, monkeypatch, capsys, key, value, message):
    pretrain = copy.deepcopy(PRETRAIN)
    pretrain["data"]["init_args"][key] = value
    rc = evolve(tmp_path, monkeypatch, pretrain=pretrain)
    err = capsys.readouterr().err
    assert rc == 2 and message in err and "pretrain recipe pretrain.yaml" in err, err
    assert not (tmp_path / "out").exists()


def test_pretrain_recipe_term_errors_name_the_field(tmp_path, monkeypatch, capsys):
    pretrain = copy.deepcopy(PRETRAIN)
    pretrain["model"]["init_args"]["tasks"] = {"rgb/reconstruction": 0.5, "flow/arrow_of_time": 0.5}
    assert evolve(tmp_path, monkeypatch, pretrain=pretrain) == 2
    err = capsys.readouterr().err
    assert "pretrain recipe pretrain.yaml: model.init_args.tasks['flow/arrow_of_time'] needs a flow tower" in err, err
    pretrain["model"]["init_args"]["towers"] = {"flow": "test_flow"}
    assert evolve(tmp_path, monkeypatch, pretrain=pretrain) == 2  # the data has no flow: before training too
    err = capsys.readouterr().err
    assert "pretrain recipe pretrain.yaml: data.init_args: SyntheticDataModule does not produce flow" in err, err
    assert not (tmp_path / "out").exists()


def test_header_only_results_file_does_not_lock_the_folder(tmp_path):
    """A results file without finished candidates (a run refused or killed before the first finished)
    is started again with the new settings instead of refusing them as another search's."""
    from evovideo.evolution.results import ResultsFile

    ResultsFile(tmp_path / "results.jsonl", {"sigma": -1})
    again = ResultsFile(tmp_path / "results.jsonl", {"sigma": 0.2})
    assert json.loads((tmp_path / "results.jsonl").read_text().splitlines()[0])["sigma"] == 0.2
    assert again.records == []
    again.append({"id": "g000c000", "lambdas": {"a": 0.5}, "score": 1.0})
    with pytest.raises(ValueError, match="different settings \\(sigma\\)"):
        ResultsFile(tmp_path / "results.jsonl", {"sigma": 0.3})  # finished work is never dropped


def test_start_from_singles_puts_each_task_alone_after_the_recipe(tmp_path, monkeypatch):
    assert evolve(tmp_path, monkeypatch, population=4, start_from_singles=True) == 0
    lines = (tmp_path / "out" / "results.jsonl").read_text().splitlines()
    records = sorted((json.loads(ln) for ln in lines[1:]), key=lambda r: r["id"])
    first = [r["lambdas"] for r in records[:3]]
    assert first[0] == {"rgb/reconstruction": 0.5, "rgb/arrow_of_time": 0.5}  # the recipe's λ, then each task alone
    assert sorted(first[1:], key=lambda lam: lam["rgb/reconstruction"]) == [
        {"rgb/reconstruction": 0.0, "rgb/arrow_of_time": 1.0}, {"rgb/reconstruction": 1.0, "rgb/arrow_of_time": 0.0}]


def test_a_halving_survivor_continues_without_lightning_chatter(tmp_path, monkeypatch, recwarn):
    """A survivor continues its rung checkpoint in the next rung's folder, by design; Lightning's
    'The dirpath has changed' warning printed that once per survivor and seed in every search."""
    pretrain = copy.deepcopy(PRETRAIN)
    pretrain["trainer"].update(logger=True, enable_checkpointing=True)
    assert evolve(tmp_path, monkeypatch, pretrain=pretrain, budget=2, halving={"rungs": [0.5, 1.0], "keep": 0.5}) == 0
    records = [json.loads(ln) for ln in (tmp_path / "out" / "results.jsonl").read_text().splitlines()[1:]]
    assert any(r.get("steps") == 2 for r in records)  # a survivor did continue
    assert not [str(w.message) for w in recwarn if "dirpath has changed" in str(w.message)]


def test_agreement_fitness_scores_every_candidate_against_the_clips_flow(tmp_path, monkeypatch):
    """The evaluator computes the flow reference of the fitness clips (once per process) and passes it."""
    import json as _json

    data = copy.deepcopy(FITNESS_DATA)  # RGB only: the reference reads the same clips' flow on its own
    data["init_args"]["flow_method"] = "farneback"
    rc = evolve(tmp_path, monkeypatch, fitness={"name": "agreement", "args": {"k": 3, "restarts": 2}, "data": data})
    assert rc == 0
    records = [_json.loads(line) for line in (tmp_path / "out" / "results.jsonl").read_text().splitlines()[1:]]
    assert len(records) == 2
    for r in records:
        assert -1.0 <= r["metrics"]["agreement"] <= 1.0 and r["score"] == -r["metrics"]["agreement"]
        assert r["metrics"]["reference"] == "flow_hof"
