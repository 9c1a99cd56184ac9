"""The encoder factory: the one place where a string becomes an encoder.

    create_model("r2plus1d_18")                                  # an architecture: random init
    create_model("test_r2plus1d.elo_synthetic", pretrained=True) # a zoo entry arch.tag: its weights
    create_model("hf-hub:ORG/NAME") / create_model("local-dir:/path")   # always pretrained
    from_pretrained("hf-hub:ORG/NAME", revision="v1")            # weights only: an architecture is refused
    load_encoder(spec, revision=None, num_classes=0)             # evaluation / CLI: either, head reset

:func:`parse_name` decides what a string names, once, for every entry point (the package API,
``evovideo.eval``, ``evovideo.lightning`` and the CLI commands).  A bare string that looks like a
path or a Hub repo id is refused with the prefix to type: guessing would make ``"runs/best"`` a
Hub repo on one machine and a folder on another.

It sits above ``evovideo.models`` (architectures, the zoo's facts) and ``evovideo.hub`` (files,
downloads), which import neither it nor each other's loaders.  A loaded encoder carries
``.provenance`` (:class:`~evovideo.models.Provenance`): where its weights came from and the
``config.json`` they were saved with (architecture, arguments, input config, recipe, λ).
"""
from __future__ import annotations

import dataclasses
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from evovideo.hub.io import load_files, load_pretrained
from evovideo.hub.resolve import HF_HUB_PREFIX, LOCAL_DIR_PREFIX, download_from_hub
from evovideo.models import MODELS, Encoder
from evovideo.models.zoo import ZOO, PretrainedCfg, WeightsNotPublishedError, get_pretrained_cfg

log = logging.getLogger(__name__)

_REPO_ID = re.compile(r"^[\w.-]+/[\w.-]+$")


@dataclass(frozen=True)
class Name:
    """What one string names: an architecture, a zoo entry, a Hub repo or a local folder."""

    kind: Literal["architecture", "zoo", "hub", "local"]
    value: str  # registry name, arch.tag, ORG/NAME, or the folder path


def refuse_bare(name: str) -> None:
    """Raise for a bare string that looks like a path or a repo id, naming the prefix to use."""
    looks_like_path = (
        Path(name).expanduser().exists()
        or name.startswith((".", "/", "~"))
        or "\\" in name
        or name.count("/") > 1
        or name.endswith(("/", ".safetensors", ".json"))
    )
    if looks_like_path:
        raise ValueError(f"'{name}' looks like a local path; say so explicitly: '{LOCAL_DIR_PREFIX}{name}'")
    if _REPO_ID.match(name):
        raise ValueError(
            f"'{name}' looks like a Hub repo id; say so explicitly: '{HF_HUB_PREFIX}{name}' "
            f"(or '{LOCAL_DIR_PREFIX}{name}' if it is a local folder)"
        )


def parse_name(name: str) -> Name:
    """What ``name`` names; a bare path / repo id or an unknown prefix is an error saying what to type."""
    if name.startswith(HF_HUB_PREFIX):
        repo_id = name[len(HF_HUB_PREFIX):]
        if not re.fullmatch(r"([\w.-]+/)?[\w.-]+", repo_id):
            raise ValueError(f"'{repo_id}' is not a Hub repo id; expected '{HF_HUB_PREFIX}ORG/NAME'")
        return Name("hub", repo_id)
    if name.startswith(LOCAL_DIR_PREFIX):
        return Name("local", name[len(LOCAL_DIR_PREFIX):])
    if name in ZOO:
        return Name("zoo", name)
    if ":" in name:
        raise ValueError(f"unknown prefix in '{name}'; use '{HF_HUB_PREFIX}ORG/NAME' or '{LOCAL_DIR_PREFIX}/path'")
    refuse_bare(name)
    return Name("zoo", name) if "." in name else Name("architecture", name)


def load_weights(name: Name, revision: str | None = None, *, cache_dir: str | Path | None = None,
                 token: str | bool | None = None, local_files_only: bool = False) -> Encoder:
    """The pretrained encoder ``name`` points at (eval mode, ``.provenance`` set)."""
    if name.kind == "hub":
        config_path, weights_path = download_from_hub(
            name.value, revision, cache_dir=cache_dir, token=token, local_files_only=local_files_only
        )
        return _with_source(load_files(config_path, weights_path), f"{HF_HUB_PREFIX}{name.value}@{config_path.parent.name}")
    if revision is not None:
        where = f"zoo entry '{name.value}' pins its own" if name.kind == "zoo" else f"not to '{LOCAL_DIR_PREFIX}{name.value}'"
        raise ValueError(f"revision= applies to '{HF_HUB_PREFIX}' repos; {where}")
    if name.kind == "local":
        path = Path(name.value).expanduser()
        return _with_source(load_pretrained(path), f"{LOCAL_DIR_PREFIX}{path}")
    if name.kind == "zoo":
        return _load_zoo_entry(get_pretrained_cfg(name.value), cache_dir=cache_dir, token=token,
                               local_files_only=local_files_only)
    raise ValueError(f"'{name.value}' is an architecture, not a set of weights")


def _with_source(model: Encoder, source: str, zoo: PretrainedCfg | None = None) -> Encoder:
    assert model.provenance is not None  # load_files sets it
    model.provenance = dataclasses.replace(model.provenance, source=source, zoo=zoo)
    return model


def _load_zoo_entry(cfg: PretrainedCfg, **hub_args: Any) -> Encoder:
    if not cfg.published:
        raise WeightsNotPublishedError(
            f"weights for '{cfg.name}' are not published yet. Train them with "
            f"`evovideo fit -c {cfg.recipe}`, then load the exported student with "
            f"'local-dir:<run>/student'. The bare architecture name '{cfg.architecture}' gives a random init; "
            f"`evovideo list-models` lists the weights you can load now."
        )
    if cfg.file:
        model = load_files(*cfg.weight_files())
    else:
        model = load_weights(Name("hub", str(cfg.hf_hub_id)), cfg.hf_hub_revision, **hub_args)
    assert model.provenance is not None
    if model.provenance.architecture != cfg.architecture:
        raise RuntimeError(f"zoo entry '{cfg.name}' points at weights for '{model.provenance.architecture}'")
    return _with_source(model, cfg.name, zoo=cfg)


def _apply_kwargs(model: Encoder, name: str, kwargs: dict[str, Any]) -> Encoder:
    """``num_classes`` replaces a pretrained model's head; other arguments must match the weights."""
    kwargs = dict(kwargs)
    num_classes = kwargs.pop("num_classes", None)
    assert model.provenance is not None
    saved = model.provenance.model_kwargs
    differ = {k: v for k, v in kwargs.items() if saved.get(k, v) != v or k not in saved}
    if differ:
        raise ValueError(
            f"cannot change {sorted(differ)} of pretrained '{name}' (its weights were trained with "
            f"{saved}); only num_classes= may be given, to replace the head"
        )
    if num_classes is not None and num_classes != model.num_classes:
        model.reset_classifier(num_classes)
    return model


def create_model(name: str, pretrained: bool = False, **kwargs: Any) -> Encoder:
    """Build a registered encoder by name (random init), or with weights from the zoo / Hub / a folder.

    ``create_model("r2plus1d_18")``, ``create_model("r2plus1d_18", num_classes=101)``;
    ``create_model("test_r2plus1d.elo_synthetic", pretrained=True)`` (a zoo entry ``arch.tag``;
    without ``pretrained=True`` a random init with the entry's preprocessing),
    ``create_model("hf-hub:ORG/NAME")`` / ``create_model("local-dir:/path")`` (always pretrained).
    Pretrained models come back in eval mode; ``num_classes`` then replaces the head.
    """
    parsed = parse_name(name)
    if parsed.kind in ("hub", "local"):
        return _apply_kwargs(load_weights(parsed), name, kwargs)
    arch = name.split(".", 1)[0]
    MODELS.get(arch)  # unknown architecture: the registry's error lists the known ones
    if not pretrained:
        model = MODELS.create(arch, **kwargs)
        if parsed.kind == "zoo":  # random init with the entry's preprocessing
            input_config = get_pretrained_cfg(name).input_config
            if input_config is not None:
                model.input_config = input_config
        return model
    cfg = get_pretrained_cfg(name)  # a bare architecture: its first (default) tag
    return _apply_kwargs(_load_zoo_entry(cfg), cfg.name, kwargs)


def from_pretrained(
    name: str,
    revision: str | None = None,
    *,
    cache_dir: str | Path | None = None,
    token: str | bool | None = None,
    local_files_only: bool = False,
) -> Encoder:
    """Load a pretrained encoder (eval mode, ``.input_config`` and ``.provenance`` set).

    ``name``: ``"hf-hub:ORG/NAME"``, ``"local-dir:/path"`` or a zoo entry ``"arch.tag"``
    (see ``evovideo.list_pretrained()``).  ``revision`` pins a Hub branch, tag or commit.
    """
    parsed = parse_name(name)
    if parsed.kind == "zoo" and name not in ZOO or parsed.kind == "architecture":
        if name in MODELS:
            tags = [n for n in sorted(ZOO) if n.split(".", 1)[0] == name] or ["(none in the zoo yet)"]
            raise ValueError(
                f"'{name}' is an architecture, not a set of weights; its zoo entries: {', '.join(tags)}; "
                f"the bare architecture name '{name}' gives a random initialisation"
            )
        known = ", ".join(sorted(ZOO)) or "(none)"
        raise ValueError(
            f"unknown pretrained model '{name}'; use '{HF_HUB_PREFIX}ORG/NAME', '{LOCAL_DIR_PREFIX}/path', "
            f"or a zoo entry: {known}"
        )
    return load_weights(parsed, revision, cache_dir=cache_dir, token=token, local_files_only=local_files_only)


def load_encoder(spec: str, *, revision: str | None = None, num_classes: int = 0) -> Encoder:
    """The encoder ``spec`` names for evaluation or fine-tuning, its head reset to ``num_classes``.

    ``"r2plus1d_18"``: the architecture at random initialisation; ``"hf-hub:ORG/NAME"``,
    ``"local-dir:runs/demo/student"``, ``"test_r2plus1d.elo_synthetic"``: those weights.
    """
    if parse_name(spec).kind == "architecture" and spec in MODELS:
        if revision is not None:
            raise ValueError(f"revision= applies to pretrained weights, not to the architecture name '{spec}'")
        log.info("encoder '%s': random initialisation (pass hf-hub:/local-dir:/arch.tag for weights)", spec)
        model = MODELS.create(spec)
    else:
        model = from_pretrained(spec, revision=revision)
    model.reset_classifier(num_classes)
    return model


__all__ = ["Name", "create_model", "from_pretrained", "load_encoder", "load_weights", "parse_name", "refuse_bare"]
