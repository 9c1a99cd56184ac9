"""`evovideo fit` ends with a summary of the files it skipped as undecodable."""
from __future__ import annotations

import yaml

from data_layouts import SMALL
from test_robust import _add_broken_files

from evovideo.cli import main


def test_fit_prints_the_skipped_files(ucf101_root, video_bank, tmp_path, capsys):
    broken = _add_broken_files(ucf101_root, video_bank)
    recipe = {
        "seed_everything": 0,
        "model": {"class_path": "evovideo.lightning.PretrainModule",
                  "init_args": {"student": "test_r2plus1d", "tasks": {"rgb/reconstruction": 1.0}}},
        "data": {"class_path": "evovideo.lightning.UCF101DataModule",
                 "init_args": {"root": str(ucf101_root), "backend": "pyav", **SMALL}},
        "trainer": {"accelerator": "cpu", "devices": 1, "max_epochs": 1, "limit_val_batches": 0, "logger": False,
                    "enable_checkpointing": False, "enable_progress_bar": False, "enable_model_summary": False,
                    "default_root_dir": str(tmp_path / "run")},
    }
    (tmp_path / "fit.yaml").write_text(yaml.safe_dump(recipe))
    assert main(["fit", "-c", str(tmp_path / "fit.yaml")]) == 0
    err = capsys.readouterr().err
    summary = [ln for ln in err.splitlines() if ln.startswith("skipped ")]
    assert len(summary) == 1 and summary[0].startswith("skipped 4 undecodable files"), err
    assert all(path in summary[0] for path in broken)
