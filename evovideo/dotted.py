"""Dotted recipe keys (``"model.init_args.lr"``) for nested mappings; light (cards import it)."""
from __future__ import annotations

from typing import Any


def flatten_dotted(cfg: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a.b.c": value}`` for every leaf of nested mappings (the inverse of
    :func:`evovideo.evolution.recipe.set_dotted`)."""
    out: dict[str, Any] = {}
    for k, v in cfg.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten_dotted(v, key + "."))
        else:
            out[key] = v
    return out
