"""evovideo: self-supervised video representation learning with evolved losses (ELo, CVPR 2020).

    import evovideo
    evovideo.list_models()
    encoder = evovideo.create_model("r2plus1d_18")
"""
__version__ = "0.1.0"

from evovideo.models import Encoder, InputConfig, create_model, list_models, register_model
from evovideo.registry import Registry, UnknownNameError
from evovideo.hub import from_pretrained, load_pretrained, save_pretrained, transforms_for
from evovideo.models.zoo import list_pretrained
from evovideo.evolution import FITNESS, zipf_fitness

__all__ = [
    "__version__",
    "Encoder",
    "FITNESS",
    "InputConfig",
    "Registry",
    "UnknownNameError",
    "create_model",
    "from_pretrained",
    "list_pretrained",
    "load_pretrained",
    "save_pretrained",
    "transforms_for",
    "list_models",
    "register_model",
    "zipf_fitness",
]
