"""`evovideo flow precompute`: every video once, in parallel, resumable; then every clip hits."""
from __future__ import annotations

import pytest

from evovideo.cli import main
from evovideo.data.flow_grid import precompute_flow
from evovideo.lightning import SyntheticDataModule

TINY = dict(num_videos_per_class=3, num_classes=3, video_frames=16, video_size=24, fps=8, num_frames=4, stride=2,
            size=16, resize=16, batch_size=2, flow_method="farneback", modalities=["rgb", "flow"])


def _dm(cache, **kw) -> SyntheticDataModule:
    dm = SyntheticDataModule(flow_cache_dir=str(cache), **{**TINY, **kw})
    dm.setup("fit")
    return dm


@pytest.mark.timeout(180)
def test_precompute_then_every_train_sample_hits(tmp_path):
    cache = tmp_path / "flow"
    ds = _dm(cache).dataset("train")
    report = precompute_flow(ds, workers=2)
    n = len(ds.records)
    assert (report.videos, report.computed, report.already, report.failed) == (n, n, 0, [])
    assert len(list(cache.rglob("*.npy"))) == n
    dm = _dm(cache, sample_seed=3)
    for _epoch in range(3):  # random starts (on the grid) in every epoch: always a hit
        for _ in dm.train_dataloader():
            pass
    c = dm.dataset("train").builder.flow_cache
    assert (c.hits, c.misses) == (3 * (n // 2 * 2), 0)


def test_precompute_resumes_and_respects_the_size_limit(tmp_path, caplog):
    cache = tmp_path / "flow"
    ds = _dm(cache).dataset("train")
    precompute_flow(ds)
    files = sorted(cache.rglob("*.npy"))
    files[0].unlink()
    files[1].write_bytes(b"")  # a torn file from a killed run is redone too
    again = precompute_flow(_dm(cache).dataset("train"))
    assert (again.computed, again.already) == (2, len(files) - 2)
    small = precompute_flow(_dm(tmp_path / "small", flow_cache_max_gb=files[2].stat().st_size * 1.5 / 1e9)
                            .dataset("train"))
    assert small.computed == 1 and len(small.failed) == len(files) - 1
    assert "at its limit" in caplog.text


def test_flow_precompute_command(tmp_path, capsys):
    out = tmp_path / "flow"
    argv = ["flow", "precompute", "--dataset", "synthetic", "--out", str(out), "--workers", "1", "--stride", "2",
            "--size", "16", "--resize", "16", "--method", "farneback"]
    assert main(argv) == 0
    first = capsys.readouterr()
    assert "computed" in first.out and "videos" in first.err  # the progress bar goes to stderr
    assert main(argv) == 0
    assert " 0 computed" in capsys.readouterr().out


def test_flow_precompute_refuses_a_recipe_without_a_video_datamodule(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("data: {class_path: os.system, init_args: {command: 'touch x'}}\n")
    with pytest.raises(SystemExit, match="not an evovideo VideoDataModule"):
        main(["flow", "precompute", "-c", str(recipe), "--out", str(tmp_path / "f")])
    assert not (tmp_path / "x").exists()
