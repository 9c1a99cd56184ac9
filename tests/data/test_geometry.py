"""Degenerate frame shapes: a thin strip is not upscaled into a huge frame before flow."""
from __future__ import annotations

import torch

from evovideo.clip import ClipSpec
from evovideo.data.decode import DecodedVideo, MemoryReader, resized_shape
from evovideo.data.pipeline import SampleBuilder
from evovideo.modalities import FlowSettings


def test_resize_caps_the_long_side_of_a_strip():
    assert resized_shape(2, 128, 36) == (36, 144)  # was (36, 2304)
    assert resized_shape(128, 2, 36) == (144, 36)
    assert resized_shape(240, 320, 128) == (128, 171)  # ordinary shapes keep their aspect
    assert resized_shape(1080, 3840, 128) == (128, 455)  # 32:9 too


def test_flow_of_a_strip_runs_on_a_capped_frame(monkeypatch):
    import evovideo.data.pipeline as pipeline

    shapes = []
    real = pipeline.compute_flow

    def spy(a, b, settings):
        shapes.append(tuple(a.shape))
        return real(a, b, settings)

    monkeypatch.setattr(pipeline, "compute_flow", spy)
    frames = torch.randint(0, 255, (20, 2, 128, 3), dtype=torch.uint8)  # a 128 x 2 strip
    reader = MemoryReader(DecodedVideo(frames, 10.0), "strip")
    builder = SampleBuilder(ClipSpec(num_frames=4, stride=1, frame_rate=10.0, size=32, resize=36),
                            modalities=("rgb", "flow"), flow=FlowSettings("farneback"), train=False)
    sample = builder.build(reader, 0.0)
    assert sample["flow"].shape == (2, 4, 32, 32) and sample["rgb"].shape == (3, 4, 32, 32)
    assert shapes and all(h * w <= 36 * 144 for _, h, w, _ in shapes), shapes
