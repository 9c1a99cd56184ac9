"""The encoder registry: ``register_model``, ``list_models``; ``MODELS.create(name)`` builds one.

Strings that name weights (``arch.tag``, ``hf-hub:``, ``local-dir:``) are resolved above this
package, by the encoder factory :mod:`evovideo.factory` (``evovideo.create_model``).

Every registered name carries the :class:`InputConfig` its network expects, so the
preprocessing always travels with the architecture (and, once loaded, with the weights).
"""
from __future__ import annotations

from typing import Any, Callable

from evovideo.models.base import Encoder, InputConfig
from evovideo.registry import Registry

MODELS: Registry[Callable[..., Encoder]] = Registry("model")


def register_model(
    name: str | None = None, *, input_config: InputConfig, tiny: bool = False, **meta: Any
) -> Callable:
    """Register an encoder factory with the input it expects.

    ``tiny=True`` marks small variants meant for tests and laptop demos.
    """

    def decorator(fn: Callable[..., Encoder]) -> Callable[..., Encoder]:
        key = name or fn.__name__

        def factory(**kwargs: Any) -> Encoder:
            model = fn(**kwargs)
            model.input_config = input_config
            model.model_name = key
            model.model_kwargs = dict(kwargs)
            return model

        factory.__name__ = key
        factory.__doc__ = fn.__doc__
        factory.__wrapped__ = fn  # type: ignore[attr-defined]
        return MODELS.register(key, input_config=input_config, tiny=tiny, **meta)(factory)

    return decorator


def list_models(pattern: str = "*", *, modality: str | None = None, tiny: bool | None = None) -> list[str]:
    """Registered encoder names matching ``pattern``, optionally filtered by modality / tininess."""
    names = MODELS.list(pattern)
    if modality is not None:
        names = [n for n in names if MODELS.meta(n)["input_config"].modality == modality]
    if tiny is not None:
        names = [n for n in names if MODELS.meta(n)["tiny"] == tiny]
    return names


def model_input_config(name: str) -> InputConfig:
    return MODELS.meta(name)["input_config"]
