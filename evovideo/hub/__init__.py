"""Pretrained weights: save / load (safetensors + config.json), the Hub, transforms, model cards.

    from evovideo.hub import save_pretrained, load_pretrained
    save_pretrained(student, "runs/elo_demo/student", extra={"recipe": ..., "lambdas": {...}})
    enc = load_pretrained("runs/elo_demo/student")              # strict, eval mode

Loading by name (``evovideo.from_pretrained("hf-hub:ORG/NAME")``, ``"local-dir:/path"``, ``"arch.tag"``)
is the encoder factory's, :mod:`evovideo.factory`, which sits above this package.
"""
from evovideo.hub.io import (
    CONFIG_NAME,
    WEIGHTS_NAME,
    PretrainedLoadError,
    build_config,
    load_files,
    load_pretrained,
    save_pretrained,
)
from evovideo.hub.push import PushResult, prepare_repo_folder, push_to_hub
from evovideo.hub.resolve import HF_HUB_PREFIX, LOCAL_DIR_PREFIX, download_from_hub
from evovideo.hub.transforms import transforms_for

__all__ = [
    "CONFIG_NAME",
    "HF_HUB_PREFIX",
    "LOCAL_DIR_PREFIX",
    "WEIGHTS_NAME",
    "PretrainedLoadError",
    "PushResult",
    "build_config",
    "download_from_hub",
    "load_files",
    "load_pretrained",
    "prepare_repo_folder",
    "push_to_hub",
    "save_pretrained",
    "transforms_for",
]
