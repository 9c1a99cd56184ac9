"""``from_pretrained``: one string says where the weights come from, with an explicit prefix.

    from_pretrained("hf-hub:ORG/NAME", revision="v1.0")   # Hugging Face Hub (cached)
    from_pretrained("local-dir:/path/to/folder")          # a folder written by save_pretrained
    from_pretrained("test_r2plus1d.elo_synthetic")        # a zoo entry (arch.tag)

A bare string that looks like a path or a repo id is refused with the prefix to use: guessing
would make ``"runs/best"`` mean a Hub repo on one machine and a folder on another.
"""
from __future__ import annotations

import logging
import re
from pathlib import Path

from evovideo.hub.io import CONFIG_NAME, WEIGHTS_NAME, PretrainedLoadError, load_files, load_pretrained
from evovideo.models.base import Encoder

log = logging.getLogger(__name__)

HF_HUB_PREFIX = "hf-hub:"
LOCAL_DIR_PREFIX = "local-dir:"
_REPO_ID = re.compile(r"^[\w.-]+/[\w.-]+$")


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
        raise ValueError(
            f"'{name}' looks like a local path; say so explicitly: '{LOCAL_DIR_PREFIX}{name}'"
        )
    if _REPO_ID.match(name):
        raise ValueError(
            f"'{name}' looks like a Hub repo id; say so explicitly: '{HF_HUB_PREFIX}{name}' "
            f"(or '{LOCAL_DIR_PREFIX}{name}' if it is a local folder)"
        )


def download_from_hub(
    repo_id: str,
    revision: str | None = None,
    *,
    cache_dir: str | Path | None = None,
    token: str | bool | None = None,
    local_files_only: bool = False,
) -> tuple[Path, Path]:
    """Download (or find in the cache) ``config.json`` and ``model.safetensors`` of a Hub repo.

    Both files come from the same commit: the first download pins the commit the revision
    pointed to, the second asks for that commit.  Honours ``HF_ENDPOINT``, ``HF_HUB_CACHE`` and
    ``HF_HUB_OFFLINE`` like every huggingface_hub call.
    """
    from huggingface_hub import hf_hub_download

    from evovideo import __version__

    common = dict(
        repo_id=repo_id,
        cache_dir=cache_dir,
        token=token,
        local_files_only=local_files_only,
        library_name="evovideo",
        library_version=__version__,
    )
    config_path = Path(hf_hub_download(filename=CONFIG_NAME, revision=revision, **common))
    commit = config_path.parent.name  # .../snapshots/<commit>/config.json
    pinned = commit if re.fullmatch(r"[0-9a-f]{40}", commit) else revision
    weights_path = Path(hf_hub_download(filename=WEIGHTS_NAME, revision=pinned, **common))
    log.info("hf-hub:%s@%s -> %s", repo_id, revision or "main", config_path.parent)
    return config_path, weights_path


def from_pretrained(
    name: str,
    revision: str | None = None,
    *,
    cache_dir: str | Path | None = None,
    token: str | bool | None = None,
    local_files_only: bool = False,
) -> Encoder:
    """Load a pretrained encoder (eval mode, ``.input_config`` attached) from a prefixed source.

    ``name``: ``"hf-hub:ORG/NAME"``, ``"local-dir:/path"`` or a zoo entry ``"arch.tag"``
    (see ``evovideo.list_pretrained()``).  ``revision`` pins a Hub branch, tag or commit.
    """
    if name.startswith(HF_HUB_PREFIX):
        repo_id = name[len(HF_HUB_PREFIX):]
        if not re.fullmatch(r"([\w.-]+/)?[\w.-]+", repo_id):
            raise ValueError(f"'{repo_id}' is not a Hub repo id; expected '{HF_HUB_PREFIX}ORG/NAME'")
        config_path, weights_path = download_from_hub(
            repo_id, revision, cache_dir=cache_dir, token=token, local_files_only=local_files_only
        )
        model = load_files(config_path, weights_path)
        model.pretrained_source = f"{name}@{config_path.parent.name}"
        return model
    if name.startswith(LOCAL_DIR_PREFIX):
        if revision is not None:
            raise ValueError(f"revision= applies to '{HF_HUB_PREFIX}' repos, not to '{name}'")
        path = Path(name[len(LOCAL_DIR_PREFIX):]).expanduser()
        model = load_pretrained(path)
        model.pretrained_source = f"{LOCAL_DIR_PREFIX}{path}"
        return model
    from evovideo.models.zoo import ZOO, create_pretrained

    if name in ZOO:
        if revision is not None:
            raise ValueError(f"revision= applies to '{HF_HUB_PREFIX}' repos; zoo entry '{name}' pins its own")
        return create_pretrained(name, cache_dir=cache_dir, token=token, local_files_only=local_files_only)
    refuse_bare(name)
    from evovideo.models.registry import MODELS

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


__all__ = ["from_pretrained", "download_from_hub", "PretrainedLoadError", "HF_HUB_PREFIX", "LOCAL_DIR_PREFIX"]
