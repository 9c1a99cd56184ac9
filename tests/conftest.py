"""Shared fixtures: deterministic, small, single-threaded (CI has 2 cores)."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

torch.set_num_threads(1)

REALCLIPS = Path(__file__).resolve().parents[1].parent / "shared" / "realclips"


@pytest.fixture
def realclips() -> Path:
    """The folder of real clips beside the checkout (../shared/realclips), or skip."""
    if not REALCLIPS.is_dir():
        pytest.skip(f"real clips not found at {REALCLIPS} (they live in ../shared/realclips)")
    return REALCLIPS


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)
