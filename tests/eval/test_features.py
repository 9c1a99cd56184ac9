"""Feature extraction: views averaged per video, cached on disk, key follows weights/data/preprocessing."""
from __future__ import annotations

import torch

from evovideo.eval.features import FeatureSet, cached_features, extract_features, feature_cache_key
from evovideo.factory import create_model


def _batches(n_videos=6, views=2, batch_size=4):
    gen = torch.Generator().manual_seed(0)
    rows = [(v, c) for v in range(n_videos) for c in range(views)]
    clips = torch.randn(len(rows), 3, 8, 32, 32, generator=gen)
    out = []
    for s in range(0, len(rows), batch_size):
        chunk = rows[s : s + batch_size]
        out.append({
            "rgb": clips[s : s + batch_size],
            "video_index": torch.tensor([v for v, _ in chunk]),
            "label": torch.tensor([v % 3 for v, _ in chunk]),
            "video_name": [f"vid{v}" for v, _ in chunk],
        })
    return out, clips


def test_extract_averages_views_per_video():
    enc = create_model("test_r2plus1d")
    batches, clips = _batches()
    fs = extract_features(enc, batches, progress=False)
    assert fs.features.shape == (6, enc.num_features)
    assert fs.labels.tolist() == [0, 1, 2, 0, 1, 2] and fs.names[2] == "vid2"
    enc.eval()
    with torch.no_grad():
        expected = enc(clips[4:6]).mean(0)  # the two views of video 2
    assert torch.allclose(fs.features[2], expected, atol=1e-5)
    enc.reset_classifier(7)  # a classifier head is bypassed: still pooled features
    assert torch.allclose(extract_features(enc, batches, progress=False).features, fs.features, atol=1e-5)


def test_cache_hit_and_key(tmp_path):
    enc = create_model("test_r2plus1d")
    batches, _ = _batches()
    key = feature_cache_key(enc, data={"dataset": "toy", "files": "abc"}, preprocessing={"frames": 8})
    calls = []

    def compute() -> FeatureSet:
        calls.append(1)
        return extract_features(enc, batches, progress=False)

    first = cached_features(tmp_path, key, compute)
    second = cached_features(tmp_path, key, compute)
    assert len(calls) == 1 and first.meta["cache"] == "miss" and second.meta["cache"] == "hit"
    assert torch.equal(first.features, second.features) and first.names == second.names
    assert key == feature_cache_key(enc, data={"files": "abc", "dataset": "toy"}, preprocessing={"frames": 8})
    assert key != feature_cache_key(enc, data={"dataset": "toy", "files": "abd"}, preprocessing={"frames": 8})
    assert key != feature_cache_key(enc, data={"dataset": "toy", "files": "abc"}, preprocessing={"frames": 16})
    with torch.no_grad():
        next(enc.parameters()).add_(1e-3)
    assert key != feature_cache_key(enc, data={"dataset": "toy", "files": "abc"}, preprocessing={"frames": 8})
    (tmp_path / f"{key}.pt").write_bytes(b"garbage")  # a damaged entry is recomputed
    assert cached_features(tmp_path, key, compute).meta["cache"] == "miss" and len(calls) == 2


def test_synthetic_cache_key_follows_the_renderer_version(monkeypatch):
    """Features cached for one version of the synthetic renderer are never reused for another."""
    import evovideo.data.synthetic as synthetic
    from evovideo.data.synthetic import SyntheticVideos
    from evovideo.eval.videos import labelled_videos
    from evovideo.factory import create_model

    encoder = create_model("test_r2plus1d")
    tiny = SyntheticVideos(num_videos_per_class=2, num_classes=2, num_frames=16, size=32)
    before = labelled_videos("synthetic", encoder, synthetic=tiny).key
    monkeypatch.setattr(synthetic, "RENDER_VERSION", synthetic.RENDER_VERSION + 1)
    after = labelled_videos("synthetic", encoder, synthetic=tiny).key
    assert before != after and before["data"]["render_version"] + 1 == after["data"]["render_version"]
