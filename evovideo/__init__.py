"""evovideo: self-supervised video representation learning with evolved losses (ELo, CVPR 2020).

    import evovideo
    evovideo.list_models()
    encoder = evovideo.create_model("test_r2plus1d.elo_synthetic", pretrained=True)
    features = encoder(evovideo.transforms_for(encoder)(frames)[None])   # (1, num_features)

The public names below are imported on first use (PEP 562), so ``evovideo --help`` does not
pay for torch; ``from evovideo import create_model`` works as usual.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "ClipSpec": "evovideo.clip",
    "Encoder": "evovideo.models",
    "InputConfig": "evovideo.models",
    "Provenance": "evovideo.models",
    "create_model": "evovideo.factory",
    "list_models": "evovideo.models",
    "register_model": "evovideo.models",
    "Registry": "evovideo.registry",
    "UnknownNameError": "evovideo.registry",
    "from_pretrained": "evovideo.factory",
    "load_encoder": "evovideo.factory",
    "load_pretrained": "evovideo.hub",
    "save_pretrained": "evovideo.hub",
    "push_to_hub": "evovideo.hub",
    "transforms_for": "evovideo.hub",
    "list_pretrained": "evovideo.models.zoo",
    "FITNESS": "evovideo.evolution",
    "zipf_fitness": "evovideo.evolution",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


_SUBPACKAGES = ("bench", "commands", "data", "eval", "evolution", "factory", "hub", "lightning", "modalities", "models",
                "tasks")


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:  # `import evovideo; evovideo.models.MODELS` keeps working
        return importlib.import_module(f"evovideo.{name}")
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'evovideo' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # cache: the next access is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # for type checkers and IDEs
    from evovideo.clip import ClipSpec
    from evovideo.evolution import FITNESS, zipf_fitness
    from evovideo.factory import create_model, from_pretrained, load_encoder
    from evovideo.hub import load_pretrained, push_to_hub, save_pretrained, transforms_for
    from evovideo.models import Encoder, InputConfig, Provenance, list_models, register_model
    from evovideo.models.zoo import list_pretrained
    from evovideo.registry import Registry, UnknownNameError
