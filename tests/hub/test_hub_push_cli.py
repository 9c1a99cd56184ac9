"""`evovideo push`: the command writes weights + config + card and uploads them to HF_ENDPOINT."""
from __future__ import annotations

from pathlib import Path

import torch

import evovideo
from evovideo.cli import main
from evovideo.hub import save_pretrained


def test_push_command_uploads_a_checkpoint_folder(local_hub, student, tmp_path: Path, capsys) -> None:
    save_pretrained(student, tmp_path / "student", extra={"recipe": "recipes/pretrain/demo_synthetic.yaml"})
    assert main(["push", "--checkpoint", str(tmp_path / "student"), "--repo", "org/cli", "--revision", "v2"]) == 0
    out = capsys.readouterr().out
    assert "pushed to org/cli@v2" in out
    commit = local_hub.repos["org/cli"].refs["v2"]
    assert commit in out
    loaded = evovideo.from_pretrained("hf-hub:org/cli", revision="v2")
    x = student.input_config.example_input(1)
    assert torch.equal(loaded(x), student(x))


def test_push_dry_run_writes_files_and_a_card_from_the_run(student, tmp_path: Path) -> None:
    hp = {"student": "test_r2plus1d", "tasks": {"rgb/arrow_of_time": 0.75}, "distill": {"flow:layer3": 0.5}}
    save_pretrained(student, tmp_path / "student", extra={"pretrain": hp})  # what a pretraining run exports
    assert main(["push", "--checkpoint", str(tmp_path / "student"), "--repo", "org/x", "--dry-run", str(tmp_path / "out"),
                 "--recipe", "recipes/pretrain/demo_synthetic.yaml", "--pretraining-data", "my 40 clips", "--license", "mit"]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["README.md", "config.json", "model.safetensors"]
    card = (tmp_path / "out" / "README.md").read_text()
    assert "license: mit" in card and "Pretraining data: my 40 clips" in card
    assert "`recipes/pretrain/demo_synthetic.yaml`" in card
    assert "| tasks.rgb/arrow_of_time | 0.75 |" in card and "| distill.flow:layer3 | 0.5 |" in card


def test_push_refuses_a_broken_checkpoint_before_uploading(local_hub, student, tmp_path: Path, capsys) -> None:
    save_pretrained(student, tmp_path / "student")
    weights = tmp_path / "student" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    assert main(["push", "--checkpoint", str(tmp_path / "student"), "--repo", "org/x"]) == 2
    assert "not a readable safetensors file" in capsys.readouterr().err
    assert local_hub.requests == []  # nothing was sent
    assert main(["push", "--checkpoint", str(tmp_path / "nothing"), "--repo", "org/x", "--dry-run", str(tmp_path / "o")]) == 2
    assert "expected a folder written by evovideo.save_pretrained" in capsys.readouterr().err
