"""evovideo: self-supervised video representation learning with evolved losses (ELo, CVPR 2020).

    import evovideo
    evovideo.list_models()
    encoder = evovideo.create_model("r2plus1d_18")
"""
__version__ = "0.1.0"

from evovideo.models import Encoder, InputConfig, create_model, list_models, register_model
from evovideo.registry import Registry, UnknownNameError

__all__ = [
    "__version__",
    "Encoder",
    "InputConfig",
    "Registry",
    "UnknownNameError",
    "create_model",
    "list_models",
    "register_model",
]
