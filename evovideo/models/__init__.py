"""Encoders: the RGB student and the flow / gray / audio towers, behind one surface.

Build one with ``evovideo.create_model`` (the factory, :mod:`evovideo.factory`)."""
from evovideo.models.base import MODALITIES, Encoder, FeatureInfo, InputConfig, Provenance
from evovideo.models.registry import MODELS, list_models, model_input_config, register_model

# Importing a family module registers its encoders.
from evovideo.models import r2plus1d, x3d, s3d, towers  # noqa: E402,F401  isort: skip

__all__ = [
    "MODALITIES",
    "MODELS",
    "Encoder",
    "FeatureInfo",
    "InputConfig",
    "Provenance",
    "list_models",
    "model_input_config",
    "register_model",
]
