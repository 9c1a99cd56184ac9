"""A recipe never runs code: every class an evolve recipe names (directly, or through its pretrain
recipe and candidate_overrides) is resolved against its expected base class and refused before
anything runs.  One test per hostile path; each checks the side effect did not happen."""
from __future__ import annotations

import copy

import pytest

from tiny_evolve import PRETRAIN, evolve


def refused(tmp_path, capsys, rc, field):
    err = capsys.readouterr().err
    assert rc == 2, err
    assert field in err and "error:" in err, err
    assert not (tmp_path / "out" / "results.jsonl").exists()  # nothing started, the folder is not locked
    assert not (tmp_path / "out" / "candidates").exists()  # no candidate trained


def test_fitness_data_os_system_is_refused_and_runs_nothing(tmp_path, monkeypatch, capsys):
    rc = evolve(tmp_path, monkeypatch, fitness_data={"class_path": "os.system", "init_args": {"command": "touch x"}})
    refused(tmp_path, capsys, rc, "fitness.data")
    assert not (tmp_path / "x").exists()


def test_fitness_data_subprocess_popen_is_refused(tmp_path, monkeypatch, capsys):
    rc = evolve(tmp_path, monkeypatch,
                fitness_data={"class_path": "subprocess.Popen", "init_args": {"args": ["touch", "y"]}})
    refused(tmp_path, capsys, rc, "fitness.data")
    assert not (tmp_path / "y").exists()


def test_fitness_data_shutil_rmtree_is_refused(tmp_path, monkeypatch, capsys):
    (tmp_path / "keep").mkdir()
    rc = evolve(tmp_path, monkeypatch,
                fitness_data={"class_path": "shutil.rmtree", "init_args": {"path": str(tmp_path / "keep")}})
    refused(tmp_path, capsys, rc, "fitness.data")
    assert (tmp_path / "keep").is_dir()


def test_fitness_data_plain_class_that_is_not_a_datamodule_is_refused(tmp_path, monkeypatch, capsys):
    rc = evolve(tmp_path, monkeypatch, fitness_data={"class_path": "collections.OrderedDict", "init_args": {}})
    refused(tmp_path, capsys, rc, "not correspond to a subclass of LightningDataModule")


@pytest.mark.parametrize("where", ["data", "model"])
def test_pretrain_recipe_class_path_is_refused_before_training(tmp_path, monkeypatch, capsys, where):
    pretrain = copy.deepcopy(PRETRAIN)
    pretrain[where] = {"class_path": "os.system", "init_args": {"command": "touch z"}}
    rc = evolve(tmp_path, monkeypatch, pretrain=pretrain)
    refused(tmp_path, capsys, rc, f"'{where}'")
    assert not (tmp_path / "z").exists()


@pytest.mark.parametrize("key", ["callbacks", "logger", "plugins"])
def test_pretrain_trainer_class_paths_are_refused(tmp_path, monkeypatch, capsys, key):
    pretrain = copy.deepcopy(PRETRAIN)
    hostile = {"class_path": "os.system", "init_args": {"command": "touch w"}}
    pretrain["trainer"][key] = [hostile] if key != "logger" else hostile
    rc = evolve(tmp_path, monkeypatch, pretrain=pretrain)
    refused(tmp_path, capsys, rc, f"'trainer.{key}'")
    assert not (tmp_path / "w").exists()


def test_candidate_overrides_cannot_smuggle_a_class_path(tmp_path, monkeypatch, capsys):
    rc = evolve(tmp_path, monkeypatch, overrides={"data.class_path": "os.system",
                                                  "data.init_args": {"command": "touch v"}})
    refused(tmp_path, capsys, rc, "'data'")
    assert not (tmp_path / "v").exists()


def test_build_loader_refuses_a_hostile_spec_directly(tmp_path, monkeypatch):
    """The evaluator's own loader (what process and Ray workers call) checks too, not only the command."""
    from evovideo.evolution.candidate import build_loader
    from evovideo.lightning.evolve import fitness_datamodule
    from evovideo.tasks import RecipeError

    monkeypatch.chdir(tmp_path)
    with pytest.raises(RecipeError, match="fitness.data: Import path os.system does not correspond"):
        build_loader({"class_path": "os.system", "init_args": {"command": "touch u"}}, fitness_datamodule)
    assert not (tmp_path / "u").exists()
