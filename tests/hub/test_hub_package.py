"""Packaging an exported student as embedded zoo weights keeps the weights and records λ."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from evovideo.hub import load_files, save_pretrained
from evovideo.hub.package import package


def test_package_records_recipe_lambdas_and_data(student, tmp_path: Path) -> None:
    hp = {"student": "test_r2plus1d", "tasks": {"rgb/reconstruction": 0.5}, "distill": {"flow:layer3": 0.25}}
    save_pretrained(student, tmp_path / "run" / "student", extra={"pretrain": hp})
    out = package(tmp_path / "run" / "student", "test_r2plus1d.t", recipe="recipes/pretrain/x.yaml",
                  data="synthetic", out_dir=tmp_path / "weights")
    config = json.loads(out.with_suffix(".json").read_text())
    assert config["extra"]["lambdas"] == {"tasks": {"rgb/reconstruction": 0.5}, "distill": {"flow:layer3": 0.25}}
    assert config["extra"]["recipe"] == "recipes/pretrain/x.yaml" and config["extra"]["pretraining_data"] == "synthetic"
    loaded = load_files(out.with_suffix(".json"), out)
    x = student.input_config.example_input(1)
    assert torch.equal(loaded(x), student(x))


def test_package_refuses_a_student_without_training_record(student, tmp_path: Path) -> None:
    save_pretrained(student, tmp_path / "student")
    with pytest.raises(KeyError, match="extra.pretrain.tasks"):
        package(tmp_path / "student", "x.y", recipe="r", data="d", out_dir=tmp_path / "w")


def test_package_takes_the_input_config_the_recipe_trained_on(student, tmp_path: Path) -> None:
    recipe = tmp_path / "r.yaml"
    recipe.write_text("data:\n  init_args: {num_frames: 4, stride: 3, size: 40, batch_size: 2}\n")
    save_pretrained(student, tmp_path / "student", extra={"pretrain": {"tasks": {"rgb/reconstruction": 1.0}}})
    out = package(tmp_path / "student", "a.b", recipe=str(recipe), data="d", out_dir=tmp_path / "w")
    ic = json.loads(out.with_suffix(".json").read_text())["input_config"]
    assert (ic["num_frames"], ic["stride"], ic["size"]) == (4, 3, 40)
    assert ic["mean"] == list(student.input_config.mean)
