"""X3D encoders (Feichtenhofer 2020) from ``pytorchvideo.models.x3d.create_x3d``.

X3D-S is the X3D-M network (width factor 2.0, depth factor 2.2) run on smaller clips:
13 frames every 6th, 160 px.  pytorchvideo's head pools with a kernel fixed to the training clip
size; we keep its ``conv5`` (1x1x1 conv to 432 channels + BN + ReLU) as the last tappable layer
and pool globally, so any clip size works.  The head's 2048-d projection after pooling belongs to
the classifier in pytorchvideo; here ``reset_classifier`` puts a linear layer on the 432-d
features instead.

Tappable layers: ``stem`` (24 ch), ``layer1`` .. ``layer4`` (24, 48, 96, 192; pytorchvideo's
res2..res5, each halving space), ``conv5`` (432).
"""
from __future__ import annotations

from torch import nn

from evovideo.models.base import KINETICS_MEAN, KINETICS_STD, Encoder, FeatureInfo, InputConfig
from evovideo.models.registry import register_model

LAYER_NAMES = ("stem", "layer1", "layer2", "layer3", "layer4", "conv5")

X3D_S_INPUT = InputConfig(
    modality="rgb", in_chans=3, num_frames=13, stride=6, size=160, mean=KINETICS_MEAN, std=KINETICS_STD
)


class X3D(Encoder):
    """X3D from pytorchvideo's builder; ``width_factor``/``depth_factor`` pick the family member."""

    def __init__(
        self,
        in_chans: int = 3,
        width_factor: float = 2.0,
        depth_factor: float = 2.2,
        bottleneck_factor: float = 2.25,
        num_classes: int = 0,
        drop_rate: float = 0.0,
    ) -> None:
        super().__init__(num_classes=0, drop_rate=drop_rate)
        from pytorchvideo.models.x3d import create_x3d

        net = create_x3d(
            input_channel=in_chans,
            width_factor=width_factor,
            depth_factor=depth_factor,
            bottleneck_factor=bottleneck_factor,
            model_num_class=1,
        )
        blocks = net.blocks  # [stem, res2, res3, res4, res5, head]
        self.stem, self.layer1, self.layer2, self.layer3, self.layer4 = blocks[:5]
        proj = blocks[5].pool  # ProjectedPool: pre_conv -> pre_norm -> pre_act -> pool -> post_conv
        self.conv5 = nn.Sequential(proj.pre_conv, proj.pre_norm, proj.pre_act)
        stage_chs = [blocks[i].res_blocks[-1].branch2.conv_c.out_channels for i in range(1, 5)]
        self.feature_info = (
            [FeatureInfo("stem", blocks[0].conv.conv_xy.out_channels)]
            + [FeatureInfo(f"layer{i + 1}", c) for i, c in enumerate(stage_chs)]
            + [FeatureInfo("conv5", proj.pre_conv.out_channels)]
        )
        self.num_features = proj.pre_conv.out_channels
        self.reset_classifier(num_classes)

    def named_layers(self) -> list[tuple[str, nn.Module]]:
        return [(name, getattr(self, name)) for name in LAYER_NAMES]


@register_model("x3d_s", input_config=X3D_S_INPUT)
def x3d_s(num_classes: int = 0, drop_rate: float = 0.0) -> X3D:
    """X3D-S: 13 x 160 x 160 clips, stride 6; 432-d features."""
    return X3D(width_factor=2.0, depth_factor=2.2, num_classes=num_classes, drop_rate=drop_rate)
