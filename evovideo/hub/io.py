"""Save and load a trained encoder as ``model.safetensors`` + ``config.json``, strictly.

``config.json`` holds everything needed to rebuild the network before the weights go in::

    {
      "format": "evovideo", "format_version": 1, "evovideo_version": "0.1.0",
      "architecture": "test_r2plus1d",           # registry name
      "model_kwargs": {...},                      # constructor arguments (JSON values)
      "num_classes": 0,                           # head size (reset_classifier), 0 = features
      "input_config": {...},                      # preprocessing the weights expect (the clip
                                                  # contract; without frame_rate / resize: 25 fps, 8/7)
      "extra": {"recipe": "...", "lambdas": {...}, ...}   # provenance, free-form JSON
    }

Loading never unpickles: weights are read with ``safetensors`` only, and every mismatch
between the file and the rebuilt network (missing / unexpected keys, shapes) is an error.
"""
from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from evovideo.models.base import Encoder, InputConfig, Provenance

log = logging.getLogger(__name__)

WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "config.json"
FORMAT = "evovideo"
FORMAT_VERSION = 1


class PretrainedLoadError(RuntimeError):
    """A checkpoint folder or file that cannot be loaded as-is; the message names the file."""


def _check_json(value: Any, what: str) -> None:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{what} must be plain JSON values (str, number, bool, list, dict): {err}") from None


def build_config(model: Encoder, extra: dict | None = None) -> dict:
    """The ``config.json`` dict for ``model`` (a registered encoder) plus ``extra`` provenance."""
    name = getattr(model, "model_name", None)
    if not name:
        raise ValueError(
            f"{type(model).__name__} has no .model_name; build it with evovideo.create_model(name) "
            "so the registry name and constructor arguments can be saved"
        )
    kwargs = dict(getattr(model, "model_kwargs", {}) or {})
    kwargs.pop("pretrained", None)
    _check_json(kwargs, f"constructor arguments of '{name}'")
    extra = dict(extra or {})
    _check_json(extra, "extra")
    from evovideo import __version__

    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "evovideo_version": __version__,
        "architecture": name,
        "model_kwargs": kwargs,
        "num_classes": int(getattr(model, "num_classes", 0) or 0),
        "num_features": int(model.num_features),
        "input_config": model.input_config.to_dict(),
        "extra": extra,
    }


def save_pretrained(model: Encoder, save_dir: str | Path, extra: dict | None = None) -> Path:
    """Write ``model.safetensors`` and ``config.json`` for ``model`` into ``save_dir``.

    ``extra`` is free-form JSON provenance stored under ``config["extra"]``: e.g.
    ``{"recipe": "recipes/pretrain/demo_synthetic.yaml", "lambdas": {...}, "dataset": "synthetic"}``.
    Returns the folder.
    """
    save_dir = Path(save_dir)
    save_dir.mkdir(parents=True, exist_ok=True)
    config = build_config(model, extra)
    # clone: safetensors refuses tensors that share storage; contiguous: it stores raw buffers
    state = {k: v.detach().cpu().clone().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(save_dir / WEIGHTS_NAME), metadata={"format": "pt", "architecture": config["architecture"]})
    (save_dir / CONFIG_NAME).write_text(json.dumps(config, indent=2, sort_keys=False) + "\n")
    log.info("saved %s (%d tensors) to %s", config["architecture"], len(state), save_dir)
    return save_dir


def read_config(path: str | Path) -> dict:
    """Read and validate a ``config.json``; errors name the file and the missing field."""
    path = Path(path)
    if not path.is_file():
        raise PretrainedLoadError(
            f"{path}: no {CONFIG_NAME} here; a checkpoint folder holds {CONFIG_NAME} and {WEIGHTS_NAME}"
        )
    try:
        config = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise PretrainedLoadError(f"{path}: not valid JSON ({err})") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise PretrainedLoadError(f"{path}: not an evovideo config (expected \"format\": \"{FORMAT}\")")
    version = config.get("format_version", 0)
    if not _is_int(version) or version < 0:
        raise PretrainedLoadError(f"{path}: format_version = {version!r}: must be an integer "
                                  f"(this evovideo writes {FORMAT_VERSION})")
    if version > FORMAT_VERSION:
        raise PretrainedLoadError(
            f"{path}: format_version {config['format_version']} is newer than this evovideo understands "
            f"({FORMAT_VERSION}); upgrade evovideo"
        )
    for key in ("architecture", "model_kwargs", "input_config"):
        if key not in config:
            raise PretrainedLoadError(f"{path}: missing field '{key}'")
    _check_fields(config, path)
    return config


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _check_fields(config: dict, path: Path) -> None:
    """Every field a network is rebuilt from, typed and in range; one line naming the file and field."""
    from evovideo.models.base import MODALITIES
    from evovideo.models.registry import MODELS

    def bad(field: str, value: Any, rule: str) -> PretrainedLoadError:
        return PretrainedLoadError(f"{path}: {field} = {value!r}: must be {rule}")

    arch = config["architecture"]
    if not isinstance(arch, str) or any(c in arch for c in ":./\\"):  # never another source or a zoo entry
        raise bad("architecture", arch, "a registered encoder name (evovideo list-models), not a source or zoo entry")
    if not isinstance(config["model_kwargs"], dict):
        raise bad("model_kwargs", config["model_kwargs"], "a mapping of the encoder's constructor arguments")
    n = config.get("num_classes", 0)
    if n is not None and (not _is_int(n) or n < 0):
        raise bad("num_classes", n, "an integer >= 0 (0: no classifier head)")
    ic = config["input_config"]
    if not isinstance(ic, dict):
        raise bad("input_config", ic, "a mapping (modality, num_frames, stride, size, mean, std, ...)")
    modality = ic.get("modality", "rgb")
    if modality not in MODALITIES:
        raise bad("input_config.modality", modality, f"one of {', '.join(MODALITIES)}")
    for key in ("in_chans", "num_frames", "stride", "size", "sample_rate", "n_mels"):
        if key in ic and (not _is_int(ic[key]) or ic[key] < 1):
            raise bad(f"input_config.{key}", ic[key], "an integer >= 1")
    for key in ("win_ms", "hop_ms"):
        if key in ic and (not _is_number(ic[key]) or ic[key] <= 0):
            raise bad(f"input_config.{key}", ic[key], "a number > 0")
    if "frame_rate" in ic and (not _is_number(ic["frame_rate"]) or ic["frame_rate"] <= 0):
        raise bad("input_config.frame_rate", ic["frame_rate"], "a number > 0 (the clip's nominal frames per second)")
    resize = ic.get("resize")
    if resize is not None and (not _is_int(resize) or resize < ic.get("size", 1)):
        raise bad("input_config.resize", resize, f"null (round(size * 8/7)) or an integer >= size ({ic.get('size')})")
    chans = ic.get("in_chans", 3)
    for key in ("mean", "std"):
        v = ic.get(key)
        if v is not None and (not isinstance(v, list) or len(v) != chans or not all(_is_number(x) for x in v)
                              or (key == "std" and min(v) <= 0)):
            raise bad(f"input_config.{key}", v, f"a list of {chans} numbers (in_chans)" + (", each > 0" if key == "std" else ""))
    if arch in MODELS:
        expects = MODELS.meta(arch)["input_config"].modality
        if expects != modality:
            raise bad("input_config.modality", modality, f"'{expects}': {arch} is a {expects} network")


def read_weights(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a safetensors file; a missing, truncated or non-safetensors file is an error naming it."""
    path = Path(path)
    if not path.is_file():
        raise PretrainedLoadError(f"{path}: weights file not found")
    try:
        return load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as err:
        raise PretrainedLoadError(
            f"{path}: not a readable safetensors file (truncated, corrupted, or another format such as a "
            f"pickled .pt/.ckpt; evovideo never unpickles weights): {err}"
        ) from None


def _keys_preview(keys: list[str], limit: int = 8) -> str:
    shown = ", ".join(keys[:limit])
    return shown + (f", ... (+{len(keys) - limit} more)" if len(keys) > limit else "")


def load_state_dict_strict(model: torch.nn.Module, state: dict[str, torch.Tensor], source: str | Path) -> None:
    """Load ``state`` into ``model``; any missing / unexpected key or shape mismatch is an error."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    mismatched = sorted(
        f"{k}: file {tuple(state[k].shape)} vs model {tuple(expected[k].shape)}"
        for k in set(state) & set(expected)
        if state[k].shape != expected[k].shape
    )
    problems = []
    if missing:
        problems.append(f"missing keys ({len(missing)}): {_keys_preview(missing)}")
    if unexpected:
        problems.append(f"unexpected keys ({len(unexpected)}): {_keys_preview(unexpected)}")
    if mismatched:
        problems.append(f"shape mismatch ({len(mismatched)}): {_keys_preview(mismatched)}")
    if problems:
        raise PretrainedLoadError(
            f"{source}: weights do not match the network described by {CONFIG_NAME}: " + "; ".join(problems)
        )
    dtypes = sorted(f"{k}: {state[k].dtype} (network {expected[k].dtype})" for k in state
                    if expected[k].is_floating_point() and state[k].dtype != expected[k].dtype)
    if dtypes:
        raise PretrainedLoadError(f"{source}: float weights stored with another dtype ({len(dtypes)}): "
                                  f"{_keys_preview(dtypes)}; save them as the network's dtype (float32)")
    bad = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise PretrainedLoadError(f"{source}: non-finite values in {_keys_preview(sorted(bad))}")
    model.load_state_dict(state, strict=True)


def build_from_config(config: dict) -> Encoder:
    """A randomly initialised encoder with the architecture, arguments and head of ``config``."""
    from evovideo.models.registry import MODELS

    model = MODELS.create(config["architecture"], **config["model_kwargs"])
    num_classes = int(config.get("num_classes", 0) or 0)
    if num_classes != int(getattr(model, "num_classes", 0) or 0):
        model.reset_classifier(num_classes)
    model.input_config = InputConfig.from_dict(config["input_config"])
    return model


def load_pretrained(load_dir: str | Path) -> Encoder:
    """Rebuild the encoder saved by :func:`save_pretrained` in ``load_dir``, in eval mode.

    The returned model carries ``.input_config`` (the preprocessing its weights expect) and
    ``.provenance`` (the folder and the whole ``config.json``, including ``extra`` provenance).
    """
    load_dir = Path(load_dir)
    if not load_dir.is_dir():
        raise PretrainedLoadError(f"{load_dir}: not a folder; expected a folder with {CONFIG_NAME} and {WEIGHTS_NAME}")
    return load_files(load_dir / CONFIG_NAME, load_dir / WEIGHTS_NAME)


def load_files(config_path: str | Path, weights_path: str | Path) -> Encoder:
    """Like :func:`load_pretrained` for a config and weights file given separately."""
    config = read_config(config_path)
    try:
        model = build_from_config(config)
    except (KeyError, TypeError, ValueError) as err:  # unknown architecture, bad arguments / input config
        raise PretrainedLoadError(
            f"{config_path}: cannot build '{config['architecture']}' with {config['model_kwargs']}: {err} "
            "(a checkpoint from a newer evovideo or a plug-in you have not imported?)"
        ) from None
    load_state_dict_strict(model, read_weights(weights_path), weights_path)
    model.provenance = Provenance(source=str(Path(config_path).parent), config=config)
    model.eval()
    n = sum(p.numel() for p in model.parameters())
    log.info("loaded %s (%.2fM params) from %s", config["architecture"], n / 1e6, weights_path)
    return model
