"""Videos from a pytorchvideo pipeline, loaded by evovideo's clip path.

A user whose data is already a pytorchvideo ``LabeledVideoDataset`` (``Kinetics``, ``Ucf101``,
``Hmdb51``, ``labeled_video_dataset(...)``), a ``LabeledVideoPaths`` or plain
``labeled_video_paths`` pairs ``(path, {"label": y})`` keeps it: this DataModule takes those
videos and reads them with evovideo's decoders, clip samplers and sample builder (the clip
contract, flow, audio), so pretraining and fine-tuning see what evovideo's own modules give::

    from pytorchvideo.data import Kinetics, make_clip_sampler
    train = Kinetics("/data/k400/train.csv", make_clip_sampler("random", 2.0), decode_audio=False)
    dm = PytorchvideoDataModule(train=train, val=[("/data/v/a.mp4", {"label": 3})],
                                clip=encoder.input_config.clip, modalities=["rgb", "flow"])

Only the video list and labels are taken from pytorchvideo; its decoder, clip sampler and
transforms are not used (``evovideo bench data`` times its stock path beside ours).
"""
from __future__ import annotations

from typing import Any, Iterable

from evovideo.data import ClipDataset, VideoRecord
from evovideo.lightning.datamodules import VideoDataModule

FOLDS = ("train", "val", "test")


def records_from_pytorchvideo(source: Any) -> list[VideoRecord]:
    """``VideoRecord``s of a pytorchvideo ``LabeledVideoDataset``, ``LabeledVideoPaths`` or an
    iterable of ``(path, {"label": y})`` / ``(path, y)`` pairs (no label: -1)."""
    source = getattr(source, "_labeled_videos", source)  # a LabeledVideoDataset holds its LabeledVideoPaths
    items: Iterable = (source[i] for i in range(len(source))) if hasattr(source, "__getitem__") else source
    records = []
    for item in items:
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise TypeError(f"expected (path, {{'label': y}}) pairs as pytorchvideo's labeled_video_paths, got {item!r}")
        path, info = item
        label = info.get("label") if isinstance(info, dict) else info
        records.append(VideoRecord(str(path), -1 if label is None else int(label)))
    return records


class PytorchvideoDataModule(VideoDataModule):
    """``train`` / ``val`` / ``test``: a pytorchvideo ``LabeledVideoDataset``, ``LabeledVideoPaths``
    or ``[(path, {"label": y}), ...]``; None leaves the fold out.  Every other argument is
    ``VideoDataModule``'s (the clip contract, modalities, loader, flow cache, ...)."""

    dataset_name = "pytorchvideo"

    def __init__(self, train: Any = None, val: Any = None, test: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sources = {fold: src for fold, src in zip(FOLDS, (train, val, test)) if src is not None}
        if not self.sources:
            raise ValueError("PytorchvideoDataModule needs train, val or test videos "
                             "(a LabeledVideoDataset, LabeledVideoPaths or (path, {'label': y}) pairs)")

    @property
    def has_validation(self) -> bool:
        return "val" in self.sources

    def class_count(self) -> int | None:
        labels = {r.label for r in records_from_pytorchvideo(self.sources.get("train", []))} - {-1}
        return max(labels) + 1 if labels else None

    def make_dataset(self, fold: str) -> ClipDataset:
        if fold not in self.sources:
            raise ValueError(f"no '{fold}' videos: pass {fold}=... to PytorchvideoDataModule")
        clips = {"train": 1, "val": self.val_clips, "test": self.test_clips}[fold]
        crops = self.test_crops if fold == "test" else 1
        return ClipDataset(records_from_pytorchvideo(self.sources[fold]), self.builder(fold), train=fold == "train",
                           clips_per_video=clips, crops_per_video=crops, backend=self.backend)
