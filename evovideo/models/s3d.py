"""S3D (Xie et al. 2018, separable 3D Inception) from ``torchvision.models.video.s3d``.

torchvision's ``features`` is one Sequential of 16 modules; we cut it into the same tappable
names the ResNet students use, so a distillation recipe can name layers without knowing the
architecture:

  stem   = features[0:2]   conv1 (7x7x7 separable, stride 2) + max-pool        ->   64 ch
  layer1 = features[2:5]   conv2 (1x1x1) + conv3 (3x3x3 separable) + max-pool   ->  192 ch
  layer2 = features[5:7]   Mixed_3b, Mixed_3c                                   ->  480 ch
  layer3 = features[7:13]  max-pool + Mixed_4b .. Mixed_4f                      ->  832 ch
  layer4 = features[13:16] max-pool + Mixed_5b, Mixed_5c                        -> 1024 ch

Time is halved by conv1, the pool in layer3 and the pool in layer4 (which has a 2x2x2 kernel and
no padding): clips need at least 8 frames and 32 x 32 pixels.
"""
from __future__ import annotations

from torch import nn

from evovideo.models.base import KINETICS_MEAN, KINETICS_STD, Encoder, FeatureInfo, InputConfig
from evovideo.models.registry import register_model

# torchvision's S3D Kinetics-400 weights: 224 px crops normalised with the Kinetics mean/std.
S3D_INPUT = InputConfig(
    modality="rgb", in_chans=3, num_frames=16, stride=2, size=224, mean=KINETICS_MEAN, std=KINETICS_STD
)

_CUTS = {"stem": (0, 2), "layer1": (2, 5), "layer2": (5, 7), "layer3": (7, 13), "layer4": (13, 16)}
_CHANNELS = {"stem": 64, "layer1": 192, "layer2": 480, "layer3": 832, "layer4": 1024}


class S3D(Encoder):
    """S3D from torchvision, features only (no dropout/1x1 classifier head)."""

    def __init__(self, num_classes: int = 0, drop_rate: float = 0.0) -> None:
        super().__init__(num_classes=0, drop_rate=drop_rate)
        from torchvision.models.video import s3d

        features = s3d().features
        for name, (a, b) in _CUTS.items():
            setattr(self, name, nn.Sequential(*features[a:b]))
        self.feature_info = [FeatureInfo(name, c) for name, c in _CHANNELS.items()]
        self.num_features = _CHANNELS["layer4"]
        self.reset_classifier(num_classes)

    def named_layers(self) -> list[tuple[str, nn.Module]]:
        return [(name, getattr(self, name)) for name in _CUTS]


@register_model("s3d", input_config=S3D_INPUT)
def s3d(num_classes: int = 0, drop_rate: float = 0.0) -> S3D:
    """S3D (torchvision builder); 1024-d features."""
    return S3D(num_classes=num_classes, drop_rate=drop_rate)
