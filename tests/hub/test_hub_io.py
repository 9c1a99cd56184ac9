"""save_pretrained / load_pretrained: exact round trip, and a clear error for every bad file."""
from __future__ import annotations

import json
import pickle
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

import evovideo
from evovideo.hub import CONFIG_NAME, WEIGHTS_NAME, PretrainedLoadError, load_pretrained, save_pretrained


def test_round_trip_gives_identical_outputs(student, tmp_path: Path) -> None:
    extra = {"recipe": "recipes/pretrain/demo_synthetic.yaml", "lambdas": {"reconstruction": 0.5}}
    save_pretrained(student, tmp_path, extra=extra)
    loaded = load_pretrained(tmp_path)
    x = student.input_config.example_input(2)
    assert not loaded.training
    assert torch.equal(student(x), loaded(x))
    assert loaded.input_config == student.input_config
    config = json.loads((tmp_path / CONFIG_NAME).read_text())
    assert config["architecture"] == "test_r2plus1d"
    assert config["input_config"] == student.input_config.to_dict()
    assert config["extra"] == extra
    assert loaded.provenance.extra["lambdas"] == {"reconstruction": 0.5}


def test_round_trip_keeps_head_kwargs_and_preprocessing(tmp_path: Path) -> None:
    model = evovideo.create_model("test_r2plus1d", drop_rate=0.1)
    model.reset_classifier(5)
    model.input_config = replace(model.input_config, size=48, num_frames=4)
    save_pretrained(model.eval(), tmp_path)
    loaded = load_pretrained(tmp_path)
    x = loaded.input_config.example_input(1)
    assert x.shape[-1] == 48 and x.shape[2] == 4
    assert loaded.model_kwargs == {"drop_rate": 0.1}
    assert torch.equal(model(x), loaded(x)) and loaded(x).shape == (1, 5)


def test_unserialisable_extra_is_refused(student, tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="extra must be plain JSON"):
        save_pretrained(student, tmp_path, extra={"lambdas": torch.ones(2)})


def _rewrite(path: Path, edit) -> None:
    state = load_file(str(path))
    edit(state)
    save_file(state, str(path))


def _bad(tmp_path: Path, student) -> Path:
    save_pretrained(student, tmp_path)
    return tmp_path / WEIGHTS_NAME


def test_missing_key_is_an_error_naming_file_and_key(student, tmp_path: Path) -> None:
    weights = _bad(tmp_path, student)
    key = sorted(load_file(str(weights)))[0]
    _rewrite(weights, lambda s: s.pop(key))
    with pytest.raises(PretrainedLoadError, match="missing keys") as err:
        load_pretrained(tmp_path)
    assert str(weights) in str(err.value) and key in str(err.value)


def test_unexpected_key_is_an_error(student, tmp_path: Path) -> None:
    weights = _bad(tmp_path, student)
    _rewrite(weights, lambda s: s.__setitem__("head.extra_weight", torch.zeros(3)))
    with pytest.raises(PretrainedLoadError, match=r"unexpected keys \(1\): head.extra_weight") as err:
        load_pretrained(tmp_path)
    assert str(weights) in str(err.value)


def test_shape_mismatch_is_an_error(student, tmp_path: Path) -> None:
    weights = _bad(tmp_path, student)
    key = next(k for k, v in load_file(str(weights)).items() if v.ndim == 5)
    _rewrite(weights, lambda s: s.__setitem__(key, s[key][:, :1].contiguous()))
    with pytest.raises(PretrainedLoadError, match="shape mismatch") as err:
        load_pretrained(tmp_path)
    assert key in str(err.value) and str(weights) in str(err.value)


def test_truncated_file_is_an_error(student, tmp_path: Path) -> None:
    weights = _bad(tmp_path, student)
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    with pytest.raises(PretrainedLoadError, match="not a readable safetensors file") as err:
        load_pretrained(tmp_path)
    assert str(weights) in str(err.value)


class _Trap:
    """Unpickling this creates a file: proves whether anything unpickled the weights."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_pickle_in_place_of_safetensors_is_refused_and_never_unpickled(student, tmp_path: Path) -> None:
    weights = _bad(tmp_path, student)
    marker = tmp_path / "unpickled"
    weights.write_bytes(pickle.dumps({"state_dict": _Trap(marker)}))
    with pytest.raises(PretrainedLoadError, match="never unpickles") as err:
        load_pretrained(tmp_path)
    assert str(weights) in str(err.value)
    assert not marker.exists()


def test_non_finite_weights_are_an_error(student, tmp_path: Path) -> None:
    weights = _bad(tmp_path, student)
    key = next(k for k, v in load_file(str(weights)).items() if v.is_floating_point())
    _rewrite(weights, lambda s: s[key].view(-1).__setitem__(0, float("nan")))
    with pytest.raises(PretrainedLoadError, match="non-finite") as err:
        load_pretrained(tmp_path)
    assert key in str(err.value)


def test_missing_or_foreign_config_is_an_error(student, tmp_path: Path) -> None:
    save_pretrained(student, tmp_path)
    (tmp_path / CONFIG_NAME).write_text(json.dumps({"architectures": ["BertModel"]}))
    with pytest.raises(PretrainedLoadError, match="not an evovideo config"):
        load_pretrained(tmp_path)
    (tmp_path / CONFIG_NAME).unlink()
    with pytest.raises(PretrainedLoadError, match=f"no {CONFIG_NAME} here"):
        load_pretrained(tmp_path)
    (tmp_path / WEIGHTS_NAME).unlink()
    with pytest.raises(PretrainedLoadError, match="not a folder"):
        load_pretrained(tmp_path / "nowhere")


def test_unknown_architecture_or_arguments_name_the_config(student, tmp_path: Path) -> None:
    save_pretrained(student, tmp_path)
    config = json.loads((tmp_path / CONFIG_NAME).read_text())
    for field, value in (("architecture", "r9plus9d"), ("model_kwargs", {"width_mult": 2})):
        (tmp_path / CONFIG_NAME).write_text(json.dumps({**config, field: value}))
        with pytest.raises(PretrainedLoadError, match="cannot build") as err:
            load_pretrained(tmp_path)
        assert str(tmp_path / CONFIG_NAME) in str(err.value)
