"""Video data: official dataset layouts, clip decoding, and the sample pipeline.

Datasets are registered in ``DATASETS``; each factory takes the layout's own arguments (root,
split, fold) plus a ``SampleBuilder`` (what each sample carries) and returns a ``ClipDataset``::

    builder = SampleBuilder(ClipSpec(num_frames=8, size=112), modalities=["rgb", "flow", "audio"])
    ds = DATASETS.create("ucf101", root="/data/UCF101", split=1, fold="train", builder=builder)
    ds[0]["rgb"].shape   # (3, 8, 112, 112)
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from evovideo.clip import BatchKeys, ClipSpec
from evovideo.data.dataset import ClipDataset, InMemoryClipDataset, SkipTracker, collate
from evovideo.data.decode import (
    DecodedVideo,
    DecodeError,
    DecoderUnavailable,
    VideoInfo,
    VideoReader,
    decode_video,
    decode_window,
    open_video,
    torchcodec_available,
    torchcodec_status,
)
from evovideo.data.flow_grid import PrecomputeReport, precompute_flow, video_flow
from evovideo.data.groups import carve_validation, holdout_mask, video_group, video_groups
from evovideo.data.pipeline import SampleBuilder
from evovideo.data.samplers import CentreClipSampler, RandomClipSampler, UniformClipSampler, eval_sampler
from evovideo.data.splits import VideoRecord, parse_hmdb51, parse_kinetics, parse_ucf101, scan_folder
from evovideo.registry import Registry

DATASETS = Registry("dataset")


def _clips(records, builder: SampleBuilder, fold: str, **kw: Any) -> ClipDataset:
    kw.setdefault("train", fold == "train")
    return ClipDataset(records, builder, **kw)


def _official_fold(parse, root: str | Path, split: int, fold: str, val_fraction: float, val_seed: int) -> list:
    """test: the official test list; train/val: the official training list, minus / only the
    source-video groups held out for validation (``val_fraction`` of it; 0: no validation)."""
    if fold == "test":
        return parse(root, split, "test")[0]
    train = parse(root, split, "train")[0]
    if val_fraction <= 0:
        if fold == "val":
            parse(root, split, "val")  # raises: names the way out
        return train
    carved_train, val = carve_validation(train, val_fraction, val_seed)
    return carved_train if fold == "train" else val


@DATASETS.register("ucf101", labeled=True, num_classes=101)
def ucf101(root: str | Path, builder: SampleBuilder, split: int = 1, fold: str = "train", val_fraction: float = 0.0,
           val_seed: int = 0, **kw: Any) -> ClipDataset:
    """UCF101 from its official layout (``ucfTrainTestlist/``), split 1-3; val is carved from the
    training list by group ``gXX`` (``val_fraction``), never the test list."""
    return _clips(_official_fold(parse_ucf101, root, split, fold, val_fraction, val_seed), builder, fold, **kw)


@DATASETS.register("hmdb51", labeled=True, num_classes=51)
def hmdb51(root: str | Path, builder: SampleBuilder, split: int = 1, fold: str = "train", val_fraction: float = 0.0,
           val_seed: int = 0, **kw: Any) -> ClipDataset:
    """HMDB51 from its official layout (``testTrainMulti_7030_splits/``), split 1-3; val is carved
    from the training list by source video (``val_fraction``), never the test list."""
    return _clips(_official_fold(parse_hmdb51, root, split, fold, val_fraction, val_seed), builder, fold, **kw)


@DATASETS.register("kinetics", labeled=True)
def kinetics(root: str | Path, builder: SampleBuilder, split: int = 1, fold: str = "train", **kw: Any) -> ClipDataset:
    """Kinetics from CSV annotations or class folders (``split`` is ignored: one official split)."""
    return _clips(parse_kinetics(root, fold)[0], builder, fold, **kw)


@DATASETS.register("folder", labeled=False)
def folder(root: str | Path, builder: SampleBuilder, split: int = 1, fold: str = "train", **kw: Any) -> ClipDataset:
    """Every video under ``root`` (recursive), unlabeled (label -1)."""
    return _clips(scan_folder(root), builder, fold, **kw)


@DATASETS.register("synthetic", labeled=True)
def synthetic(
    builder: SampleBuilder, split: int = 1, fold: str = "train", num_videos_per_class: int = 8, num_classes: int = 10,
    video_frames: int = 32, video_size: int = 64, fps: int = 16, seed: int = 0, val_fraction: float = 0.0,
    val_seed: int = 0, long_tail: float = 0.0, audio: bool = True, video_memo_mb: float = 0, **kw: Any,
) -> InMemoryClipDataset:
    """The in-memory synthetic set (``evovideo.data.synthetic``), UCF101-style group splits:
    split k tests groups 7k-6..7k, the rest train.  ``val_fraction`` > 0 carves val from the train
    groups (for supervised selection); with 0, val is the test groups (unlabelled uses only: the
    pretraining recipes' Zipf fitness), as before.

    ``long_tail`` = s > 0 draws the fold's classes with Zipf frequencies: class c (0-based, in
    ``MOTIONS`` order) keeps its first ``max(1, round(m * (c + 1) ** -s))`` clips of the fold, m being
    the balanced per-class count (the premise of the Zipf fitness: real video is long-tailed).  The
    kept clips are the balanced set's, so a long-tailed fold is a subset of the balanced one.

    ``audio=False`` renders no audio track (the frames are the same).  ``video_memo_mb`` > 0 keeps up
    to that many MB of rendered videos in a process-wide memo (``evovideo.data.memo``, shared by the
    folds and by every dataset of the same settings): each video is rendered once per process, not
    once per clip drawn from it (every epoch, every candidate of a search)."""
    from evovideo.data.synthetic import SyntheticVideos, ucf101_split_groups

    kw.pop("root", None)
    kw.setdefault("train", fold == "train")
    ds = SyntheticVideos(num_videos_per_class, num_classes, video_frames, video_size, fps, seed=seed, audio=audio)
    test_groups = set(ucf101_split_groups(split))
    idx = [i for i in range(len(ds)) if (ds.group_clip(i)[0] in test_groups) == (fold == "test" or
                                                                         (fold == "val" and val_fraction <= 0))]
    if val_fraction > 0 and fold != "test":
        held = holdout_mask([f"g{ds.group_clip(i)[0]:02d}" for i in idx], val_fraction, val_seed)
        idx = [i for i, h in zip(idx, held) if h == (fold == "val")]
    if long_tail < 0:
        raise ValueError(f"long_tail={long_tail}: the Zipf exponent of the class frequencies must be >= 0 (0 = balanced)")
    if long_tail > 0:
        idx = long_tailed(idx, [ds.label(i) for i in idx], long_tail)
    tag = f"synthetic(seed={seed},T={video_frames},size={video_size},fps={fps})"
    videos = _Rendered(ds, video_memo_mb) if video_memo_mb > 0 else ds
    return InMemoryClipDataset(
        _Subset(videos, idx), builder, labels=[ds.label(i) for i in idx], names=[f"{tag}/{ds.name(i)}" for i in idx], **kw
    )


def long_tailed(indices: list[int], labels: list[int], s: float) -> list[int]:
    """The first ``max(1, round(m * (c + 1) ** -s))`` items of each class c of a balanced list
    (m = the largest class's count): class frequencies follow Zipf's law with exponent ``s``."""
    per_class: dict[int, list[int]] = {}
    for i, y in zip(indices, labels):
        per_class.setdefault(y, []).append(i)
    m = max(len(v) for v in per_class.values())
    keep = {y: max(1, round(m * (y + 1) ** -s)) for y in per_class}
    return [i for y, items in sorted(per_class.items()) for i in items[: keep[y]]]


class _Rendered:
    """The items of a ``SyntheticVideos``, each rendered once per process (a shared ``SampleMemo`` keyed by
    the set's settings) and handed out again as the same tensors; readers index them, never write."""

    def __init__(self, data, max_mb: float) -> None:
        from evovideo.data.memo import SampleMemo
        from evovideo.data.synthetic import RENDER_VERSION

        self.data = data
        ident = dict(render=RENDER_VERSION, seed=data.seed, stream=data.stream, classes=data.num_classes,
                     per_class=data.num_videos_per_class, frames=data.num_frames, size=data.size, fps=data.fps,
                     noise=data.noise, audio=data.audio, sample_rate=data.sample_rate)
        self.memo = SampleMemo.shared("rendered " + json.dumps(ident, sort_keys=True), max_mb)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, i: int):
        def render() -> dict[str, Any]:
            video, label = self.data[i]
            return {"frames": video.frames, "audio": video.audio, "label": label}

        item = self.memo.get_or_build(i, render)
        sample_rate = self.data.sample_rate if item["audio"] is not None else None
        return DecodedVideo(item["frames"], float(self.data.fps), item["audio"], sample_rate), item["label"]


class _Subset:
    def __init__(self, data, indices: list[int]) -> None:
        self.data, self.indices = data, indices

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int):
        return self.data[self.indices[i]]


__all__ = [
    "PrecomputeReport",
    "precompute_flow",
    "video_flow",
    "DATASETS",
    "ClipDataset",
    "BatchKeys",
    "CentreClipSampler",
    "ClipSpec",
    "RandomClipSampler",
    "UniformClipSampler",
    "eval_sampler",
    "DecodeError",
    "DecodedVideo",
    "InMemoryClipDataset",
    "SampleBuilder",
    "SkipTracker",
    "VideoInfo",
    "VideoReader",
    "VideoRecord",
    "carve_validation",
    "collate",
    "decode_video",
    "decode_window",
    "open_video",
    "parse_hmdb51",
    "parse_kinetics",
    "parse_ucf101",
    "scan_folder",
    "torchcodec_available",
    "torchcodec_status",
    "DecoderUnavailable",
    "video_group",
    "video_groups",
]
