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
from evovideo.models import create_model

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
