"""Seeded, resumable train sampling; the horizontal-flip option; the decoder backend fallback."""
from __future__ import annotations

import logging
import random
import sys

import pytest
import torch

from evovideo.clip import ClipSpec
from evovideo.data import ClipDataset, SampleBuilder, VideoRecord
from evovideo.data.dataset import EpochSampler, SampleKey, resolve_backend
from evovideo.data.decode import DecodedVideo, MemoryReader, PyAVReader, torchcodec_status
from evovideo.lightning import SyntheticDataModule, UCF101DataModule

from data_layouts import SMALL

TINY = dict(num_videos_per_class=5, num_classes=2, video_frames=16, video_size=32, num_frames=4, size=24,
            resize=32, batch_size=2, sample_seed=3)  # 6 train videos -> 3 batches per epoch


def _synthetic(**kw) -> SyntheticDataModule:
    dm = SyntheticDataModule(**{**TINY, "modalities": ["rgb", "audio"], "audio_shift": 0.25, **kw})
    dm.setup("fit")
    return dm


def _same(a: list[dict], b: list[dict]) -> bool:
    keys = [k for k in ("rgb", "audio_shifted", "audio_shift", "video_index") if k in a[0]]
    return len(a) == len(b) and all(torch.equal(x[k], y[k]) for x, y in zip(a, b) for k in keys)


@pytest.mark.parametrize("num_workers", [0, 2])
def test_train_loader_resumes_mid_epoch(num_workers):
    """Stopped after 2 of 3 batches of epoch 1 and restored into a fresh data module: the rest of
    the epoch is what the uninterrupted loader gave (order and every random draw)."""
    full_loader = _synthetic(num_workers=num_workers).train_dataloader()
    assert len(full_loader) == 3
    full_loader.sampler.set_epoch(1)
    full = list(full_loader)

    first = _synthetic(num_workers=num_workers).train_dataloader()
    first.sampler.set_epoch(1)
    it = iter(first)
    head = [next(it), next(it)]
    state = first.state_dict()
    assert state == {"epoch": 1, "batches": 2}

    resumed = _synthetic(num_workers=num_workers).train_dataloader()
    resumed.load_state_dict(state)
    tail = list(resumed)
    assert len(tail) == 1 and _same(head + tail, full)
    assert resumed.state_dict() == {"epoch": 2, "batches": 0}  # the epoch is over: next one from its start
    assert resumed.sampler.epoch == 2  # a complete pass moves on (Lightning also calls set_epoch)
    again = list(resumed)  # a whole epoch again (the skip applies once)
    assert len(again) == 3 and not _same(again, full)


def test_train_draws_depend_on_seed_epoch_index_only():
    ds = _synthetic().dataset("train")
    random.seed(1)
    torch.manual_seed(1)
    a = ds[SampleKey(2, epoch=0, seed=3)]
    random.seed(2)
    torch.manual_seed(2)
    b = ds[SampleKey(2, epoch=0, seed=3)]
    assert torch.equal(a["rgb"], b["rgb"]) and torch.equal(a["audio_shifted"], b["audio_shifted"])
    other = [ds[SampleKey(2, epoch=1, seed=3)], ds[SampleKey(2, epoch=0, seed=4)]]
    assert all(not torch.equal(a["rgb"], o["rgb"]) for o in other)  # new epoch / seed: a new clip
    assert torch.equal(ds[2]["rgb"], ds[SampleKey(2, 0, 0)]["rgb"])  # plain int = epoch 0, seed 0


def test_epoch_sampler_order_and_rank_shares():
    data = list(range(10))
    orders = [[k.index for k in EpochSampler(data, seed=0)] for _ in range(2)]
    assert orders[0] == orders[1] and sorted(orders[0]) == data
    s = EpochSampler(data, seed=0)
    s.set_epoch(1)
    assert [k.index for k in s] != orders[0]
    shares = [[k.index for k in EpochSampler(data, seed=0, num_replicas=2, rank=r)] for r in range(2)]
    assert sorted(shares[0] + shares[1]) == data
    assert {k.seed for k in EpochSampler(data, seed=7)} == {7}


def _asymmetric_video() -> DecodedVideo:
    frames = torch.zeros(8, 16, 16, 3, dtype=torch.uint8)
    frames[:, :, :4] = 255  # a bright stripe on the left
    return DecodedVideo(frames, 8.0, None, None)


@pytest.mark.parametrize("hflip", [True, False])
def test_hflip_option(hflip):
    builder = SampleBuilder(ClipSpec(num_frames=2, stride=1, frame_rate=8.0, size=16, resize=16, mean=(0, 0, 0), std=(1, 1, 1)),
                            train=True, hflip=hflip)
    video = _asymmetric_video()
    left_bright = [bool(builder.build(MemoryReader(video), 0.0, 0, random.Random(i))["rgb"][0, 0, :, 0].mean() > 0.5)
                   for i in range(16)]
    if hflip:
        assert 0 < left_bright.count(False) < 16  # some clips mirrored, not all
    else:
        assert all(left_bright)


def test_datamodule_hflip_defaults():
    """The synthetic motions are not mirror-invariant: SyntheticDataModule never flips by default;
    the same draws with hflip=True do flip some clips (and only flip)."""
    assert UCF101DataModule(root="unused").builder("train").crop.hflip is True
    plain, flipping = _synthetic(modalities=["rgb"]), _synthetic(modalities=["rgb"], hflip=True)
    assert plain.builder("train").crop.hflip is False
    a = [plain.dataset("train")[SampleKey(i, 0, 3)]["rgb"] for i in range(6)]
    b = [flipping.dataset("train")[SampleKey(i, 0, 3)]["rgb"] for i in range(6)]
    assert all(torch.equal(x, y) or torch.equal(x, y.flip(-1)) for x, y in zip(a, b))
    assert any(not torch.equal(x, y) for x, y in zip(a, b))


def test_auto_backend_falls_back_to_pyav_with_one_log_line(video_bank, monkeypatch, caplog):
    """TorchCodec installed but unable to load FFmpeg (simulated: its decoders module fails to
    import): backend='auto' reads with PyAV and says so once, at INFO, however many files."""
    monkeypatch.setitem(sys.modules, "torchcodec.decoders", None)  # `import torchcodec.decoders` raises
    resolve_backend.cache_clear()
    torchcodec_status.cache_clear()
    try:
        with caplog.at_level(logging.DEBUG, logger="evovideo.data"):
            builder = SampleBuilder(ClipSpec(num_frames=2, stride=1, frame_rate=8.0, size=16, resize=20), train=False)
            records = [VideoRecord(str(video_bank[k])) for k in ("avi", "mp4", "avi_audio")]
            datasets = [ClipDataset(records, builder, train=False) for _ in range(2)]
            for ds in datasets:
                assert ds.backend == "pyav"
                assert all(ds[i]["rgb"].shape == (3, 2, 16, 16) for i in range(len(ds)))
                with ds._open(0) as reader:
                    assert isinstance(reader, PyAVReader)
        lines = [r for r in caplog.records if r.levelno >= logging.INFO]
        assert len(lines) == 1 and "PyAV" in lines[0].getMessage(), [r.getMessage() for r in lines]
    finally:
        resolve_backend.cache_clear()
        torchcodec_status.cache_clear()


def test_ucf101_train_loader_is_seeded(ucf101_root):
    """File datasets get the same seeded, resumable loader (sample_seed, else PL_GLOBAL_SEED)."""
    def batches(seed):
        dm = UCF101DataModule(root=str(ucf101_root), backend="pyav", sample_seed=seed, **SMALL)
        dm.setup("fit")
        return list(dm.train_dataloader())

    assert _same(batches(5), batches(5)) and not _same(batches(5), batches(6))
