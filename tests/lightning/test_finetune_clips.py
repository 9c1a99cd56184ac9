"""Fine-tune recipes follow the encoder's preprocessing and the data's class count, or refuse."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from evovideo.lightning import UCF101DataModule
from evovideo.lightning.finetune import FinetuneModule
from evovideo.tasks import RecipeError

RECIPES = Path(__file__).resolve().parents[2] / "recipes" / "finetune"
CLASSES = ["ApplyEyeMakeup", "Biking", "Diving", "Fencing", "Rowing"]


@pytest.fixture()
def five_class_ucf(tmp_path) -> Path:
    """A 5-class folder in UCF101's layout (empty files: nothing here decodes)."""
    lists = tmp_path / "ucfTrainTestlist"
    lists.mkdir()
    (lists / "classInd.txt").write_text("".join(f"{i + 1} {c}\n" for i, c in enumerate(CLASSES)))
    train, test = [], []
    for ci, c in enumerate(CLASSES):
        for g in range(1, 26):
            rel = f"{c}/v_{c}_g{g:02d}_c01.avi"
            (tmp_path / "UCF-101" / c).mkdir(parents=True, exist_ok=True)
            (tmp_path / "UCF-101" / rel).write_bytes(b"")
            (test.append(f"{rel}\n") if g <= 7 else train.append(f"{rel} {ci + 1}\n"))
    (lists / "trainlist01.txt").write_text("".join(train))
    (lists / "testlist01.txt").write_text("".join(test))
    return tmp_path


def _from_recipe(root: Path, encoder: str):
    cfg = yaml.safe_load((RECIPES / "ucf101.yaml").read_text())
    model = FinetuneModule(**{**cfg["model"]["init_args"], "encoder": encoder})
    data_args = {k: v for k, v in cfg["data"]["init_args"].items() if k not in ("root", "num_workers")}
    return model, UCF101DataModule(root=str(root), num_workers=0, **data_args)


def test_recipe_takes_clips_from_the_encoder_and_classes_from_the_data(five_class_ucf):
    model, dm = _from_recipe(five_class_ucf, "test_r2plus1d")  # the 8x32^2 stride-2 demo student
    model.check_data(dm)
    cfg = model.encoder.input_config
    clip = dm.clip_config()
    assert (clip["num_frames"], clip["stride"], clip["size"]) == (cfg.num_frames, cfg.stride, cfg.size)
    assert clip["mean"] == tuple(cfg.mean) and clip["std"] == tuple(cfg.std)
    assert model.encoder.head.out_features == 5 and model.hparams.num_classes == 5


def test_a_clip_setting_that_contradicts_the_encoder_is_refused(five_class_ucf):
    model = FinetuneModule(encoder="test_r2plus1d")
    dm = UCF101DataModule(root=str(five_class_ucf), num_frames=16, size=112)
    with pytest.raises(RecipeError, match=r"data.num_frames=16 but the encoder expects num_frames=8.*"
                                          r"data.size=112 but the encoder expects size=32"):
        model.check_data(dm)


def test_a_head_that_contradicts_the_data_is_refused(five_class_ucf):
    model = FinetuneModule(encoder="test_r2plus1d", num_classes=101)
    with pytest.raises(RecipeError, match="model.num_classes=101 but the data has 5 classes"):
        model.check_data(UCF101DataModule(root=str(five_class_ucf)))


def test_fine_tuning_samples_clips_at_the_frame_rate_and_resize_the_weights_were_trained_with(five_class_ucf):
    """The packaged student records 16 fps and resize 36 (issue 15's clip contract); fine-tuning it
    used to sample files at the DataModule's 25 fps and resize by the 8/7 rule (37)."""
    model = FinetuneModule(encoder="test_r2plus1d.elo_synthetic")
    dm = UCF101DataModule(root=str(five_class_ucf))
    model.check_data(dm)
    trained = model.encoder.input_config.clip
    assert (dm.clip.frame_rate, dm.clip.resize) == (trained.frame_rate, trained.resize) == (16.0, 36)
    assert dm.clip == trained


def test_a_frame_rate_that_contradicts_the_encoder_is_refused(five_class_ucf):
    model = FinetuneModule(encoder="test_r2plus1d.elo_synthetic")
    with pytest.raises(RecipeError, match=r"data.frame_rate=30.0 but the encoder expects frame_rate=16.0"):
        model.check_data(UCF101DataModule(root=str(five_class_ucf), frame_rate=30))
