"""Encoders: the RGB student and the flow / gray / audio towers, behind one surface."""
from evovideo.models.base import MODALITIES, Encoder, FeatureInfo, InputConfig
from evovideo.models.registry import MODELS, create_model, list_models, model_input_config, register_model

# Importing a family module registers its encoders.
from evovideo.models import r2plus1d, x3d, s3d, towers  # noqa: E402,F401  isort: skip

__all__ = [
    "MODALITIES",
    "MODELS",
    "Encoder",
    "FeatureInfo",
    "InputConfig",
    "create_model",
    "list_models",
    "model_input_config",
    "register_model",
]
