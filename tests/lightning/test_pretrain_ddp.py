"""The towers and the student under DDP: 2 CPU processes with the gloo backend, a few steps of
the laptop recipe through the real CLI (Lightning's DDP raises if a parameter gets no gradient).

It starts two fresh Python processes: about 30 s on the shared 2-core development machine.
"""
from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "pretrain" / "all_modalities_synthetic.yaml"


@pytest.mark.slow
def test_ddp_gloo_two_cpu_processes(tmp_path):
    cmd = [sys.executable, "-m", "evovideo", "fit", "-c", str(RECIPE),
           "--trainer.strategy", "ddp", "--trainer.devices", "2", "--trainer.max_steps", "3",
           "--trainer.default_root_dir", str(tmp_path), "--trainer.enable_progress_bar", "false",
           "--data.init_args.num_videos_per_class", "2", "--data.init_args.batch_size", "2"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PL_TORCH_DISTRIBUTED_BACKEND": "gloo"}
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "distributed_backend=gloo" in out.stderr + out.stdout
    assert "All distributed processes registered. Starting with 2 processes" in out.stderr + out.stdout
    rows = list(csv.DictReader((tmp_path / "logs" / "version_0" / "metrics.csv").open()))
    assert [int(r["step"]) for r in rows if r["train/loss"]] == [0, 1, 2]
    assert (tmp_path / "logs" / "version_0" / "student" / "model.safetensors").is_file()
