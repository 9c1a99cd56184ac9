"""from_pretrained / create_model(pretrained=True): explicit prefixes, zoo entries, clear refusals."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

import evovideo
from evovideo.hub import save_pretrained
from evovideo.models.zoo import WeightsNotPublishedError


def test_local_dir_prefix_loads_in_eval_mode_with_input_config(student, tmp_path: Path) -> None:
    save_pretrained(student, tmp_path / "ck")
    for loaded in (evovideo.from_pretrained(f"local-dir:{tmp_path / 'ck'}"),
                   evovideo.create_model(f"local-dir:{tmp_path / 'ck'}")):
        assert not loaded.training and loaded.input_config == student.input_config
        x = student.input_config.example_input(1)
        assert torch.equal(loaded(x), student(x))


def test_pretrained_model_takes_a_new_head_but_not_other_arguments(student, tmp_path: Path) -> None:
    save_pretrained(student, tmp_path)
    model = evovideo.create_model(f"local-dir:{tmp_path}", num_classes=3)
    assert model(student.input_config.example_input(1)).shape == (1, 3)
    with pytest.raises(ValueError, match=r"cannot change \['drop_rate'\]"):
        evovideo.create_model(f"local-dir:{tmp_path}", drop_rate=0.5)


@pytest.mark.parametrize(
    ("name", "prefix"),
    [("my-org/elo-r2plus1d", "hf-hub:my-org/elo-r2plus1d"), ("./runs/student", "local-dir:./runs/student"),
     ("/abs/path/student", "local-dir:/abs/path/student"), ("runs/a/b", "local-dir:runs/a/b")],
)
@pytest.mark.parametrize("load", [evovideo.from_pretrained, evovideo.create_model])
def test_bare_path_or_repo_id_is_refused_with_the_prefix_to_use(name: str, prefix: str, load) -> None:
    """Both entry points refuse alike (create_model('./runs/x') said "unknown model ''" before)."""
    with pytest.raises(ValueError, match="say so explicitly") as err:
        load(name)
    assert f"'{prefix}'" in str(err.value)


def test_existing_folder_without_prefix_is_refused(student, tmp_path: Path, monkeypatch) -> None:
    save_pretrained(student, tmp_path / "student")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="'local-dir:student'"):
        evovideo.from_pretrained("student")


def test_unknown_name_lists_prefixes_and_zoo() -> None:
    with pytest.raises(ValueError, match=r"hf-hub:ORG/NAME.*local-dir:/path.*r2plus1d_50\.elo_k400"):
        evovideo.from_pretrained("no_such_model")
    with pytest.raises(ValueError, match=r"'test_r2plus1d' is an architecture.*test_r2plus1d\.elo_synthetic"):
        evovideo.from_pretrained("test_r2plus1d")
    with pytest.raises(ValueError, match="unknown prefix"):
        evovideo.create_model("s3://bucket/model")


def test_unpublished_entry_says_so_and_names_its_recipe() -> None:
    with pytest.raises(WeightsNotPublishedError, match=r"not published yet.*evovideo fit -c recipes/pretrain/"):
        evovideo.create_model("r2plus1d_50.elo_k400", pretrained=True)


def test_unknown_tag_and_arch_without_weights_are_clear_errors() -> None:
    with pytest.raises(KeyError, match="no pretrained weights named 'test_r2plus1d.nope'"):
        evovideo.create_model("test_r2plus1d.nope", pretrained=True)
    with pytest.raises(KeyError, match="no pretrained weights named 's3d'"):
        evovideo.create_model("s3d", pretrained=True)


def test_revision_only_applies_to_hub(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="revision= applies to 'hf-hub:'"):
        evovideo.from_pretrained(f"local-dir:{tmp_path}", revision="v1")


def test_embedded_entry_loads_without_network(monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    model = evovideo.create_model("test_r2plus1d.elo_synthetic", pretrained=True)
    assert not model.training and model.provenance.source == "test_r2plus1d.elo_synthetic"
    assert model.provenance.zoo.name == "test_r2plus1d.elo_synthetic"
    same = evovideo.from_pretrained("test_r2plus1d.elo_synthetic")
    x = model.input_config.example_input(1)
    assert torch.equal(model(x), same(x))
    random_init = evovideo.create_model("test_r2plus1d.elo_synthetic")  # the tag without pretrained: random
    assert random_init.training and not torch.equal(random_init.eval()(x), model(x))
    assert evovideo.create_model("test_r2plus1d", pretrained=True, num_classes=4)(x).shape == (1, 4)
    assert "test_r2plus1d.elo_synthetic" in evovideo.list_pretrained(published=True)
    assert evovideo.list_pretrained(published=False) == ["r2plus1d_50.elo_k400"]
