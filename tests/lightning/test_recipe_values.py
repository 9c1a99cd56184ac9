"""`evovideo fit` refuses out-of-range data values in one line, before any data is read."""
from __future__ import annotations

import pytest
import yaml

from evovideo.cli import main

RECIPE = {
    "model": {"class_path": "evovideo.lightning.PretrainModule",
              "init_args": {"student": "test_r2plus1d", "tasks": {"rgb/reconstruction": 1.0}}},
    "data": {"class_path": "evovideo.lightning.SyntheticDataModule",
             "init_args": {"num_videos_per_class": 1, "num_classes": 2, "modalities": ["rgb"], "num_frames": 4,
                           "size": 16, "resize": 20, "batch_size": 2}},
    "trainer": {"accelerator": "cpu", "max_steps": 1, "logger": False, "enable_checkpointing": False},
}


@pytest.mark.parametrize("key,value,message", [
    ("num_frames", 0, "data.init_args.num_frames = 0: must be an integer >= 1"),
    ("batch_size", 0, "data.init_args.batch_size = 0: must be an integer >= 1"),
    ("modalities", ["rgb", "depth"], "data.init_args.modalities = ['rgb', 'depth']: must be a non-empty list"),
    ("flow_method", "horn", "data.init_args.flow_method = 'horn': must be one of tvl1, farneback, dis"),
    ("resize", 8, "data.init_args.resize = 8: must be null or an integer >= size (16)"),
    ("num_classes", 11, "data.init_args.num_classes = 11: must be an integer in [1, 10]"),
    ("num_videos_per_class", 0, "data.init_args.num_videos_per_class = 0: must be an integer >= 1"),
])
def test_fit_refuses_bad_data_values_in_one_line(tmp_path, capsys, key, value, message):
    recipe = yaml.safe_load(yaml.safe_dump(RECIPE))
    recipe["data"]["init_args"][key] = value
    recipe["trainer"]["default_root_dir"] = str(tmp_path)
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(recipe))
    assert main(["fit", "-c", str(tmp_path / "r.yaml")]) == 2
    err = capsys.readouterr().err
    assert f"evovideo fit: error: {message}" in err and "Traceback" not in err, err
