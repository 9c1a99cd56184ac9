"""``transforms_for(model)``: the clip preprocessing a model's weights expect, from its clip contract.

    enc = evovideo.from_pretrained("local-dir:runs/demo/student")
    tf = evovideo.transforms_for(enc)
    clip = tf(decode_video(path))                 # DecodedVideo -> (C, num_frames, size, size)
    clip = tf(frames, fps=30.0)                   # or (T, H, W, 3) uint8 frames at 30 fps
    feats = enc(clip[None])                       # (1, num_features)

It is the evaluation pipeline itself over frames in memory: the encoder's ``InputConfig.clip``
(frames, stride, frame rate, resize, size, mean/std) builds the same ``SampleBuilder`` the
evaluation datasets use (``SampleBuilder.for_encoder``), the same clip sampler picks the window
(the centre one; a random one when ``train``), and the frames are read as the default file
decoder (TorchCodec) hands them over: full size, cropped, then resized.  So a clip from
``transforms_for`` equals the one ``evovideo fewshot`` / ``zipf`` computes for the same video
(``tests/hub/test_transform_parity.py``).  Frames given without ``fps`` are taken to be at the
contract's frame rate (one clip frame every ``stride`` frames).  Flow and audio inputs are
derived by ``evovideo.modalities``, not by this transform.
"""
from __future__ import annotations

import random

import numpy as np
import torch
from torch import nn

from evovideo.data.memory_reader import MemoryReader
from evovideo.data.reader import DecodedVideo
from evovideo.data.pipeline import SampleBuilder
from evovideo.data.samplers import CentreClipSampler, RandomClipSampler
from evovideo.models.base import Encoder, InputConfig


class FullFrameReader(MemoryReader):
    """Frames in memory handed over at full size, as the TorchCodec file reader does: the builder
    crops the region of the resized crop, then resizes only it."""

    resizes_while_converting = False


class ClipTransform(nn.Module):
    """Decoded video -> the clip an encoder expects: ``(C, num_frames, size, size)`` float."""

    def __init__(self, cfg: InputConfig, *, train: bool = False) -> None:
        super().__init__()
        if cfg.modality not in ("rgb", "gray"):
            raise ValueError(
                f"transforms_for builds rgb/gray clip transforms; a '{cfg.modality}' input is derived from the clip "
                "by evovideo.modalities (see evovideo.data.pipeline.SampleBuilder)"
            )
        self.config, self.train = cfg, train
        self.builder = (SampleBuilder(cfg.clip, modalities=[cfg.modality], train=True) if train  # random crop, flip
                        else SampleBuilder.for_encoder(cfg))  # exactly the evaluation datasets' builder
        window = self.builder.window_sec
        self.sampler = RandomClipSampler(window) if train else CentreClipSampler(window)

    def forward(self, video: DecodedVideo | np.ndarray | torch.Tensor, fps: float | None = None) -> torch.Tensor:
        # (T, H, W, 3) uint8 -> (C, num_frames, size, size)
        if isinstance(video, DecodedVideo):
            frames, fps = video.frames, fps or video.fps
        else:
            frames = torch.as_tensor(video)
            fps = fps or self.config.frame_rate
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != torch.uint8:
            raise ValueError(f"expected decoded frames (T, H, W, 3) uint8, got shape {tuple(frames.shape)} "
                             f"{frames.dtype}")
        reader = FullFrameReader(DecodedVideo(frames.contiguous(), float(fps)))
        rng = random.Random(int(torch.randint(2**31, ()).item())) if self.train else random.Random(0)
        start = float(self.sampler.clip_at(0, reader.info.duration, rng).clip_start_sec)
        return self.builder.build(reader, start, 0, rng)[self.config.modality]


def transforms_for(model_or_config: Encoder | InputConfig, *, train: bool = False) -> ClipTransform:
    """The transform from a decoded video (or ``(T, H, W, 3)`` uint8 frames) to the clip ``model`` expects."""
    cfg = model_or_config if isinstance(model_or_config, InputConfig) else model_or_config.input_config
    return ClipTransform(cfg, train=train)
