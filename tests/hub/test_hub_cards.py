"""Zoo entries and their model cards agree; cards show measured numbers only, quotes marked."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from huggingface_hub import ModelCard
from safetensors import safe_open

from evovideo.hub.cards import cfg_from_config, lambdas_from_hparams, main, render_card, stale_cards
from evovideo.models import MODELS
from evovideo.models.base import InputConfig
from evovideo.models.zoo import ZOO, EvalResult, PretrainedCfg

REPO_ROOT = Path(__file__).resolve().parents[2]
CARDS = REPO_ROOT / "model_cards"


def test_every_zoo_entry_has_an_up_to_date_card_and_no_card_is_orphaned() -> None:
    assert ZOO, "the zoo has no entries"
    stale = stale_cards(CARDS)
    assert not stale, f"missing or stale cards for {stale}: run `python -m evovideo.hub.cards model_cards/`"
    orphans = sorted(p.stem for p in CARDS.glob("*.md") if p.stem not in ZOO)
    assert not orphans, f"cards without a zoo entry: {orphans}"


@pytest.mark.parametrize("name", sorted(ZOO))
def test_card_metadata_matches_its_entry(name: str) -> None:
    cfg = ZOO[name]
    card = ModelCard.load(CARDS / f"{name}.md")
    data = card.data.to_dict()
    assert data["library_name"] == "evovideo" and data["license"] == cfg.license
    assert cfg.architecture in data["tags"]
    assert data.get("datasets", []) == list(cfg.datasets)
    measured = [r for r in cfg.results if r.measured]
    index = data.get("model-index", [{"results": []}])[0]["results"]
    assert [m["value"] for res in index for m in res["metrics"]] == [r.value for r in measured]
    assert cfg.recipe in card.text and cfg.pretraining_data in card.text
    if not cfg.published:
        assert "Weights not yet published" in card.text
    for r in cfg.results:
        if not r.measured:
            assert "Quoted from the paper (not measured with these weights)" in card.text
        else:
            assert r.command in card.text


@pytest.mark.parametrize("name", sorted(ZOO))
def test_entry_facts_are_consistent(name: str) -> None:
    cfg = ZOO[name]
    assert cfg.architecture in MODELS, f"{name}: architecture not registered"
    assert (REPO_ROOT / cfg.recipe).is_file(), f"{name}: recipe {cfg.recipe} does not exist"
    if cfg.lambdas is not None:  # the λ the entry states are the ones its recipe pins
        init = yaml.safe_load((REPO_ROOT / cfg.recipe).read_text())["model"]["init_args"]
        assert cfg.lambdas == lambdas_from_hparams(init), (
            f"{name}: λ differ from {cfg.recipe}; retrain and repackage (python -m evovideo.hub.package)"
        )
    if cfg.file:  # the packaged preprocessing is what the recipe trained on
        data = (yaml.safe_load((REPO_ROOT / cfg.recipe).read_text()).get("data") or {}).get("init_args") or {}
        ic = cfg.resolved_input_config()
        assert {k: getattr(ic, k) for k in data if k in ("num_frames", "stride", "size")} == {
            k: data[k] for k in data if k in ("num_frames", "stride", "size")
        }, f"{name}: input config differs from the data of {cfg.recipe}"
        config_path, weights_path = cfg.weight_files()
        assert weights_path.stat().st_size < 5 * 2**20, "packaged weights must stay a few MB"
        config = json.loads(config_path.read_text())
        assert config["architecture"] == cfg.architecture
        assert InputConfig.from_dict(config["input_config"]) == cfg.resolved_input_config()
        assert config["extra"].get("lambdas") == cfg.lambdas
        assert config["extra"].get("recipe") == cfg.recipe
        with safe_open(str(weights_path), "pt") as f:  # a real safetensors file
            assert f.metadata()["architecture"] == cfg.architecture


def test_card_for_a_pushed_checkpoint_separates_measured_from_quoted() -> None:
    config = {
        "architecture": "test_r2plus1d",
        "input_config": InputConfig(num_frames=8, size=32).to_dict(),
        "extra": {
            "recipe": "recipes/pretrain/x.yaml", "lambdas": {"tasks": {"reconstruction": 0.25}},
            "pretraining_data": "my clips",
            "results": [
                {"task": "video-classification", "dataset": "Synthetic", "metric": "accuracy", "value": 61.2,
                 "protocol": "5-way 1-shot", "command": "evovideo fewshot --encoder local-dir:x"},
                {"task": "video-classification", "dataset": "UCF101", "metric": "accuracy", "value": 93.8,
                 "protocol": "fine-tuned", "measured": False, "source": "quoted from the paper"},
            ],
        },
    }
    text = render_card(cfg_from_config(config, "org/name"), title="org/name")
    card = ModelCard(text)
    values = [m["value"] for r in card.data.to_dict()["model-index"][0]["results"] for m in r["metrics"]]
    assert values == [61.2]  # the quoted figure never enters model-index
    assert "Quoted from the paper" in text and "| tasks.reconstruction | 0.25 |" in text
    assert 'from_pretrained("hf-hub:org/name")' in text


def test_results_must_say_where_they_come_from() -> None:
    with pytest.raises(ValueError, match="needs the command"):
        EvalResult("video-classification", "UCF101", "accuracy", 50.0, "fine-tuned")
    with pytest.raises(ValueError, match="needs its source"):
        EvalResult("video-classification", "UCF101", "accuracy", 50.0, "fine-tuned", measured=False)


def test_regenerate_and_check_command(tmp_path: Path, capsys) -> None:
    assert main([str(tmp_path), "--check"]) == 1
    assert main([str(tmp_path)]) == 0
    assert main([str(tmp_path), "--check"]) == 0
    assert sorted(p.stem for p in tmp_path.glob("*.md")) == sorted(ZOO)
    (tmp_path / f"{sorted(ZOO)[0]}.md").write_text("edited by hand\n")
    assert main([str(tmp_path), "--check"]) == 1
    assert "stale or missing" in capsys.readouterr().out


def test_unpublished_entry_card_shows_recipe_not_usage() -> None:
    cfg = PretrainedCfg("test_r2plus1d", "t", "s", "d", "recipes/pretrain/x.yaml")
    text = render_card(cfg)
    assert "Weights not yet published" in text and "evovideo fit -c recipes/pretrain/x.yaml" in text
    assert "## Use" not in text and "No evaluation of these weights has been measured yet." in text
