"""Every modality of the batch contract, from one decode; the flow cache; log-mel."""
from __future__ import annotations

import math

import pytest
import torch

from evovideo.clip import ClipSpec
from evovideo.data import ClipDataset, SampleBuilder, VideoRecord, open_video
from evovideo.lightning import SyntheticDataModule, UCF101DataModule
from evovideo.modalities import FlowCache, FlowGrid, FlowSettings, log_mel, num_audio_frames

from data_layouts import BACKENDS, SMALL

ALL = ["rgb", "gray", "flow", "audio"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_batch_has_every_modality(ucf101_root, tmp_path, backend):
    dm = UCF101DataModule(root=str(ucf101_root), modalities=ALL, future_frames=2, audio_shift=0.25, backend=backend,
                          flow_method="farneback", flow_cache_dir=str(tmp_path / "flow"), n_mels=16, **SMALL)
    dm.setup("fit")
    b = next(iter(dm.train_dataloader()))
    B, T, S = 2, 4, 16
    A = num_audio_frames(int(round(0.5 * 16000)), 10.0, 16000)  # 4 frames / 8 fps = 0.5 s
    assert b["rgb"].shape == (B, 3, T, S, S) and b["rgb"].dtype == torch.float32
    assert b["gray"].shape == (B, 1, T, S, S)
    assert b["flow"].shape == (B, 2, T, S, S) and b["flow"].abs().max() <= 1.0
    assert b["flow"].abs().mean() > 0  # the square moves
    assert b["rgb_future"].shape == (B, 3, 2, S, S)
    assert b["audio"].shape == (B, 1, 16, A) and b["audio_shifted"].shape == (B, 1, 16, A)
    assert b["has_audio"].dtype == torch.bool
    assert b["label"].dtype == torch.int64 and b["video_index"].dtype == torch.int64
    assert len(b["video_name"]) == B
    assert set(b) <= dm.batch_keys
    # a silent file: zeros and has_audio False; a file with audio: a real spectrogram
    ds = dm.dataset("train")
    for i, rec in enumerate(ds.records):
        s = ds[i]
        with open_video(rec.path, backend) as r:
            assert bool(s["has_audio"]) == r.info.has_audio
        if not r.info.has_audio:
            assert torch.all(s["audio"] == s["audio"].flatten()[0]) and s["audio"].max() < -3  # silence, not loud zeros
        else:
            assert s["audio"].std() > 0 and not torch.equal(s["audio"], s["audio_shifted"])


def test_future_frames_follow_the_clip(video_bank):
    """rgb_future continues rgb: with stride 1 and no crop randomness its first frame is the next frame."""
    builder = SampleBuilder(ClipSpec(num_frames=3, stride=1, frame_rate=8.0, size=20, resize=20, mean=(0, 0, 0), std=(1, 1, 1)),
                            future_frames=2, train=False)
    ds = ClipDataset([VideoRecord(str(video_bank["avi"]))], builder, train=False)
    s = ds[0]
    full = ClipDataset([VideoRecord(str(video_bank["avi"]))],
                       SampleBuilder(ClipSpec(num_frames=5, stride=1, frame_rate=8.0, size=20, resize=20, mean=(0, 0, 0), std=(1, 1, 1)),
                                     train=False), train=False)[0]
    assert torch.allclose(torch.cat([s["rgb"], s["rgb_future"]], dim=1), full["rgb"])


def test_flow_cache_one_entry_per_video_and_key(video_bank, tmp_path):
    """One file per (video, grid, settings); a clip at any grid start reads it; any setting
    change is a new key; the clip's start time is not part of the key."""
    rec = [VideoRecord(str(video_bank["mp4"]))]

    def builder(**kw):
        return SampleBuilder(ClipSpec(num_frames=3, stride=1, frame_rate=8.0, size=16, resize=16),
                             modalities=["flow"], train=False, flow_cache_dir=tmp_path, **kw)

    b1 = builder(flow=FlowSettings("tvl1"))
    ds = ClipDataset(rec, b1, train=False, clips_per_video=3, backend="pyav")
    first = ds[0]["flow"]
    assert (b1.flow_cache.misses, b1.flow_cache.hits) == (1, 0)
    assert torch.equal(first, ds[0]["flow"])
    ds[1], ds[2]  # other starts of the same video: the same entry
    assert (b1.flow_cache.misses, b1.flow_cache.hits) == (1, 3)
    assert len(sorted(tmp_path.rglob("*.npy"))) == 1
    # the cached slice is the clip's own flow (quantised to 1/127)
    plain = SampleBuilder(ClipSpec(num_frames=3, stride=1, frame_rate=8.0, size=16, resize=16),
                          modalities=["flow"], train=False, flow=FlowSettings("tvl1"))
    for i in range(3):
        direct = ClipDataset(rec, plain, train=False, clips_per_video=3, backend="pyav")
        start = ds.builder.align(float(torch.linspace(0, 1, 3)[i]))  # any grid start
        with open_video(rec[0].path, "pyav") as r:
            cached = ds.builder.build(r, start)["flow"]
            ref = direct.builder.build(r, start)["flow"]
        assert (cached - ref).abs().max() <= 0.5 / 127 + 1e-6
    for kw in (dict(flow=FlowSettings("farneback")), dict(flow=FlowSettings("tvl1", bound=10.0))):
        b = builder(**kw)
        ClipDataset(rec, b, train=False, backend="pyav")[0]
        assert b.flow_cache.misses == 1 and b.flow_cache.hits == 0
    b = SampleBuilder(ClipSpec(num_frames=2, stride=1, frame_rate=8.0, size=16, resize=16),
                      modalities=["flow"], train=False, flow_cache_dir=tmp_path, flow=FlowSettings("tvl1"))
    ClipDataset(rec, b, train=False, backend="pyav")[0]
    assert b.flow_cache.hits == 1  # fewer frames per clip: same grid, same entry
    assert len(sorted(tmp_path.rglob("*.npy"))) == 3
    grid = FlowGrid(0.125, 16)
    key = FlowCache.key(rec[0].path, grid, FlowSettings("dis"))
    assert key != FlowCache.key(rec[0].path, FlowGrid(0.125, 18), FlowSettings("dis"))
    assert key != FlowCache.key(rec[0].path, FlowGrid(0.25, 16), FlowSettings("dis"))


def test_train_starts_lie_on_the_flow_grid_only_with_a_cache(tmp_path):
    kw = dict(modalities=["rgb", "flow"], clip=ClipSpec(num_frames=4, stride=2, frame_rate=25.0, size=16))
    cached = SampleBuilder(flow_cache_dir=tmp_path, **kw)
    assert cached.align(0.0) == 0.0 and cached.align(0.17) == pytest.approx(0.16) and cached.align(0.16) == pytest.approx(0.16)
    assert SampleBuilder(**kw).align(0.17) == 0.17
    assert SampleBuilder(flow_cache_dir=tmp_path, **{**kw, "modalities": ["rgb"]}).align(0.17) == 0.17


def test_flow_flip_negates_x():
    from evovideo.modalities import ClipCrop

    crop = ClipCrop(4, train=False)
    flow = torch.zeros(2, 1, 4, 4)
    flow[0] = 0.5
    out = crop.apply(flow, (0, 0, True), is_flow=True)
    assert torch.all(out[0] == -0.5) and torch.all(out[1] == 0)


def test_log_mel_of_a_tone_peaks_at_its_frequency():
    sr, f = 16000, 1000.0
    wave = torch.sin(2 * math.pi * f * torch.arange(sr) / sr)[None]
    low = log_mel(torch.sin(2 * math.pi * 200.0 * torch.arange(sr) / sr)[None], sr, n_mels=32)
    high = log_mel(wave, sr, n_mels=32)
    assert high.shape == (1, 32, num_audio_frames(sr, 10.0, sr))
    assert high.mean(-1).argmax() > low.mean(-1).argmax()


def test_multiview_crops_differ(video_bank):
    builder = SampleBuilder(ClipSpec(num_frames=2, stride=1, frame_rate=8.0, size=16, resize=20),
                            train=False, num_crops=3)
    ds = ClipDataset([VideoRecord(str(video_bank["mp4"]))], builder, train=False, clips_per_video=2, crops_per_video=3)
    views = [ds[i]["rgb"] for i in range(len(ds))]
    assert len(views) == 6
    assert not torch.equal(views[0], views[2])  # left vs right crop
    assert not torch.equal(views[0], views[3])  # first vs second clip


def test_synthetic_datamodule_through_the_same_pipeline():
    dm = SyntheticDataModule(num_videos_per_class=2, num_classes=3, video_frames=16, video_size=32, num_frames=4,
                             size=24, resize=32, batch_size=3, modalities=["rgb", "gray", "audio"], future_frames=2)
    dm.setup("fit")
    b = next(iter(dm.train_dataloader()))
    assert b["rgb"].shape == (3, 3, 4, 24, 24) and b["rgb_future"].shape == (3, 3, 2, 24, 24)
    assert b["has_audio"].all() and b["audio"].std() > 0
    assert set(b["label"].tolist()) <= {0, 1, 2}
    train = {n for n in dm.dataset("train").skipped_files}
    assert not train


def test_crop_first_path_matches_resize_first(video_bank):
    """Readers that decode full size crop the region first, then resize: same picture."""
    from evovideo.data.decode import MemoryReader, decode_video

    class FullSize(MemoryReader):
        resizes_while_converting = False

    video = decode_video(video_bank["avi"], audio=False)
    builder = SampleBuilder(ClipSpec(num_frames=4, stride=1, frame_rate=8.0, size=16, resize=20),
                            future_frames=1, train=False, num_crops=3)
    for crop in range(3):
        a = builder.build(MemoryReader(video), 0.25, crop)
        b = builder.build(FullSize(video), 0.25, crop)
        assert a["rgb"].shape == b["rgb"].shape == (3, 4, 16, 16)
        assert b["rgb_future"].shape == (3, 1, 16, 16)
        assert (a["rgb"] - b["rgb"]).abs().mean() < 0.25  # normalised units (~1/4 std)


def test_log_mel_is_standardised_and_a_missing_track_is_silence():
    """Before: log-mel was not standardised (synthetic tones: mean -3.5, std 3.0) although the audio
    tower's config says so, and a clip without audio got zeros, i.e. loud (log-mel 0 = mel power 1)."""
    from evovideo.data.synthetic import SyntheticVideos
    from evovideo.modalities import silent_log_mel

    ds = SyntheticVideos(num_videos_per_class=2, num_classes=10, num_frames=16, size=32, fps=16)
    spec = torch.cat([log_mel(ds[i][0].audio, 16000).flatten() for i in range(0, 20, 2)])
    assert abs(float(spec.mean())) < 0.3 and 0.7 < float(spec.std()) < 1.3
    silent = silent_log_mel(16000, 16000)
    assert torch.allclose(silent, log_mel(torch.zeros(1, 16000), 16000))  # silence, as a silent track would give
    assert float(silent.max()) < float(spec.quantile(0.05))
