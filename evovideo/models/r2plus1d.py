"""R(2+1)D encoders: the paper's student (R(2+1)D-50), R(2+1)D-18 and a tiny test variant.

Two builders, no network written again:

- :class:`R2Plus1D` assembles torchvision's R(2+1)D blocks (``R2Plus1dStem`` layout,
  ``BasicBlock`` + ``Conv2Plus1D``) with a configurable width, depth and number of input
  channels.  With the defaults its module tree and parameter names are exactly
  ``torchvision.models.video.r2plus1d_18``'s, so torchvision's Kinetics-400 weights load into it.
  The flow / gray towers (``towers.py``) and the tiny ``test_*`` variants are the same class with
  other arguments.
- :class:`R2Plus1D50` wraps ``pytorchvideo.models.r2plus1d.create_r2plus1d`` (bottleneck
  R(2+1)D-50), without its fixed-size pooling head.

Tappable layers, input to output: ``stem``, ``layer1`` .. ``layer4``.
"""
from __future__ import annotations

from typing import Sequence

from torch import nn
from torchvision.models.video.resnet import BasicBlock, Conv2Plus1D

from evovideo.models.base import Encoder, FeatureInfo, InputConfig
from evovideo.models.registry import register_model

LAYER_NAMES = ("stem", "layer1", "layer2", "layer3", "layer4")

# Clips the video R(2+1)D models were trained on in the literature (Kinetics: 16 frames, 112 px).
R2PLUS1D_INPUT = InputConfig(modality="rgb", in_chans=3, num_frames=16, stride=2, size=112)
R2PLUS1D_50_INPUT = InputConfig(modality="rgb", in_chans=3, num_frames=16, stride=4, size=224)
# Tiny variants: 8 frames of 32 x 32, fast enough for unit tests and the laptop demo.
# the tiny test networks are for the built-in synthetic set, rendered at 16 fps
TINY_RGB_INPUT = InputConfig(modality="rgb", in_chans=3, num_frames=8, stride=2, size=32, frame_rate=16.0)


def _stem(in_chans: int, width: int) -> nn.Sequential:
    """torchvision's ``R2Plus1dStem`` with ``in_chans`` inputs and ``width`` outputs.

    A (1, 7, 7) spatial conv then a (3, 1, 1) temporal conv; torchvision uses 45 mid channels
    for 64 outputs, which we scale with the width.
    """
    mid = max(1, round(45 * width / 64))
    return nn.Sequential(
        nn.Conv3d(in_chans, mid, kernel_size=(1, 7, 7), stride=(1, 2, 2), padding=(0, 3, 3), bias=False),
        nn.BatchNorm3d(mid),
        nn.ReLU(inplace=True),
        nn.Conv3d(mid, width, kernel_size=(3, 1, 1), stride=(1, 1, 1), padding=(1, 0, 0), bias=False),
        nn.BatchNorm3d(width),
        nn.ReLU(inplace=True),
    )


def _stage(inplanes: int, planes: int, blocks: int, stride: int) -> nn.Sequential:
    """A stage of torchvision ``BasicBlock(conv_builder=Conv2Plus1D)`` (as ``VideoResNet._make_layer``)."""
    downsample = None
    if stride != 1 or inplanes != planes:
        ds_stride = Conv2Plus1D.get_downsample_stride(stride)
        downsample = nn.Sequential(
            nn.Conv3d(inplanes, planes, kernel_size=1, stride=ds_stride, bias=False),
            nn.BatchNorm3d(planes),
        )
    layers = [BasicBlock(inplanes, planes, Conv2Plus1D, stride, downsample)]
    layers += [BasicBlock(planes, planes, Conv2Plus1D) for _ in range(1, blocks)]
    return nn.Sequential(*layers)


class R2Plus1D(Encoder):
    """R(2+1)D ResNet with BasicBlocks, from torchvision's blocks.

    ``widths``: output channels of layer1..layer4 (the stem has ``widths[0]``);
    ``depths``: blocks per stage; ``in_chans``: 3 for RGB, 2 for flow, 1 for grayscale.
    Each of layer2..layer4 halves time and space; the stem halves space only.
    """

    def __init__(
        self,
        in_chans: int = 3,
        widths: Sequence[int] = (64, 128, 256, 512),
        depths: Sequence[int] = (2, 2, 2, 2),
        num_classes: int = 0,
        drop_rate: float = 0.0,
    ) -> None:
        super().__init__(num_classes=0, drop_rate=drop_rate)
        if len(widths) != 4 or len(depths) != 4:
            raise ValueError(f"widths and depths need 4 entries (layer1..layer4), got {widths} and {depths}")
        self.stem = _stem(in_chans, widths[0])
        inplanes = widths[0]
        for i, (planes, blocks) in enumerate(zip(widths, depths)):
            setattr(self, f"layer{i + 1}", _stage(inplanes, planes, blocks, stride=1 if i == 0 else 2))
            inplanes = planes
        self._init_weights()
        self.num_features = widths[-1]
        self.feature_info = [FeatureInfo("stem", widths[0])] + [
            FeatureInfo(f"layer{i + 1}", w) for i, w in enumerate(widths)
        ]
        self.reset_classifier(num_classes)

    def _init_weights(self) -> None:
        # torchvision VideoResNet's initialisation
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm3d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def named_layers(self) -> list[tuple[str, nn.Module]]:
        return [(name, getattr(self, name)) for name in LAYER_NAMES]


class R2Plus1D50(Encoder):
    """R(2+1)D-50 (bottleneck blocks) from ``pytorchvideo.models.r2plus1d.create_r2plus1d``.

    pytorchvideo's head pools with a fixed (4, 7, 7) kernel; we drop it and pool globally, so any
    clip size works.  Stage widths 256, 512, 1024, 2048; layer3 and layer4 also halve time.
    """

    def __init__(self, in_chans: int = 3, num_classes: int = 0, drop_rate: float = 0.0) -> None:
        super().__init__(num_classes=0, drop_rate=drop_rate)
        from pytorchvideo.models.r2plus1d import create_r2plus1d

        net = create_r2plus1d(input_channel=in_chans, model_num_class=1)
        blocks = net.blocks  # [stem, res2, res3, res4, res5, head]
        self.stem, self.layer1, self.layer2, self.layer3, self.layer4 = blocks[:5]
        self.feature_info = [FeatureInfo("stem", blocks[0].conv.out_channels)] + [
            FeatureInfo(f"layer{i}", blocks[i].res_blocks[-1].branch2.conv_c.out_channels) for i in range(1, 5)
        ]
        self.num_features = self.feature_info[-1].num_chs
        self.reset_classifier(num_classes)

    def named_layers(self) -> list[tuple[str, nn.Module]]:
        return [(name, getattr(self, name)) for name in LAYER_NAMES]


@register_model("r2plus1d_18", input_config=R2PLUS1D_INPUT)
def r2plus1d_18(num_classes: int = 0, drop_rate: float = 0.0) -> R2Plus1D:
    """R(2+1)D-18 (Tran et al. 2018), torchvision layout; 31.30M parameters, 512-d features."""
    return R2Plus1D(in_chans=3, num_classes=num_classes, drop_rate=drop_rate)


@register_model("r2plus1d_50", input_config=R2PLUS1D_50_INPUT)
def r2plus1d_50(num_classes: int = 0, drop_rate: float = 0.0) -> R2Plus1D50:
    """R(2+1)D-50, the ELo paper's student (pytorchvideo builder); 2048-d features."""
    return R2Plus1D50(in_chans=3, num_classes=num_classes, drop_rate=drop_rate)


TINY_WIDTHS = (8, 16, 24, 48)
TINY_DEPTHS = (1, 1, 1, 1)


@register_model("test_r2plus1d", input_config=TINY_RGB_INPUT, tiny=True)
def test_r2plus1d(num_classes: int = 0, drop_rate: float = 0.0) -> R2Plus1D:
    """Tiny R(2+1)D (widths 8-48, one block per stage, ~121k parameters) for tests and the laptop demo.

    Keeps the (2+1)D temporal convolutions, so it can still learn motion.
    """
    return R2Plus1D(in_chans=3, widths=TINY_WIDTHS, depths=TINY_DEPTHS, num_classes=num_classes, drop_rate=drop_rate)
