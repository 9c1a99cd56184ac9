"""Fault injection: broken caches, torn results, kill -9.  Each fault must cost at most the work
it interrupted: nothing finished is lost, and nothing crashes.

Unwritable folders are made two ways: ``chmod 0o500`` (skipped when the tests run as root, who
writes anyway) and a plain file standing where the folder should be (works for every user).
"""
from __future__ import annotations

import logging
import os
import stat

import pytest
import torch

from evovideo.eval.features import FeatureSet, cached_features, feature_cache_key
from evovideo.factory import create_model

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _features(n: int = 5) -> FeatureSet:
    return FeatureSet(torch.randn(n, 4), torch.arange(n), [f"v{i}" for i in range(n)])


def _unwritable(tmp_path, how: str):
    if how == "readonly":
        if IS_ROOT:
            pytest.skip("root writes into read-only folders; the 'file in the way' case covers root")
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
        return folder / "cache"
    (tmp_path / "in_the_way").write_text("a file where the cache folder should be")
    return tmp_path / "in_the_way" / "cache"


# -- feature cache (fewshot, probes) ------------------------------------------------------------
@pytest.mark.parametrize("how", ["readonly", "file_in_the_way"])
def test_unwritable_feature_cache_is_bypassed_with_one_warning(tmp_path, caplog, how):
    cache = _unwritable(tmp_path, how)
    calls = []

    def compute():
        calls.append(1)
        return _features()

    with caplog.at_level(logging.WARNING):
        first = cached_features(cache, "k1", compute)
        second = cached_features(cache, "k2", compute)
    assert len(calls) == 2 and first.meta["cache"] == second.meta["cache"] == "miss"
    warnings = [r.getMessage() for r in caplog.records if "cannot be written" in r.getMessage()]
    assert len(warnings) == 1 and str(cache) in warnings[0]  # once per folder, naming it


@pytest.mark.parametrize("damage", ["zero_byte", "torn", "garbage", "directory"])
def test_damaged_feature_cache_entry_is_recomputed_and_replaced(tmp_path, caplog, damage):
    good = _features()
    path = tmp_path / "key.pt"
    good.save(path)
    data = path.read_bytes()
    path.unlink()
    if damage == "zero_byte":
        path.write_bytes(b"")
    elif damage == "torn":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(b"not a torch file")
    else:
        path.mkdir()  # unreadable as a file
    with caplog.at_level(logging.WARNING):
        fs = cached_features(tmp_path, "key", lambda: good)
    assert fs.meta["cache"] == "miss" and torch.equal(fs.features, good.features)
    message = " ".join(r.getMessage() for r in caplog.records)
    assert "ignoring unreadable feature cache entry" in message and str(path) in message
    if damage == "zero_byte":
        assert "empty (0 bytes)" in message
    if damage != "directory":  # replaced by a good entry: the next call is a hit
        assert cached_features(tmp_path, "key", lambda: pytest.fail("recomputed")).meta["cache"] == "hit"


def test_feature_cache_entry_has_ordinary_permissions_and_no_temporaries(tmp_path):
    old = os.umask(0o022)
    try:
        cached_features(tmp_path, "key", _features)
    finally:
        os.umask(old)
    assert (tmp_path / "key.pt").stat().st_mode & 0o777 == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["key.pt"]


def test_feature_cache_write_is_fsynced_before_replace(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (events.append("replace"), real_replace(a, b))[1])
    _features().save(tmp_path / "key.pt")
    assert events[:2] == ["fsync", "replace"]


def test_fewshot_features_survive_an_unwritable_cache(tmp_path, caplog):
    """The fewshot path (encoder -> cached features) on a cache under a file: features come back."""
    enc = create_model("test_r2plus1d")
    key = feature_cache_key(enc, data={"d": 1}, preprocessing={})
    batch = {"rgb": torch.randn(2, 3, 8, 32, 32), "video_index": torch.tensor([0, 1]),
             "label": torch.tensor([0, 1]), "video_name": ["a", "b"]}
    from evovideo.eval.features import extract_features

    fs = cached_features(_unwritable(tmp_path, "file_in_the_way"), key,
                         lambda: extract_features(enc, [batch], progress=False))
    assert fs.features.shape == (2, enc.num_features)


# -- kill -9 at seeded random points ------------------------------------------------------------
import json  # noqa: E402
import random  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import yaml  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TINY_DATA = {"num_classes": 4, "video_frames": 16, "video_size": 32, "modalities": ["rgb"], "num_frames": 4,
             "stride": 2, "size": 16, "resize": 20, "batch_size": 2}


def _pretrain_recipe(root: Path, max_steps: int) -> dict:
    return {
        "seed_everything": 0,
        "model": {"class_path": "evovideo.lightning.PretrainModule",
                  "init_args": {"student": "test_r2plus1d", "tasks": {"rgb/reconstruction": 0.5,
                                                                      "rgb/arrow_of_time": 0.5},
                                "export_dir": str(root / "student")}},
        "data": {"class_path": "evovideo.lightning.SyntheticDataModule",
                 "init_args": {"num_videos_per_class": 2, **TINY_DATA}},
        "trainer": {"accelerator": "cpu", "devices": 1, "max_steps": max_steps, "limit_val_batches": 0,
                    "logger": False, "enable_progress_bar": False, "enable_model_summary": False,
                    "default_root_dir": str(root),
                    "callbacks": [{"class_path": "pytorch_lightning.callbacks.ModelCheckpoint",
                                   "init_args": {"dirpath": str(root / "ckpt"), "every_n_train_steps": 1,
                                                 "save_last": True}}]},
    }


def _evovideo(*args: str, cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "evovideo.cli", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _kill_when(proc: subprocess.Popen, ready, delay: float, timeout: float = 240.0) -> bool:
    """kill -9 ``proc`` ``delay`` seconds after ``ready()`` first holds; False if it ended first."""
    end = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None:
            return False
        assert time.monotonic() < end, "the run never reached the kill point"
        time.sleep(0.05)
    time.sleep(delay)
    if proc.poll() is not None:
        return False
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return True


def _finish(proc: subprocess.Popen) -> str:
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out[-4000:]
    return out


@pytest.mark.slow
@pytest.mark.timeout(400)
@pytest.mark.parametrize("seed", [0, 1])
def test_kill9_during_pretraining_resumes_and_finishes(tmp_path, seed):
    rng = random.Random(seed)
    max_steps = 40
    kill_after = rng.randrange(1, max_steps // 2)  # a checkpoint of this step exists, then a random instant
    (tmp_path / "fit.yaml").write_text(yaml.safe_dump(_pretrain_recipe(tmp_path, max_steps)))
    proc = _evovideo("fit", "-c", "fit.yaml", cwd=tmp_path)
    ckpts = tmp_path / "ckpt"
    killed = _kill_when(proc, lambda: any(int(p.stem.rpartition("=")[2]) >= kill_after
                                          for p in ckpts.glob("epoch=*-step=*.ckpt")), delay=rng.uniform(0.0, 0.5))
    if not killed:
        pytest.skip("the run finished before the kill point (a very fast machine)")
    last = ckpts / "last.ckpt"
    assert last.is_file()
    step = torch.load(last, map_location="cpu", weights_only=False)["global_step"]  # loadable: not torn
    assert kill_after <= step < max_steps  # nothing finished before the kill is lost
    _finish(_evovideo("fit", "-c", "fit.yaml", "--ckpt_path", str(last), cwd=tmp_path))
    assert torch.load(last, map_location="cpu", weights_only=False)["global_step"] == max_steps
    assert (tmp_path / "student" / "model.safetensors").is_file()


@pytest.mark.slow
@pytest.mark.timeout(500)
@pytest.mark.parametrize("seed", [0, 1])
def test_kill9_during_evolution_loses_and_repeats_nothing(tmp_path, seed):
    rng = random.Random(seed)
    pretrain = _pretrain_recipe(tmp_path, 100)
    pretrain["trainer"].pop("callbacks")
    pretrain["trainer"]["enable_checkpointing"] = False
    (tmp_path / "pretrain.yaml").write_text(yaml.safe_dump(pretrain))
    recipe = {"pretrain": "pretrain.yaml", "population": 2, "tournament": 2, "generations": 2, "budget": 2,
              "seed": 0, "fitness": {"name": "zipf", "args": {"k": 3},
                                     "data": {"class_path": "evovideo.lightning.SyntheticDataModule",
                                              "init_args": {"num_videos_per_class": 2, **TINY_DATA}}},
              "out": "out"}
    (tmp_path / "evolve.yaml").write_text(yaml.safe_dump(recipe))
    results = tmp_path / "out" / "results.jsonl"

    def finished() -> list[str]:
        try:
            return results.read_text().splitlines()[1:]
        except FileNotFoundError:
            return []

    kill_after = rng.randrange(0, 3)  # candidates finished before the kill
    proc = _evovideo("evolve", "-c", "evolve.yaml", "--no-plots", cwd=tmp_path)
    killed = _kill_when(proc, lambda: results.exists() and len(finished()) >= kill_after,
                        delay=rng.uniform(0.0, 2.0))
    if not killed:
        pytest.skip("the search finished before the kill point (a very fast machine)")
    before = finished()
    out = _finish(_evovideo("evolve", "-c", "evolve.yaml", "--no-plots", cwd=tmp_path))
    after = finished()
    assert after[: len(before)] == before  # every line finished before the kill is kept, byte for byte
    ids = [json.loads(line)["id"] for line in after]
    assert ids == ["g000c000", "g000c001", "g001c000", "g001c001"]  # none lost, none repeated
    assert f"continuing: {len(before)} of 4" in out or not before
    assert (tmp_path / "out" / "best_pretrain.yaml").is_file()
