"""Publish a trained student to the Hugging Face Hub: weights + config + generated card.

    push_to_hub("runs/elo_demo/student", "ORG/NAME")          # a folder from save_pretrained
    push_to_hub(encoder, "ORG/NAME", revision="v1", extra={...})

Two steps, both usable alone: :func:`prepare_repo_folder` writes ``model.safetensors``,
``config.json`` and ``README.md`` into a folder (and checks that the folder loads strictly);
:func:`push_to_hub` uploads that folder with ``huggingface_hub`` (``HF_ENDPOINT``, ``HF_TOKEN``
are honoured as usual).
"""
from __future__ import annotations

import json
import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from evovideo.hub.io import CONFIG_NAME, WEIGHTS_NAME, load_pretrained, read_config, save_pretrained
from evovideo.models.base import Encoder

log = logging.getLogger(__name__)

CARD_NAME = "README.md"


@dataclass(frozen=True)
class PushResult:
    repo_id: str
    revision: str
    commit: str
    url: str


def prepare_repo_folder(
    source: Encoder | str | Path,
    out_dir: str | Path,
    repo_id: str,
    *,
    extra: dict | None = None,
    card_facts: dict | None = None,
) -> Path:
    """Write the Hub repo's files for ``source`` (an encoder or a save_pretrained folder) to ``out_dir``.

    ``extra`` (encoder only) is stored in config.json like in :func:`save_pretrained`.  The card
    is rendered from config.json, with ``card_facts`` (recipe, pretraining_data, license, ...)
    over its ``extra`` (see :func:`evovideo.hub.cards.cfg_from_config`).  The folder is loaded
    back strictly before returning, so a broken checkpoint is never uploaded.
    """
    from evovideo.hub.cards import cfg_from_config, render_card

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if isinstance(source, Encoder):
        save_pretrained(source, out_dir, extra=extra)
    else:
        src = Path(source)
        if not (src / CONFIG_NAME).is_file():
            raise FileNotFoundError(
                f"{src}: expected a folder written by evovideo.save_pretrained ({CONFIG_NAME} + {WEIGHTS_NAME}); "
                "a pretraining run exports its student to <log dir>/student (Lightning .ckpt files are not pushed)"
            )
        if extra:
            raise ValueError("extra= applies when pushing an encoder; a saved folder already has its config.json")
        if src.resolve() != out_dir.resolve():
            for name in (CONFIG_NAME, WEIGHTS_NAME):
                shutil.copyfile(src / name, out_dir / name)
    load_pretrained(out_dir)  # strict check: the files we are about to publish load as-is
    config = read_config(out_dir / CONFIG_NAME)
    load_as = f'evovideo.from_pretrained("hf-hub:{repo_id}")'
    card = render_card(cfg_from_config(config, repo_id, card_facts), title=repo_id, load_as=load_as)
    (out_dir / CARD_NAME).write_text(card)
    files = ", ".join(sorted(p.name for p in out_dir.iterdir()))
    log.info("prepared %s for %s: %s", config["architecture"], repo_id, files)
    return out_dir


def push_to_hub(
    source: Encoder | str | Path,
    repo_id: str,
    *,
    revision: str | None = None,
    extra: dict | None = None,
    card_facts: dict | None = None,
    private: bool = False,
    token: str | None = None,
    commit_message: str | None = None,
    endpoint: str | None = None,
) -> PushResult:
    """Create ``repo_id`` if needed and upload weights + config + card as one commit.

    ``revision``: a branch to push to (created from ``main`` if missing); default ``main``.
    """
    from huggingface_hub import HfApi

    api = HfApi(endpoint=endpoint, token=token)
    with tempfile.TemporaryDirectory(prefix="evovideo-push-") as tmp:
        folder = prepare_repo_folder(source, tmp, repo_id, extra=extra, card_facts=card_facts)
        architecture = json.loads((folder / CONFIG_NAME).read_text())["architecture"]
        api.create_repo(repo_id, private=private, exist_ok=True)
        if revision and revision != "main":
            api.create_branch(repo_id, branch=revision, exist_ok=True)
        info = api.upload_folder(
            folder_path=str(folder),
            repo_id=repo_id,
            revision=revision,
            commit_message=commit_message or f"Upload {architecture} (evovideo)",
        )
    result = PushResult(repo_id=repo_id, revision=revision or "main", commit=info.oid, url=info.commit_url)
    log.info("pushed %s to %s@%s (commit %s)", architecture, repo_id, result.revision, result.commit)
    return result
