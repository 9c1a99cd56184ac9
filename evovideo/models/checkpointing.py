"""Activation checkpointing of one encoder layer (``Encoder.set_grad_checkpointing``).

The layer's activations are not kept for backward; backward runs the layer's forward again
(``torch.utils.checkpoint``, non-reentrant).  Only the layer's input is kept: memory per clip
drops to the layer boundaries, for about one extra forward of compute.

BatchNorm in train mode would update its running statistics a second time during that
recomputation (momentum applied twice per step); the statistics are saved before and restored
after the recomputation, so a checkpointed run keeps exactly the statistics of a plain one.
"""
from __future__ import annotations

import contextlib
from typing import Iterator

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint


@contextlib.contextmanager
def keep_batchnorm_stats(module: nn.Module) -> Iterator[None]:
    """Restore every BatchNorm buffer of ``module`` (running mean/var, batch count) on exit."""
    saved = [(buf, buf.detach().clone()) for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)
             for buf in m.buffers()]
    try:
        yield
    finally:
        with torch.no_grad():
            for buf, value in saved:
                buf.copy_(value)


def checkpoint_layer(layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``layer(x)``, recomputed in backward instead of stored."""
    return checkpoint(layer, x, use_reentrant=False,
                      context_fn=lambda: (contextlib.nullcontext(), keep_batchnorm_stats(layer)))
