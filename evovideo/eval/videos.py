"""Labelled videos for frozen-feature evaluation, in the preprocessing an encoder expects.

    src = labelled_videos("hmdb51", encoder, root="/data/HMDB51", split=1)
    src.dataset      # ClipDataset: clips x crops views per video, eval mode (centre window and crop for 1 x 1)
    src.class_names  # names of label 0..C-1
    src.key          # what identifies the data + preprocessing (for the feature cache key)

Datasets: ``ucf101`` / ``hmdb51`` (official layouts; every video of every class, train and test
lists of ``split`` together: few-shot episodes choose their own support and query),
``class-folders`` (``root/<class>/**/<video>``: the class is the first folder below ``root``; an
unlabeled folder of videos is ``folder`` in ``evovideo zipf`` and the DataModules), and
``synthetic`` (the built-in motion classes of ``evovideo.data.synthetic``, rendered from its
evaluation seed stream, so never a pretraining clip; no files needed).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from torch.utils.data import DataLoader, Dataset, Subset

from evovideo.data import ClipDataset, InMemoryClipDataset, SampleBuilder, collate, eval_sampler
from evovideo.data.splits import VideoRecord, hmdb51_every_clip, parse_hmdb51, parse_ucf101, scan_folder
from evovideo.eval.features import files_digest
from evovideo.models.base import Encoder

EVAL_DATASETS = ("ucf101", "hmdb51", "class-folders", "synthetic")


@dataclass
class LabelledVideos:
    dataset: ClipDataset
    class_names: list[str]
    key: dict

    def loader(self, batch_size: int = 8, num_workers: int = 0) -> DataLoader:
        return DataLoader(self.dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers,
                          collate_fn=collate)


def dataset_records(dataset: str, root: str | Path, split: int = 1,
                    every_clip: bool = False) -> tuple[list[VideoRecord], list[str]]:
    """Every labelled video of ``dataset`` under ``root`` (ucf101/hmdb51: train and test lists of
    ``split`` together; class-folders: ``root/<class>/**``) and the class names.  ``every_clip``: HMDB51's
    clips that ``split`` leaves unused (tag 0) too, as the published few-shot video lists use them."""
    if dataset == "hmdb51" and every_clip:
        return hmdb51_every_clip(root, split)
    if dataset in ("ucf101", "hmdb51"):
        parse = parse_ucf101 if dataset == "ucf101" else parse_hmdb51
        train, names = parse(root, split, "train")
        test, _ = parse(root, split, "test")
        return sorted(set(train) | set(test), key=lambda r: r.path), names
    root = Path(root)
    records = []
    for r in scan_folder(root):
        rel = Path(r.path).relative_to(root)
        if len(rel.parts) < 2:
            raise ValueError(f"'{r.path}' is not inside a class folder; the class-folders dataset expects root/<class>/<video>")
        records.append(VideoRecord(r.path, -1, rel.parts[0]))
    names = sorted({r.class_name for r in records})
    index = {n: i for i, n in enumerate(names)}
    return [VideoRecord(r.path, index[r.class_name], r.class_name) for r in records], names


def dataset_classes(dataset: str, root: str | Path | None = None, split: int = 1,
                    synthetic: Dataset | None = None) -> list[str]:
    """Class names of ``dataset`` (label order), read from its split files or folders."""
    if dataset == "synthetic":
        from evovideo.data.synthetic import MOTIONS

        return list(synthetic.classes) if synthetic is not None else list(MOTIONS)
    if root is None:
        raise ValueError(f"dataset '{dataset}' needs --root (the folder holding its videos)")
    if dataset == "ucf101":
        return parse_ucf101(root, split, "test")[1]
    if dataset == "hmdb51":
        return parse_hmdb51(root, split, "test")[1]
    if dataset == "class-folders":
        return sorted({r.class_name for r in dataset_records("class-folders", root, split)[0]})
    raise ValueError(unknown_dataset(dataset))


def unknown_dataset(dataset: str) -> str:
    hint = " ('folder' is now 'class-folders': root/<class>/<video>, labelled)" if dataset == "folder" else ""
    return f"unknown dataset '{dataset}'{hint}; choose from {', '.join(EVAL_DATASETS)}"


def labelled_videos(
    dataset: str,
    encoder: Encoder,
    *,
    root: str | Path | None = None,
    split: int = 1,
    clips: int = 1,
    crops: int = 1,
    frame_rate: float | None = None,
    classes: list[str] | None = None,
    synthetic: Dataset | None = None,
    video_keys: set[str] | None = None,
    backend: str = "auto",
) -> LabelledVideos:
    """Every labelled video of ``dataset`` with ``clips`` x ``crops`` eval views, preprocessed for ``encoder``.

    ``classes``: keep only the videos of these class names (labels keep the dataset's numbering).
    ``video_keys``: keep only these ``<class>/<stem>`` videos (a protocol's published video list).
    ``synthetic``: the in-memory set to use for ``dataset="synthetic"`` (default:
    ``SyntheticVideos(num_videos_per_class=20, stream="eval")``).  ``backend``: the decoder for files.
    ``frame_rate``: None (default) takes the encoder's clip contract (``input_config.frame_rate``,
    what its weights were trained at); a number overrides it.  One clip per video is the centre window.
    """
    if dataset not in EVAL_DATASETS:
        raise ValueError(unknown_dataset(dataset))
    builder = SampleBuilder.for_encoder(encoder.input_config, frame_rate=frame_rate, num_crops=crops)
    preprocessing = {"input": encoder.input_config.to_dict(), "clip": builder.clip.to_dict(), "clips": clips,
                     "crops": crops, "sampler": type(eval_sampler(builder.window_sec, clips)).__name__}
    if dataset == "synthetic":
        from evovideo.data.synthetic import RENDER_VERSION, SyntheticVideos

        base = synthetic if synthetic is not None else SyntheticVideos(num_videos_per_class=20, stream="eval")
        names = list(base.classes)
        keep = list(range(len(base)))
        if classes is not None:
            wanted = {names.index(c) for c in classes}
            keep = [i for i in keep if base.label(i) in wanted]
        ds = InMemoryClipDataset(Subset(base, keep), builder, labels=[base.label(i) for i in keep],
                                 names=[base.name(i) for i in keep], train=False,
                                 clips_per_video=clips, crops_per_video=crops)
        ident = {k: getattr(base, k, None) for k in
                 ("num_videos_per_class", "num_classes", "num_frames", "size", "fps", "seed", "noise", "stream")}
        data = {"dataset": "synthetic", "render_version": RENDER_VERSION, "videos": keep, **ident}
    else:
        if root is None:
            raise ValueError(f"dataset '{dataset}' needs --root (the folder holding its videos)")
        records, names = dataset_records(dataset, root, split, every_clip=video_keys is not None)
        if classes is not None:
            records = [r for r in records if r.class_name in set(classes)]
        if video_keys is not None:
            from evovideo.eval.protocols import video_key

            records = [r for r in records if video_key(r.path, r.class_name) in video_keys]
        ds = ClipDataset(records, builder, train=False, clips_per_video=clips, crops_per_video=crops,
                         backend=backend)
        data = {"dataset": dataset, "root": str(Path(root).resolve()), "split": split,
                "files": files_digest(r.path for r in records)}
    return LabelledVideos(ds, [str(n) for n in names], {"data": data, "preprocessing": preprocessing})
