"""The Hub path end to end: push_to_hub -> a Hub on 127.0.0.1 -> from_pretrained, with the real
huggingface_hub client (HF_ENDPOINT), revisions, the cache, offline mode and bad downloads."""
from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hub_server import hf_env_vars

import evovideo
from evovideo.hub import PretrainedLoadError, push_to_hub

REPO = "evo-org/tiny-student"


def _same(a, b) -> bool:
    x = a.input_config.example_input(2)
    return torch.equal(a(x), b(x))


def test_push_then_download_gives_identical_model_and_card(local_hub, student) -> None:
    extra = {"recipe": "recipes/pretrain/demo_synthetic.yaml", "lambdas": {"reconstruction": 1.0},
             "pretraining_data": "synthetic set"}
    result = push_to_hub(student, REPO, extra=extra)
    assert ("POST", f"/api/models/{REPO}/commit/main") in local_hub.requests
    files = local_hub.repos[REPO].commits[result.commit]
    assert sorted(files) == ["README.md", "config.json", "model.safetensors"]
    card = files["README.md"].decode()
    assert card.startswith("---\n") and "library_name: evovideo" in card
    assert "recipes/pretrain/demo_synthetic.yaml" in card and "synthetic set" in card

    loaded = evovideo.from_pretrained(f"hf-hub:{REPO}")
    assert not loaded.training and loaded.input_config == student.input_config
    assert _same(student, loaded)
    assert loaded.provenance.extra == extra
    assert loaded.provenance.source == f"hf-hub:{REPO}@{result.commit}"
    assert Path(os.environ["HF_HUB_CACHE"], "models--evo-org--tiny-student").is_dir()


def test_revision_pins_commit_and_branch(local_hub, student, make_student) -> None:
    first = push_to_hub(student, REPO)
    newer = make_student(seed=1)
    second = push_to_hub(newer, REPO)
    branch = push_to_hub(student, REPO, revision="v1")
    assert len({first.commit, second.commit, branch.commit}) == 3
    assert _same(newer, evovideo.from_pretrained(f"hf-hub:{REPO}"))
    assert _same(student, evovideo.from_pretrained(f"hf-hub:{REPO}", revision=first.commit))
    assert _same(student, evovideo.from_pretrained(f"hf-hub:{REPO}", revision="v1"))
    from huggingface_hub.errors import RevisionNotFoundError

    with pytest.raises(RevisionNotFoundError):
        evovideo.from_pretrained(f"hf-hub:{REPO}", revision="no-such-branch")


def test_downloaded_pickle_is_refused_and_never_unpickled(local_hub, student, tmp_path: Path) -> None:
    push_to_hub(student, REPO)
    marker = tmp_path / "unpickled"
    folder = tmp_path / "evil"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(pickle.dumps(_Trap(marker)))
    local_hub.add_folder(REPO, folder)  # replaces the weights on main, keeps config.json
    with pytest.raises(PretrainedLoadError, match="never unpickles") as err:
        evovideo.from_pretrained(f"hf-hub:{REPO}")
    assert "model.safetensors" in str(err.value) and not marker.exists()


class _Trap:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


LOAD = """
import json, sys, torch, evovideo
m = evovideo.from_pretrained("hf-hub:{repo}", revision={revision!r})
torch.manual_seed(0)
print(json.dumps({{"training": m.training, "out": m(m.input_config.example_input(1)).flatten()[:4].tolist(),
                   "source": m.provenance.source}}))
"""


def _run(env: dict[str, str], revision: str | None = None) -> dict:
    code = LOAD.format(repo=REPO, revision=revision)
    proc = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env, "OMP_NUM_THREADS": "1"},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_offline_mode_with_a_filled_cache(local_hub, student, tmp_path: Path) -> None:
    """Fill the cache online, then load in a fresh interpreter with HF_HUB_OFFLINE=1 set before
    huggingface_hub is imported: same outputs, and not one request reaches the server."""
    from evovideo.hub import prepare_repo_folder

    prepare_repo_folder(student, tmp_path / "repo", REPO)  # push's own save step
    commit = local_hub.add_folder(REPO, tmp_path / "repo")
    online = evovideo.from_pretrained(f"hf-hub:{REPO}")
    served = len(local_hub.requests)
    offline = _run({**hf_env_vars(local_hub.endpoint, tmp_path), "HF_HUB_OFFLINE": "1"})
    assert len(local_hub.requests) == served  # offline: not one request
    torch.manual_seed(0)
    expected = online(online.input_config.example_input(1)).flatten()[:4].tolist()
    assert offline["out"] == pytest.approx(expected, abs=1e-6) and offline["training"] is False
    assert offline["source"] == f"hf-hub:{REPO}@{commit}"
