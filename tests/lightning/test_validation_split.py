"""Model selection never sees the test list: val is carved from the training list by source video."""
from __future__ import annotations

from pathlib import Path

import pytest

from evovideo.data.groups import video_groups
from evovideo.lightning import HMDB51DataModule, SyntheticDataModule, UCF101DataModule

UCF_CLASSES = ["ApplyEyeMakeup", "Biking", "Diving"]
HMDB_CLASSES = ["brush_hair", "kick", "climb"]
TITLES = ["American_History_X", "April_09", "Fencing_Epee", "THE_PROTECTOR", "Veoh_Alpha_Dog_1", "Two_Towers_3"]


def _touch(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")  # the split parsers need the files, not their content


def make_ucf101_names(root: Path) -> Path:
    """25 groups x 2 clips per class; the official rule: split k tests groups 7k-6..7k."""
    lists = root / "ucfTrainTestlist"
    lists.mkdir(parents=True)
    (lists / "classInd.txt").write_text("".join(f"{i + 1} {c}\n" for i, c in enumerate(UCF_CLASSES)))
    train, test = [], []
    for ci, c in enumerate(UCF_CLASSES):
        for g in range(1, 26):
            for k in (1, 2):
                rel = f"{c}/v_{c}_g{g:02d}_c{k:02d}.avi"
                _touch(root / "UCF-101" / rel)
                (test.append(f"{rel}\n") if g <= 7 else train.append(f"{rel} {ci + 1}\n"))
    (lists / "trainlist01.txt").write_text("".join(train))
    (lists / "testlist01.txt").write_text("".join(test))
    return root


def make_hmdb51_names(root: Path) -> Path:
    """Clips named as HMDB51's (source title first); titles shared across classes, several clips each."""
    lists = root / "testTrainMulti_7030_splits"
    lists.mkdir(parents=True)
    for c in HMDB_CLASSES:
        lines = []
        for t, title in enumerate(TITLES):
            for k in range(3):
                name = f"{title}_{c}_f_cm_np1_fr_med_{k}.avi"
                _touch(root / c / name)
                lines.append(f"{name} {2 if t == 0 else 1}\n")
        (lists / f"{c}_test_split1.txt").write_text("".join(lines))
    return root


@pytest.mark.parametrize("make,module", [(make_ucf101_names, UCF101DataModule), (make_hmdb51_names, HMDB51DataModule)])
def test_val_is_carved_from_train_by_group_and_never_test(tmp_path, make, module):
    dm = module(root=str(make(tmp_path)), split=1, val_fraction=0.2)
    dm.setup("fit")
    dm.setup("test")
    train, val, test = ({r.path for r in dm.datasets[f].records} for f in ("train", "val", "test"))
    assert val and train and test
    assert not val & test, "validation (model selection) reads test videos"
    assert not val & train
    groups = lambda paths: set(video_groups(sorted(paths)))  # noqa: E731
    assert not groups(val) & groups(train), "a source video is on both sides of train/val"
    assert "training list" in dm.selection()


def test_no_validation_means_last_checkpoint(tmp_path):
    dm = UCF101DataModule(root=str(make_ucf101_names(tmp_path)), split=1, val_fraction=0.0)
    dm.setup("fit")
    assert dm.val_dataloader() == [] and "val" not in dm.datasets
    assert len(dm.datasets["train"].records) == 3 * 18 * 2  # the whole training list
    assert "last epoch" in dm.selection()


def test_synthetic_val_fraction_carves_from_train_groups():
    dm = SyntheticDataModule(num_videos_per_class=25, num_classes=2, val_fraction=0.2)
    dm.setup("fit")
    dm.setup("test")
    names = {f: {r.path for r in dm.datasets[f].records} for f in ("train", "val", "test")}
    assert names["val"] and not names["val"] & names["test"] and not names["val"] & names["train"]


@pytest.mark.parametrize("recipe,make", [("ucf101.yaml", make_ucf101_names), ("hmdb51.yaml", make_hmdb51_names)])
def test_finetune_recipe_cannot_select_on_test(tmp_path, recipe, make):
    """The data a recipe validates on (its checkpoint monitor) holds no test video."""
    import importlib

    import yaml

    cfg = yaml.safe_load((Path(__file__).resolve().parents[2] / "recipes" / "finetune" / recipe).read_text())
    module, _, name = cfg["data"]["class_path"].rpartition(".")
    args = {k: v for k, v in cfg["data"]["init_args"].items() if k not in ("root", "num_workers")}
    dm = getattr(importlib.import_module(module), name)(root=str(make(tmp_path)), num_workers=0, **args)
    dm.setup("fit")
    dm.setup("test")
    val = {r.path for r in dm.datasets["val"].records} if "val" in dm.datasets else set()
    assert not val & {r.path for r in dm.datasets["test"].records}
