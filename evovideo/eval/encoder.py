"""One string names an encoder for evaluation: a registry architecture or pretrained weights.

    load_encoder("r2plus1d_18")                       # architecture, random initialisation
    load_encoder("hf-hub:ORG/NAME", revision="v1")    # weights from the Hub
    load_encoder("local-dir:runs/demo/student")       # weights written by save_pretrained
    load_encoder("test_r2plus1d.elo_synthetic")       # a zoo entry (arch.tag)
"""
from __future__ import annotations

import logging

from evovideo.models import MODELS, Encoder, create_model

log = logging.getLogger(__name__)


def load_encoder(spec: str, *, revision: str | None = None, num_classes: int = 0) -> Encoder:
    """The encoder ``spec`` names (see the module docstring), with its head reset to ``num_classes``."""
    if spec in MODELS:
        if revision is not None:
            raise ValueError(f"revision= applies to pretrained weights, not to the architecture name '{spec}'")
        log.info("encoder '%s': random initialisation (pass hf-hub:/local-dir:/arch.tag for weights)", spec)
        model = create_model(spec)
        model.pretrained_source = "random-init"
    else:
        from evovideo.hub import from_pretrained

        model = from_pretrained(spec, revision=revision)
    model.reset_classifier(num_classes)
    return model
