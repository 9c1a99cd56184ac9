"""The encoder registry: ``register_model``, ``create_model``, ``list_models``.

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


def create_model(name: str, pretrained: bool = False, **kwargs: Any) -> Encoder:
    """Build a registered encoder by name (random init), or with weights from the zoo / Hub.

    ``create_model("r2plus1d_18")``, ``create_model("r2plus1d_18", num_classes=101)``;
    ``create_model("test_r2plus1d.elo_synthetic", pretrained=True)`` (a zoo entry ``arch.tag``),
    ``create_model("hf-hub:ORG/NAME")`` / ``create_model("local-dir:/path")`` (always pretrained).
    Pretrained models come back in eval mode; ``num_classes`` then replaces the head.
    """
    from evovideo.hub.resolve import refuse_bare

    if ":" not in name:  # prefixed names (and unknown prefixes) are judged by the zoo below
        refuse_bare(name)  # a path or repo id without its prefix: the error names the prefix to type
    if pretrained or "." in name or ":" in name:
        from evovideo.models.zoo import create_tagged

        return create_tagged(name, pretrained=pretrained, **kwargs)
    return MODELS.create(name, **kwargs)
