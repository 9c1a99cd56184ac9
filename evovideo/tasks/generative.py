"""Tasks that predict a signal with L2: reconstruction, future prediction, cross-modal transfer."""
from __future__ import annotations

from typing import Mapping, Sequence

import torch
import torch.nn.functional as F

from evovideo.models.base import Encoder
from evovideo.tasks.base import TASKS, VIDEO_MODALITIES, Task, TaskInputs, audio_mask, masked_loss
from evovideo.tasks.heads import MapDecoder, upsampling_stages
from evovideo.tasks.losses import l2_loss


SKIP = "layer2"  # the earlier layer the decoders also read (None: the last map alone)


def _decoder(encoder: Encoder, modality: str, out_chans: int, hidden: int, skip: str | None,
             context: int = 0, scale: int = 1) -> MapDecoder:
    """``scale`` (a power of 2): the target is ``scale`` times smaller than the input in space, so
    the decoder has log2(scale) fewer x2 upsampling stages."""
    if scale < 1 or scale & (scale - 1):
        raise ValueError(f"target_scale must be a power of 2 (1, 2, 4, ...), not {scale}")
    in_chs = encoder.num_features + (encoder.layer_channels(skip) if skip else 0)
    stages = max(0, upsampling_stages(encoder, skip) - scale.bit_length() + 1)
    return MapDecoder(in_chs, out_chans, spatial_dims=2 if modality == "audio" else 3, hidden=hidden,
                      stages=stages, context=context)


def pool_space(video: torch.Tensor, scale: int) -> torch.Tensor:
    """(B, C, T, H, W) average-pooled ``scale`` times in space (a decoder's reduced-resolution target)."""
    if scale == 1:
        return video
    t, h, w = video.shape[2:]
    return F.adaptive_avg_pool3d(video, (t, max(1, h // scale), max(1, w // scale)))


def decoder_input(features, skip: str | None) -> torch.Tensor:
    """The last map alone, or (``skip``) the earlier tap with the last map upsampled onto it and
    concatenated: (B, D + D_skip, t', h', w') at the tap's resolution (a U-Net-like shortcut: the
    1x2x2 last map of the tiny student cannot say where things are)."""
    if not skip:
        return features.fmap
    tap = features.taps[skip]
    up = F.interpolate(features.fmap, size=tap.shape[2:], mode="nearest")
    return torch.cat([up, tap], 1)


def _taps(modality: str, args) -> dict[str, tuple[str, ...]]:
    skip = args.get("skip", SKIP)
    return {modality: (skip,)} if skip else {}


def last_slices(fmap: torch.Tensor, clip_frames: int, future_frames: int) -> torch.Tensor:
    """The time slices of ``fmap`` (B, D, t, h, w) that cover the clip's last ``future_frames``
    frames (at least one): the future is predicted from the end of the clip, not from its whole
    time axis stretched onto the future."""
    t = fmap.shape[2]
    keep = max(1, min(t, -(-t * future_frames // clip_frames)))  # ceil(t * Tf / T)
    return fmap[:, :, t - keep:]


@TASKS.register("reconstruction")
class Reconstruction(Task):
    """``m/reconstruction``: decode the input of modality ``m`` from its tower's last feature map.

    ``target_scale`` (video only, default 1): decode the input average-pooled by this factor in space,
    with one x2 decoder stage fewer per factor 2.  At full resolution with ``hidden=64`` the decoder
    costs 7.6 GFLOP forward per batch of 16 tiny-student clips, 18x the student; ``target_scale=2,
    hidden=32`` 1.0 (as ``cross_modal_transfer``'s default)."""

    def __init__(self, modalities: Sequence[str], encoders: Mapping[str, Encoder], hidden: int = 64,
                 skip: str | None = SKIP, target_scale: int = 1) -> None:
        super().__init__(modalities, encoders)
        (m,) = self.modalities
        if target_scale != 1 and m not in VIDEO_MODALITIES:
            raise ValueError(f"target_scale pools video in space; {m} reconstruction takes target_scale 1, not {target_scale}")
        self.skip, self.target_scale = skip, target_scale
        self.decoder = _decoder(encoders[m], m, encoders[m].input_config.in_chans, hidden, skip, scale=target_scale)

    @classmethod
    def taps(cls, modalities, args):
        return _taps(modalities[0], args)

    def forward(self, inputs: TaskInputs) -> torch.Tensor:
        (m,) = self.modalities
        target = inputs.batch[m]  # (B, C, T, H, W); audio (B, 1, F, T)
        target = pool_space(target, self.target_scale)  # audio: scale 1, as is
        keep = audio_mask(inputs.batch, self.modalities, target.shape[0])  # clips without audio are left out
        pred = self.decoder(decoder_input(inputs.features[m], self.skip), target.shape[2:])
        return masked_loss(l2_loss, pred, target, keep)


@TASKS.register("future_prediction")
class FuturePrediction(Task):
    """``rgb/future_prediction``: from the clip's features predict the next frames (batch key
    ``<m>_future``, ``(B, C, Tf, H, W)``; the data module makes it when asked for future frames).

    Time-aligned: the decoder reads the feature map's last time slices (:func:`last_slices`).
    With ``condition_on_last=True`` (default) the decoder also sees the clip's last frame and
    predicts the change from it (``future = last frame + decoder(...)``): the scene comes from that
    frame and the encoder's features have to supply what a single frame cannot, the motion.  (A
    1x2x2 feature map alone cannot beat copying the last frame; measured with the frame as an
    input but no residual, 300 steps: L2 0.253 against copy-last's 0.276.)"""

    def __init__(self, modalities: Sequence[str], encoders: Mapping[str, Encoder], hidden: int = 64,
                 condition_on_last: bool = True, skip: str | None = SKIP) -> None:
        super().__init__(modalities, encoders)
        (m,) = self.modalities
        chans = encoders[m].input_config.in_chans
        self.condition_on_last, self.skip = condition_on_last, skip
        self.decoder = _decoder(encoders[m], m, chans, hidden, skip, context=chans if condition_on_last else 0)

    @classmethod
    def taps(cls, modalities, args):
        return _taps(modalities[0], args)

    def predict(self, fmap: torch.Tensor, clip: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
        """(B, D, t, h, w) features of ``clip`` (B, C, T, H, W) -> (B, C, *size) future frames."""
        if not self.condition_on_last:
            return self.decoder(last_slices(fmap, clip.shape[2], size[0]), size)
        last = clip[:, :, -1:]  # (B, C, 1, H, W)
        change = self.decoder(last_slices(fmap, clip.shape[2], size[0]), size, context=last)
        return last.expand(-1, -1, size[0], -1, -1) + change  # the last frame, moved: a residual

    @classmethod
    def check_modalities(cls, modalities: Sequence[str]) -> None:
        if modalities[0] not in VIDEO_MODALITIES:
            raise ValueError(f"future_prediction runs on a video modality ({', '.join(VIDEO_MODALITIES)})")

    @classmethod
    def batch_keys(cls, modalities: Sequence[str]) -> tuple[str, ...]:
        return (modalities[0], f"{modalities[0]}_future")

    def forward(self, inputs: TaskInputs) -> torch.Tensor:
        (m,) = self.modalities
        target = inputs.batch[f"{m}_future"]  # (B, C, Tf, H, W)
        fmap = decoder_input(inputs.features[m], self.skip)
        return l2_loss(self.predict(fmap, inputs.batch[m], target.shape[2:]), target)


@TASKS.register("cross_modal_transfer")
class CrossModalTransfer(Task):
    """``a->b/cross_modal_transfer``: predict modality ``b``'s input from ``a``'s features
    (e.g. ``rgb->flow``, ``gray->rgb``).  Only tower ``a`` runs; ``b`` is read from the batch.

    With ``standardize=True`` (default) the target is standardised per channel over the batch
    (statistics detached), so the loss does not depend on the modality's scale: optical flow of
    slow motion is ~0.05 after scaling, and its L2 would otherwise vanish next to the others.

    ``target_scale`` (default 2): the target is average-pooled by this factor in space (flow at
    half resolution, as flow networks predict it), so the decoder needs one x2 stage fewer; with
    ``hidden=32`` (default) it costs 0.98 GFLOP forward per batch of 16 tiny-student clips instead
    of 7.5 at full resolution with 64 channels (which was nine times the student and flow tower
    together), and learns more (``evovideo bench tasks``: BENCHMARKS.md#pretext-tasks).
    """

    arity = "directed"

    def __init__(self, modalities: Sequence[str], encoders: Mapping[str, Encoder], hidden: int = 32,
                 standardize: bool = True, skip: str | None = SKIP, target_scale: int = 2) -> None:
        super().__init__(modalities, encoders)
        self.standardize, self.skip, self.target_scale = standardize, skip, target_scale
        a, b = self.modalities
        out_chans = {"rgb": 3, "flow": 2, "gray": 1}[b]
        self.decoder = _decoder(encoders[a], a, out_chans, hidden, skip, scale=target_scale)

    @classmethod
    def taps(cls, modalities, args):
        return _taps(modalities[0], args)

    @classmethod
    def check_modalities(cls, modalities: Sequence[str]) -> None:
        bad = [m for m in modalities if m not in VIDEO_MODALITIES]
        if bad:
            raise ValueError(
                f"cross_modal_transfer runs between video modalities ({', '.join(VIDEO_MODALITIES)}), not {', '.join(bad)}"
            )

    @classmethod
    def feature_modalities(cls, modalities: Sequence[str]) -> tuple[str, ...]:
        return (modalities[0],)

    def target(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Modality ``b`` of the batch, pooled by ``target_scale`` and standardised: (B, C_b, T_b, H', W')."""
        target = batch[self.modalities[1]]  # (B, C_b, T_b, H, W)
        target = pool_space(target, self.target_scale)
        if self.standardize:
            dims = [0, *range(2, target.dim())]
            target = (target - target.mean(dims, keepdim=True)) / target.std(dims, keepdim=True).clamp_min(1e-6)
        return target

    def predict(self, features, size: Sequence[int]) -> torch.Tensor:
        return self.decoder(decoder_input(features, self.skip), size)

    def forward(self, inputs: TaskInputs) -> torch.Tensor:
        target = self.target(inputs.batch)
        return l2_loss(self.predict(inputs.features[self.modalities[0]], target.shape[2:]), target)
