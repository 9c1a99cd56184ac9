"""The one surface every encoder has, and the input config each registered name carries.

Downstream code (tasks, distillation, evaluation, the Hub) depends on this surface only::

    enc = evovideo.create_model("r2plus1d_18")
    feats = enc(x)                                # (B, C, T, H, W) -> (B, num_features)
    fmap = enc.forward_features(x)                # (B, num_features, t, h, w)
    taps = enc.forward_intermediates(x, ["layer2", "layer4"])   # {name: feature map}
    enc.reset_classifier(51)                      # now enc(x) -> (B, 51) logits

A subclass builds its network and returns its named layers, in order, from ``named_layers()``;
the base class runs them, taps them, pools and applies the (optional) classifier.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

import torch
from torch import nn

from evovideo.clip import KINETICS_MEAN, KINETICS_STD, ClipSpec

if TYPE_CHECKING:
    from evovideo.models.zoo import PretrainedCfg

MODALITIES = ("rgb", "flow", "gray", "audio")


@dataclass(frozen=True)
class InputConfig:
    """What an encoder expects as input: modality, channels, clip sampling and normalisation.

    Video modalities take ``(B, in_chans, num_frames, size, size)`` clips sampled every
    ``stride`` frames at the nominal ``frame_rate``, short side resized to ``resize`` (None:
    ``round(size * 8 / 7)``) before the crop, normalised with ``mean``/``std``: the clip
    contract, ``self.clip`` (an ``evovideo.clip.ClipSpec``).  A ``config.json`` written before
    ``frame_rate`` / ``resize`` were recorded loads with 25 fps and the 8/7 rule, the settings
    every DataModule used by default.  The audio modality takes a log-mel
    spectrogram ``(B, 1, n_mels, time)`` computed at ``sample_rate`` with ``hop_ms``/``win_ms``
    windows, covering the same span of time as the video clip.
    """

    modality: str = "rgb"
    in_chans: int = 3
    num_frames: int = 16
    stride: int = 2
    size: int = 112
    mean: tuple[float, ...] = KINETICS_MEAN
    std: tuple[float, ...] = KINETICS_STD
    frame_rate: float = 25.0
    resize: int | None = None
    # audio only
    sample_rate: int = 16000
    n_mels: int = 64
    win_ms: float = 25.0
    hop_ms: float = 10.0

    def __post_init__(self) -> None:
        if self.modality not in MODALITIES:
            raise ValueError(f"unknown modality '{self.modality}'; known: {', '.join(MODALITIES)}")
        if len(self.mean) != self.in_chans or len(self.std) != self.in_chans:
            raise ValueError(
                f"mean/std must have in_chans={self.in_chans} entries, "
                f"got {len(self.mean)} and {len(self.std)}"
            )
        if self.modality != "audio":
            self.clip  # noqa: B018 - validates frames, stride, frame rate, size, resize

    @property
    def clip(self) -> ClipSpec:
        """The clip contract of a video input (frames, stride, frame rate, size, resize, mean, std)."""
        return ClipSpec(num_frames=self.num_frames, stride=self.stride, frame_rate=self.frame_rate, size=self.size,
                        resize=self.resize, mean=self.mean, std=self.std)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["mean"], d["std"] = list(self.mean), list(self.std)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "InputConfig":
        d = dict(d)
        d["mean"], d["std"] = tuple(d["mean"]), tuple(d["std"])
        return cls(**d)

    def example_input(self, batch_size: int = 2, seconds: float | None = None) -> torch.Tensor:
        """A random input of the shape this encoder expects (for tests and shape checks)."""
        if self.modality == "audio":
            frames = 100 if seconds is None else int(seconds * 1000 / self.hop_ms)
            return torch.randn(batch_size, 1, self.n_mels, frames)
        return torch.randn(batch_size, self.in_chans, self.num_frames, self.size, self.size)


@dataclass(frozen=True)
class Provenance:
    """What a loaded encoder's weights are: where they came from and what they were trained with.

    Set by the loaders (``evovideo.hub.load_pretrained`` and the factory ``evovideo.create_model`` /
    ``from_pretrained``); ``None`` on a randomly initialised encoder.
    """

    source: str  # "hf-hub:ORG/NAME@<commit>", "local-dir:/path", "arch.tag", or the folder loaded
    config: Mapping[str, Any]  # their config.json: architecture, model_kwargs, num_classes, input_config, extra
    zoo: PretrainedCfg | None = None  # the zoo entry (card facts, results) when loaded by its arch.tag

    @property
    def architecture(self) -> str:
        return self.config["architecture"]

    @property
    def model_kwargs(self) -> dict[str, Any]:
        return dict(self.config.get("model_kwargs", {}))

    @property
    def extra(self) -> dict[str, Any]:
        """Free-form provenance saved with the weights: recipe, lambdas, pretraining data, ..."""
        return dict(self.config.get("extra", {}))


@dataclass(frozen=True)
class FeatureInfo:
    """One named, tappable layer: its name and output channels."""

    name: str
    num_chs: int


class Encoder(nn.Module):
    """Base class for every encoder (the RGB student and the flow / gray / audio towers).

    Subclasses set ``self.num_features`` and ``self.feature_info`` and implement
    ``named_layers()``; the last layer's output is the feature map that gets pooled.
    """

    input_config: InputConfig = InputConfig()
    model_name: str | None = None  # registry name, set by the registry's factory (create_model)
    model_kwargs: dict[str, Any] | None = None  # the constructor arguments it was built with
    provenance: Provenance | None = None  # the loaded weights' record; None at random init
    num_features: int
    feature_info: list[FeatureInfo]
    grad_checkpointing: bool = False

    def __init__(self, num_classes: int = 0, drop_rate: float = 0.0) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.drop_rate = drop_rate
        self.head_drop = nn.Dropout(drop_rate)
        self.head: nn.Module = nn.Identity()

    # -- subclasses -------------------------------------------------------------------------
    def named_layers(self) -> Sequence[tuple[str, nn.Module]]:
        raise NotImplementedError

    # -- the surface ------------------------------------------------------------------------
    @property
    def feature_layers(self) -> tuple[str, ...]:
        """Names that ``forward_intermediates`` and distillation can tap, input to output."""
        return tuple(f.name for f in self.feature_info)

    def layer_channels(self, name: str) -> int:
        for info in self.feature_info:
            if info.name == name:
                return info.num_chs
        raise KeyError(f"unknown layer '{name}' for {type(self).__name__}; known: {', '.join(self.feature_layers)}")

    def set_grad_checkpointing(self, enable: bool = True) -> None:
        """Recompute each named layer in backward instead of keeping its activations (timm's
        name for it; see :mod:`evovideo.models.checkpointing`).  Outputs are unchanged."""
        self.grad_checkpointing = enable

    def run_layer(self, layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """One named layer, checkpointed when ``set_grad_checkpointing`` is on and autograd records."""
        if self.grad_checkpointing and torch.is_grad_enabled():
            from evovideo.models.checkpointing import checkpoint_layer

            return checkpoint_layer(layer, x)
        return layer(x)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        # (B, C, T, H, W) -> (B, num_features, t, h, w)   [audio: (B, 1, F, T) -> (B, D, f, t)]
        for _, layer in self.named_layers():
            x = self.run_layer(layer, x)
        return x

    def forward_intermediates(
        self, x: torch.Tensor, layers: Iterable[str] | None = None
    ) -> dict[str, torch.Tensor]:
        """Feature maps of the named ``layers`` (default: all); stops after the last one asked."""
        wanted = list(self.feature_layers if layers is None else layers)
        unknown = [n for n in wanted if n not in self.feature_layers]
        if unknown:
            raise KeyError(
                f"unknown layer(s) {unknown} for {type(self).__name__}; known: {', '.join(self.feature_layers)}"
            )
        out: dict[str, torch.Tensor] = {}
        for name, layer in self.named_layers():
            x = self.run_layer(layer, x)
            if name in wanted:
                out[name] = x
                if len(out) == len(wanted):
                    break
        return out

    def pool(self, fmap: torch.Tensor) -> torch.Tensor:
        # (B, D, *spatial) -> (B, D): global average over time and space
        return fmap.flatten(2).mean(-1)

    def forward_head(self, fmap: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = self.pool(fmap)
        if pre_logits:
            return x
        return self.head(self.head_drop(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (B, C, T, H, W) -> (B, num_features), or (B, num_classes) after reset_classifier(n > 0)
        return self.forward_head(self.forward_features(x))

    def reset_classifier(self, num_classes: int) -> None:
        """Replace the head: ``0`` removes it (forward returns pooled features)."""
        self.num_classes = num_classes
        self.head = nn.Linear(self.num_features, num_classes) if num_classes > 0 else nn.Identity()

    def get_classifier(self) -> nn.Module:
        return self.head
