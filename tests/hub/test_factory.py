"""One encoder factory (evovideo.factory): every entry point resolves a string the same way, and a
loaded encoder carries one declared, typed record of what its weights were trained with."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import evovideo
from evovideo.hub import CONFIG_NAME, PretrainedLoadError, load_pretrained, save_pretrained
from evovideo.models import Encoder


def test_entry_points_are_the_factory() -> None:
    """create_model, from_pretrained and load_encoder are one module's functions, not three resolvers."""
    import evovideo.eval
    import evovideo.factory as factory

    for fn in (evovideo.create_model, evovideo.from_pretrained, evovideo.eval.load_encoder):
        assert fn.__module__ == "evovideo.factory", fn
    assert evovideo.create_model is factory.create_model and evovideo.from_pretrained is factory.from_pretrained


def _loaders(tmp_path: Path):
    from evovideo.eval import load_encoder

    folder = f"local-dir:{tmp_path / 'ck'}"
    return {
        "create_model(local-dir)": lambda: evovideo.create_model(folder),
        "from_pretrained(local-dir)": lambda: evovideo.from_pretrained(folder),
        "load_encoder(local-dir)": lambda: load_encoder(folder),
        "load_pretrained(folder)": lambda: load_pretrained(tmp_path / "ck"),
    }


def test_loaded_encoder_carries_one_declared_provenance(student, tmp_path: Path) -> None:
    from evovideo.models import Provenance

    assert Encoder.__annotations__["provenance"] in ("Provenance | None", Provenance | None)
    save_pretrained(student, tmp_path / "ck", extra={"lambdas": {"tasks": {"rgb/reconstruction": 0.5}}})
    for what, load in _loaders(tmp_path).items():
        model = load()
        p = model.provenance
        assert isinstance(p, Provenance), what
        assert p.architecture == "test_r2plus1d" and p.extra["lambdas"] == {"tasks": {"rgb/reconstruction": 0.5}}
        assert p.source.endswith(str(tmp_path / "ck")), (what, p.source)
        for old in ("pretrained_config", "pretrained_cfg", "pretrained_source"):  # the look-alikes are gone
            assert not hasattr(model, old), (what, old)
    zoo = evovideo.create_model("test_r2plus1d.elo_synthetic", pretrained=True)
    assert zoo.provenance.source == "test_r2plus1d.elo_synthetic"
    assert zoo.provenance.zoo is not None and zoo.provenance.zoo.name == "test_r2plus1d.elo_synthetic"
    assert zoo.provenance.extra["lambdas"] == zoo.provenance.zoo.lambdas
    assert evovideo.create_model("test_r2plus1d").provenance is None  # random init: no weights, no record
    assert evovideo.create_model("test_r2plus1d.elo_synthetic").provenance is None


def test_config_json_names_an_architecture_not_another_source(student, make_student, tmp_path: Path) -> None:
    """Before, build_from_config sent config["architecture"] back through create_model: a config.json
    saying "local-dir:<elsewhere>" or "arch.tag" loaded a different network (or file) silently."""
    save_pretrained(make_student(1), tmp_path / "elsewhere")
    save_pretrained(student, tmp_path / "ck")
    config_path = tmp_path / "ck" / CONFIG_NAME
    for arch in (f"local-dir:{tmp_path / 'elsewhere'}", "test_r2plus1d.elo_synthetic"):
        config = json.loads(config_path.read_text())
        config["architecture"] = arch
        config_path.write_text(json.dumps(config))
        with pytest.raises(PretrainedLoadError, match=r"architecture = .*a registered encoder name"):
            load_pretrained(tmp_path / "ck")


@pytest.mark.parametrize("name", ["./runs/student", "my-org/elo", "runs/a/b"])
def test_every_entry_point_refuses_a_bare_source_alike(name: str) -> None:
    from evovideo.eval import load_encoder

    messages = set()
    for load in (evovideo.create_model, evovideo.from_pretrained, load_encoder,
                 lambda n: evovideo.create_model(n, pretrained=True)):
        with pytest.raises(ValueError, match="say so explicitly") as err:
            load(name)
        messages.add(str(err.value))
    assert len(messages) == 1, messages


def test_factory_loads_the_same_weights_through_every_entry_point(student, tmp_path: Path) -> None:
    save_pretrained(student, tmp_path / "ck")
    x = student.input_config.example_input(1)
    outs = [load()(x) for load in _loaders(tmp_path).values()]
    for out in outs:
        assert torch.equal(out, student(x))
