"""Each official layout loads through its DataModule, every fold; wrong layouts fail clearly."""
from __future__ import annotations

import shutil

import pytest
import torch

from evovideo.data import DATASETS, parse_hmdb51, parse_kinetics, parse_ucf101, scan_folder
from evovideo.lightning import FolderDataModule, HMDB51DataModule, KineticsDataModule, UCF101DataModule

from data_layouts import CLASSES, SMALL, make_kinetics_csv, make_kinetics_folders


def _one_batch(dm, fold):
    loader = {"train": dm.train_dataloader, "val": dm.val_dataloader, "test": dm.test_dataloader}[fold]()
    return next(iter(loader))


@pytest.mark.parametrize("split", [1, 2, 3])
def test_ucf101_folds(ucf101_root, split):
    train, names = parse_ucf101(ucf101_root, split, "train")
    test, _ = parse_ucf101(ucf101_root, split, "test")
    assert names == CLASSES
    assert len(train) == 6 and len(test) == 3
    assert {r.path for r in train}.isdisjoint({r.path for r in test})
    assert all(f"_g{split:02d}_" in r.path for r in test)
    assert sorted(r.label for r in test) == [0, 1, 2]
    dm = UCF101DataModule(root=str(ucf101_root), split=split, **SMALL)
    dm.setup("fit")
    dm.setup("test")
    b = _one_batch(dm, "train")
    assert b["rgb"].shape == (2, 3, 4, 16, 16)
    assert len(dm.dataset("test")) == 3 * 2 * 3  # videos x clips x crops
    t = _one_batch(dm, "test")
    assert t["video_index"].tolist() == [0, 0]  # views of one video stay together


@pytest.mark.parametrize("split", [1, 2, 3])
def test_hmdb51_folds(hmdb51_root, split):
    train, names = parse_hmdb51(hmdb51_root, split, "train")
    test, _ = parse_hmdb51(hmdb51_root, split, "test")
    assert names == ["brush_hair", "cartwheel", "climb"]
    assert len(train) == 3 and len(test) == 3  # one clip per class tagged 0 (unused)
    assert all(f"clip{split - 1}_" in r.path for r in test)
    dm = HMDB51DataModule(root=str(hmdb51_root), split=split, **SMALL)
    dm.setup("fit")
    b = _one_batch(dm, "val")  # val: carved from the training list, never the test list
    assert b["rgb"].shape[1:] == (3, 4, 16, 16) and b["label"].dtype == torch.int64
    val = {r.path for r in dm.datasets["val"].records}
    assert val <= {r.path for r in train} and not val & {r.path for r in test}


@pytest.mark.parametrize("layout", ["csv", "folders"])
def test_kinetics(tmp_path, video_bank, layout, caplog):
    root = (make_kinetics_csv if layout == "csv" else make_kinetics_folders)(tmp_path / "k", video_bank)
    for fold in ("train", "val", "test"):
        records, names = parse_kinetics(root, fold)
        assert names == ["abseiling", "arm wrestling"]
        assert records and all(r.label in (0, 1) for r in records)
    if layout == "csv":
        assert "1 of 5 annotated videos are not under" in caplog.text  # the deleted one is reported
    dm = KineticsDataModule(root=str(root), **SMALL)
    dm.setup("fit")
    assert _one_batch(dm, "train")["rgb"].shape == (2, 3, 4, 16, 16)


def test_folder_unlabeled(tmp_path, video_bank):
    for i, p in enumerate(video_bank.values()):
        dest = tmp_path / "mine" / ("deep/er" if i % 2 else "") / p.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(p, dest)
    (tmp_path / "mine" / "notes.txt").write_text("not a video")
    assert len(scan_folder(tmp_path / "mine")) == 4
    dm = FolderDataModule(root=str(tmp_path / "mine"), **SMALL)
    dm.setup("fit")
    b = _one_batch(dm, "train")
    assert b["label"].tolist() == [-1, -1]


def test_registry_lists_datasets():
    assert {"ucf101", "hmdb51", "kinetics", "folder", "synthetic"} <= set(DATASETS.list())


def test_missing_split_files(ucf101_root, hmdb51_root, tmp_path):
    (ucf101_root / "ucfTrainTestlist" / "trainlist02.txt").unlink()
    with pytest.raises(FileNotFoundError, match=r"trainlist02\.txt: expected lines"):
        parse_ucf101(ucf101_root, 2, "train")
    (ucf101_root / "ucfTrainTestlist" / "classInd.txt").unlink()
    with pytest.raises(FileNotFoundError, match=r"classInd\.txt"):
        parse_ucf101(ucf101_root, 1, "train")
    shutil.rmtree(ucf101_root / "ucfTrainTestlist")
    with pytest.raises(FileNotFoundError, match=r"ucfTrainTestlist.*expected the official split folder"):
        UCF101DataModule(root=str(ucf101_root)).setup("fit")
    for f in (hmdb51_root / "testTrainMulti_7030_splits").glob("*_split3.txt"):
        f.unlink()
    with pytest.raises(FileNotFoundError, match=r"_test_split3\.txt.*testTrainMulti_7030_splits"):
        parse_hmdb51(hmdb51_root, 3, "train")
    (tmp_path / "empty_k" / "train").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match=r"annotations/train\.csv"):
        parse_kinetics(tmp_path / "empty_k", "train")
    with pytest.raises(ValueError, match="split must be 1, 2 or 3"):
        parse_ucf101(ucf101_root, 4)


def test_empty_class_folder(ucf101_root, hmdb51_root):
    for p in (ucf101_root / "UCF-101" / "Biking").iterdir():
        p.unlink()
    with pytest.raises(FileNotFoundError, match=r"class folder .*Biking is empty: expected video files"):
        parse_ucf101(ucf101_root, 1, "train")
    shutil.rmtree(hmdb51_root / "climb")
    with pytest.raises(FileNotFoundError, match=r"missing class folder .*climb"):
        parse_hmdb51(hmdb51_root, 1, "test")


def test_datamodule_from_recipe_yaml(ucf101_root):
    """The typed constructor arguments are a LightningCLI recipe's ``data:`` section."""
    from jsonargparse import ArgumentParser

    parser = ArgumentParser()
    parser.add_subclass_arguments(UCF101DataModule, "data")
    cfg = parser.parse_string(f"""
data:
  class_path: evovideo.lightning.UCF101DataModule
  init_args: {{root: {ucf101_root}, split: 3, modalities: [rgb, gray], num_frames: 4, stride: 1,
              frame_rate: 8.0, size: 16, resize: 20, batch_size: 2, flow_method: dis}}
""")
    dm = getattr(parser, "instantiate", None) and parser.instantiate(cfg).data or parser.instantiate_classes(cfg).data
    assert isinstance(dm, UCF101DataModule) and dm.split == 3
    dm.setup("fit")
    assert next(iter(dm.train_dataloader()))["gray"].shape == (2, 1, 4, 16, 16)
