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


@pytest.fixture(scope="session")
def textured_source(tmp_path_factory) -> Path:
    """A real AVI file of a still, textured scene (smoothed noise, 120x160, 40 frames): footage whose only
    motion is the one a virtual camera adds (evovideo.data.camera_motion)."""
    import torch.nn.functional as F

    from evovideo.data.decode import DecodedVideo
    from evovideo.data.encode import write_video

    g = torch.Generator().manual_seed(0)
    noise = torch.rand(1, 3, 30, 40, generator=g)
    image = F.interpolate(noise, size=(120, 160), mode="bicubic", align_corners=False)[0]
    image = (image.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0)
    frames = image[None].expand(40, -1, -1, -1).contiguous()
    path = tmp_path_factory.mktemp("footage") / "still.avi"
    return write_video(path, DecodedVideo(frames, 16.0))
