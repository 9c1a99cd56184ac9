"""The flow cache is an optimisation, never a failure (issue 17 item 2), and counts right."""
from __future__ import annotations

import logging
import os
import stat

import pytest
import torch

from evovideo.lightning import SyntheticDataModule

TINY = dict(num_videos_per_class=3, num_classes=2, video_frames=16, video_size=24, fps=8, num_frames=4, stride=1,
            size=16, resize=16, batch_size=2, flow_method="farneback")


def _dm(cache, **kw) -> SyntheticDataModule:
    dm = SyntheticDataModule(modalities=["rgb", "flow"], flow_cache_dir=str(cache), **{**TINY, **kw})
    dm.setup("fit")
    return dm


def _cache_files(cache) -> list:
    return sorted(p for p in cache.rglob("*") if p.is_file())


def test_read_only_cache_dir_warns_once_and_bypasses(tmp_path, caplog, monkeypatch):
    cache = tmp_path / "ro"
    cache.mkdir()
    cache.chmod(stat.S_IRUSR | stat.S_IXUSR)
    if os.access(cache, os.W_OK):  # root ignores the mode bits: refuse the temp file as a read-only folder would
        import tempfile

        real = tempfile.mkstemp

        def refuse(*args, dir=None, **kwargs):
            if dir is not None and str(cache) in str(dir):
                raise PermissionError(13, "Permission denied", str(dir))
            return real(*args, dir=dir, **kwargs)

        monkeypatch.setattr(tempfile, "mkstemp", refuse)
    try:
        ds = _dm(cache).dataset("train")
        with caplog.at_level(logging.WARNING, logger="evovideo"):
            flows = [ds[i]["flow"] for i in range(len(ds))] + [ds[0]["flow"]]
    finally:
        cache.chmod(stat.S_IRWXU)
    assert all(f.shape == (2, 4, 16, 16) for f in flows)
    warnings = [r for r in caplog.records if "flow cache" in r.getMessage()]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert str(cache) in warnings[0].getMessage()


def test_unwritable_home_default_cache_bypasses(tmp_path, monkeypatch):
    """The default lives under HOME; a cache folder whose parent cannot be created never crashes."""
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    ds = _dm(blocker / "evovideo" / "flow").dataset("train")
    assert ds[0]["flow"].shape == (2, 4, 16, 16)


@pytest.mark.parametrize("damage", ["empty", "torn"])
def test_damaged_cache_file_is_recomputed(tmp_path, caplog, damage):
    cache = tmp_path / "flow"
    ds = _dm(cache).dataset("train")
    clean = ds[0]["flow"]
    files = _cache_files(cache)
    assert files
    for f in files:
        data = f.read_bytes()
        f.write_bytes(b"" if damage == "empty" else data[: len(data) // 2])
    ds2 = _dm(cache).dataset("train")
    with caplog.at_level(logging.WARNING, logger="evovideo"):
        again = ds2[0]["flow"]
    assert torch.equal(again, clean)
    assert any("recomput" in r.getMessage() for r in caplog.records)
    third = _dm(cache).dataset("train")  # the file was rewritten whole: a clean hit now
    assert torch.equal(third[0]["flow"], clean)
    assert third.builder.flow_cache.hits == 1 and third.builder.flow_cache.misses == 0


def test_cache_files_get_normal_permissions(tmp_path):
    cache = tmp_path / "flow"
    old = os.umask(0o022)
    try:
        _dm(cache).dataset("train")[0]
    finally:
        os.umask(old)
    files = _cache_files(cache)
    assert files and all(stat.S_IMODE(f.stat().st_mode) == 0o644 for f in files)


def test_store_fsyncs_before_replace(tmp_path, monkeypatch):
    calls: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (calls.append("replace"), real_replace(a, b))[1])
    _dm(tmp_path / "flow").dataset("train")[0]
    assert "replace" in calls and "fsync" in calls[: calls.index("replace")]


@pytest.mark.timeout(120)
def test_hit_and_miss_counters_include_loader_workers(tmp_path):
    dm = _dm(tmp_path / "flow", num_workers=2)
    n = len(dm.dataset("train"))
    for _ in dm.train_dataloader():
        pass
    cache = dm.dataset("train").builder.flow_cache
    assert cache.misses > 0 and cache.hits + cache.misses == n
    for _ in dm.train_dataloader():
        pass
    assert cache.hits + cache.misses == 2 * n
