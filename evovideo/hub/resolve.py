"""The two source prefixes, and the download of a Hub repo's ``config.json`` + ``model.safetensors``.

Which string names which source is decided by the encoder factory, :mod:`evovideo.factory`
(``evovideo.from_pretrained("hf-hub:ORG/NAME")``); this module only fetches files.
"""
from __future__ import annotations

import logging
import re
from pathlib import Path

from evovideo.hub.io import CONFIG_NAME, WEIGHTS_NAME

log = logging.getLogger(__name__)

HF_HUB_PREFIX = "hf-hub:"
LOCAL_DIR_PREFIX = "local-dir:"


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


__all__ = ["download_from_hub", "HF_HUB_PREFIX", "LOCAL_DIR_PREFIX"]
