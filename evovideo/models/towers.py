"""Towers for the other modalities: optical flow (2 ch), grayscale (1 ch) and audio (log-mel).

The flow and gray towers are the R(2+1)D student (:class:`~evovideo.models.r2plus1d.R2Plus1D`)
with another number of input channels, so their layers ``stem``, ``layer1`` .. ``layer4`` line up
with the student's for distillation.  The audio tower is timm's 2D ResNet-18 with one input
channel, on log-mel spectrograms ``(B, 1, n_mels, time)``; its layers carry the same names.
"""
from __future__ import annotations

from typing import Sequence

from torch import nn

from evovideo.modalities.gray import gray_stats
from evovideo.models.base import KINETICS_MEAN, KINETICS_STD, Encoder, FeatureInfo, InputConfig
from evovideo.models.r2plus1d import R2PLUS1D_INPUT, TINY_DEPTHS, TINY_RGB_INPUT, TINY_WIDTHS, R2Plus1D
from evovideo.models.registry import register_model

# Rec.601 luma weights (evovideo.modalities.gray.LUMA) applied to the Kinetics RGB statistics (the std is
# an approximation: the weighted sum of the channel stds, an upper bound for the luminance std).
GRAY_MEAN, GRAY_STD = (tuple(round(v, 5) for v in stat) for stat in gray_stats(KINETICS_MEAN, KINETICS_STD))


def _video_input(base: InputConfig, modality: str) -> InputConfig:
    """``base``'s clip sampling with the channels and normalisation of ``modality``."""
    if modality == "gray":
        return InputConfig(modality="gray", in_chans=1, num_frames=base.num_frames, stride=base.stride,
                           size=base.size, mean=GRAY_MEAN, std=GRAY_STD, frame_rate=base.frame_rate, resize=base.resize)
    # flow: (dx, dy) already scaled to about [-1, 1] by the flow modality, so no normalisation
    return InputConfig(modality="flow", in_chans=2, num_frames=base.num_frames, stride=base.stride,
                       size=base.size, mean=(0.0, 0.0), std=(1.0, 1.0), frame_rate=base.frame_rate, resize=base.resize)


# Log-mel spectrograms arrive standardised (about mean 0, std 1) by the audio modality:
# evovideo.modalities.audio.log_mel applies (x - LOG_MEL_MEAN) / LOG_MEL_STD, measured -3.5 / 3.0.
AUDIO_INPUT = InputConfig(modality="audio", in_chans=1, mean=(0.0,), std=(1.0,), sample_rate=16000, n_mels=64,
                          win_ms=25.0, hop_ms=10.0)


class AudioResNet(Encoder):
    """timm's 2D ResNet (BasicBlocks) on log-mel spectrograms: (B, 1, n_mels, T) -> (B, widths[-1]).

    ``widths``/``depths`` as in :class:`R2Plus1D`; the defaults are timm's ``resnet18``.  timm's
    plain stem always has 64 channels.
    """

    def __init__(
        self,
        in_chans: int = 1,
        widths: Sequence[int] = (64, 128, 256, 512),
        depths: Sequence[int] = (2, 2, 2, 2),
        num_classes: int = 0,
        drop_rate: float = 0.0,
    ) -> None:
        super().__init__(num_classes=0, drop_rate=drop_rate)
        import timm

        net = timm.create_model("resnet18", pretrained=False, in_chans=in_chans, num_classes=0,
                                layers=tuple(depths), channels=tuple(widths))
        self.stem = nn.Sequential(net.conv1, net.bn1, net.act1, net.maxpool)
        self.layer1, self.layer2, self.layer3, self.layer4 = net.layer1, net.layer2, net.layer3, net.layer4
        self.feature_info = [FeatureInfo("stem", net.conv1.out_channels)] + [
            FeatureInfo(f"layer{i + 1}", w) for i, w in enumerate(widths)
        ]
        self.num_features = widths[-1]
        self.reset_classifier(num_classes)

    def named_layers(self) -> list[tuple[str, nn.Module]]:
        return [(name, getattr(self, name)) for name in ("stem", "layer1", "layer2", "layer3", "layer4")]


@register_model("flow_r2plus1d_18", input_config=_video_input(R2PLUS1D_INPUT, "flow"))
def flow_r2plus1d_18(num_classes: int = 0, drop_rate: float = 0.0) -> R2Plus1D:
    """R(2+1)D-18 on 2-channel optical flow (dx, dy)."""
    return R2Plus1D(in_chans=2, num_classes=num_classes, drop_rate=drop_rate)


@register_model("gray_r2plus1d_18", input_config=_video_input(R2PLUS1D_INPUT, "gray"))
def gray_r2plus1d_18(num_classes: int = 0, drop_rate: float = 0.0) -> R2Plus1D:
    """R(2+1)D-18 on 1-channel grayscale frames."""
    return R2Plus1D(in_chans=1, num_classes=num_classes, drop_rate=drop_rate)


@register_model("audio_resnet18", input_config=AUDIO_INPUT)
def audio_resnet18(num_classes: int = 0, drop_rate: float = 0.0) -> AudioResNet:
    """timm ResNet-18 with one input channel on 64-band log-mel spectrograms (16 kHz, 10 ms hop)."""
    return AudioResNet(in_chans=1, num_classes=num_classes, drop_rate=drop_rate)


@register_model("test_flow", input_config=_video_input(TINY_RGB_INPUT, "flow"), tiny=True)
def test_flow(num_classes: int = 0, drop_rate: float = 0.0) -> R2Plus1D:
    """Tiny flow tower (same layout as ``test_r2plus1d``)."""
    return R2Plus1D(in_chans=2, widths=TINY_WIDTHS, depths=TINY_DEPTHS, num_classes=num_classes, drop_rate=drop_rate)


@register_model("test_gray", input_config=_video_input(TINY_RGB_INPUT, "gray"), tiny=True)
def test_gray(num_classes: int = 0, drop_rate: float = 0.0) -> R2Plus1D:
    """Tiny grayscale tower (same layout as ``test_r2plus1d``)."""
    return R2Plus1D(in_chans=1, widths=TINY_WIDTHS, depths=TINY_DEPTHS, num_classes=num_classes, drop_rate=drop_rate)


@register_model("test_audio", input_config=AUDIO_INPUT, tiny=True)
def test_audio(num_classes: int = 0, drop_rate: float = 0.0) -> AudioResNet:
    """Tiny audio tower (stem 64 as in timm, widths 8-48, one block per stage) on 64-band log-mel spectrograms."""
    return AudioResNet(in_chans=1, widths=TINY_WIDTHS, depths=TINY_DEPTHS, num_classes=num_classes,
                       drop_rate=drop_rate)
