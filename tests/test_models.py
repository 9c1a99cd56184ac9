"""Every registered encoder, parametrized over the registry itself (as timm does).

Big networks run on the smallest clip they accept (8 frames, 32 x 32), so the file stays fast on
two CPU cores; tiny ``test_*`` models run on their own input config.
"""
from __future__ import annotations

import pytest
import torch

from evovideo.factory import create_model
from evovideo.models import MODELS, Encoder, InputConfig, list_models, model_input_config
from evovideo.models.base import MODALITIES

ALL = list_models()
EXPECTED = {
    "r2plus1d_18", "r2plus1d_50", "x3d_s", "s3d", "test_r2plus1d",
    "flow_r2plus1d_18", "gray_r2plus1d_18", "audio_resnet18", "test_flow", "test_gray", "test_audio",
}
RESNET_LAYERS = ("stem", "layer1", "layer2", "layer3", "layer4")


def small_input(name: str, batch_size: int = 2) -> torch.Tensor:
    """The smallest legal input for ``name`` (tiny models: their own config)."""
    cfg = model_input_config(name)
    if cfg.modality == "audio":
        return torch.randn(batch_size, 1, cfg.n_mels, 48 if not MODELS.meta(name)["tiny"] else 100)
    if MODELS.meta(name)["tiny"]:
        return cfg.example_input(batch_size)
    return torch.randn(batch_size, cfg.in_chans, 8, 32, 32)


def test_the_zoo_is_complete():
    assert EXPECTED <= set(ALL)
    assert {"test_r2plus1d", "test_flow", "test_gray", "test_audio"} <= set(list_models(tiny=True))
    assert "r2plus1d_18" not in list_models(tiny=True)
    assert set(list_models(modality="audio")) >= {"audio_resnet18", "test_audio"}


@pytest.mark.parametrize("name", ALL)
def test_input_config(name: str):
    cfg = model_input_config(name)
    assert isinstance(cfg, InputConfig) and cfg.modality in MODALITIES
    assert len(cfg.mean) == len(cfg.std) == cfg.in_chans
    assert InputConfig.from_dict(cfg.to_dict()) == cfg
    expected_chans = {"rgb": 3, "flow": 2, "gray": 1, "audio": 1}[cfg.modality]
    assert cfg.in_chans == expected_chans


@pytest.mark.parametrize("name", ALL)
def test_encoder_surface(name: str):
    model = create_model(name)
    assert isinstance(model, Encoder)
    assert model.model_name == name and model.input_config == model_input_config(name)
    x = small_input(name)

    feats = model(x)  # (B, ...) -> (B, num_features)
    assert feats.shape == (2, model.num_features)
    assert torch.isfinite(feats).all()

    taps = model.forward_intermediates(x)
    assert list(taps) == list(model.feature_layers)
    for info in model.feature_info:
        assert taps[info.name].shape[:2] == (2, info.num_chs), info.name
    last = model.feature_layers[-1]
    fmap = model.forward_features(x)
    assert fmap.shape[1] == model.num_features == model.layer_channels(last)
    torch.testing.assert_close(fmap, taps[last])  # train mode: BN uses the same batch statistics both times

    # backward from the pooled features and every tap reaches every parameter
    loss = feats.square().mean() + sum(t.square().mean() for t in taps.values())
    loss.backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing, f"no gradient for {missing[:5]}"
    assert all(torch.isfinite(p.grad).all() for p in model.parameters())


@pytest.mark.parametrize("name", [n for n in ALL if MODELS.meta(n)["tiny"]])
def test_reset_classifier_and_head(name: str):
    model = create_model(name, num_classes=5)
    x = small_input(name)
    assert model(x).shape == (2, 5)
    model.reset_classifier(7)
    assert model(x).shape == (2, 7)
    model.reset_classifier(0)
    assert model(x).shape == (2, model.num_features)
    assert model.forward_head(model.forward_features(x), pre_logits=True).shape == (2, model.num_features)


@pytest.mark.parametrize("name", ["r2plus1d_50", "x3d_s", "s3d"])
def test_reset_classifier_big(name: str):
    model = create_model(name)
    model.reset_classifier(3)
    with torch.no_grad():
        fmap = model.forward_features(small_input(name))
    assert model.forward_head(fmap).shape == (2, 3)


def test_forward_intermediates_stops_early_and_refuses_unknown_layers():
    model = create_model("test_r2plus1d")
    x = small_input("test_r2plus1d")
    taps = model.forward_intermediates(x, ["layer2"])
    assert list(taps) == ["layer2"] and taps["layer2"].shape[1] == model.layer_channels("layer2")
    with pytest.raises(KeyError, match="layer9.*stem"):
        model.forward_intermediates(x, ["layer9"])


@pytest.mark.parametrize("name", ["test_r2plus1d", "test_flow", "test_gray", "test_audio", "r2plus1d_18",
                                  "r2plus1d_50", "flow_r2plus1d_18", "audio_resnet18"])
def test_resnet_families_share_layer_names(name: str):
    # distillation taps towers and student by the same names
    assert create_model(name).feature_layers == RESNET_LAYERS


def test_tiny_student_is_small_fast_and_sees_time():
    model = create_model("test_r2plus1d").eval()
    assert sum(p.numel() for p in model.parameters()) < 150_000
    x = torch.randn(2, 3, 8, 32, 32)
    # temporal convolutions: reversing time changes the features of a non-static clip
    with torch.no_grad():
        f, f_rev = model(x), model(x.flip(2))
    assert not torch.allclose(f, f_rev, atol=1e-4)


def test_r2plus1d_18_matches_torchvision_layout():
    # so torchvision's Kinetics-400 weights load (strictly, apart from the classifier)
    from torchvision.models.video import r2plus1d_18

    ours = create_model("r2plus1d_18").state_dict()
    theirs = {k: v for k, v in r2plus1d_18().state_dict().items() if not k.startswith("fc.")}
    assert {k: v.shape for k, v in ours.items()} == {k: v.shape for k, v in theirs.items()}


def test_constructor_kwargs_are_recorded():
    model = create_model("test_gray", num_classes=4, drop_rate=0.1)
    assert model.model_kwargs == {"num_classes": 4, "drop_rate": 0.1}
    assert model.num_classes == 4
