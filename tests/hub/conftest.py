"""Fixtures for the Hub tests: a local Hub on 127.0.0.1 reached through HF_ENDPOINT."""
from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from hub_server import LocalHub, hf_env_vars  # noqa: E402


@pytest.fixture
def local_hub(tmp_path: Path):
    """A running LocalHub, with huggingface_hub's constants re-read from HF_ENDPOINT & co.

    huggingface_hub reads its environment once, at import (``huggingface_hub.constants``); the
    fixture sets the variables and reloads that module, then restores both afterwards.  (The
    offline test instead starts a fresh interpreter with the variables set before import.)
    """
    import huggingface_hub.constants as constants

    with LocalHub() as hub:
        env = hf_env_vars(hub.endpoint, tmp_path)
        saved = {k: os.environ.get(k) for k in [*env, "HF_TOKEN"]}
        os.environ.update(env)
        os.environ.pop("HF_TOKEN", None)
        importlib.reload(constants)
        try:
            yield hub
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            importlib.reload(constants)


def trained_like(seed: int = 0):
    """A tiny student whose weights and BatchNorm statistics are not the defaults."""
    import torch

    import evovideo

    torch.manual_seed(seed)
    model = evovideo.create_model("test_r2plus1d")
    with torch.no_grad():
        model.train()(model.input_config.example_input(2))  # update BN running stats
        for p in model.parameters():
            p.add_(0.01 * torch.randn_like(p))
    return model.eval()


@pytest.fixture
def student():
    return trained_like(0)


@pytest.fixture
def make_student():
    """``make_student(seed)``: another tiny student with different weights."""
    return trained_like
