"""Encoder + labelled videos -> cached features -> few-shot results, in one call.

    results, fs = fewshot_eval(encoder, "synthetic", way=5, shots=(1, 5), episodes=1000)
    results[0].summary["prototypes"]      # MeanCI: "61.20 ± 0.85"
    fs.meta["extract_seconds"], fs.meta["episodes_seconds"]
    probe_eval(encoder, "ucf101", root="/data/UCF101", split=1)   # {"knn": .., "linear": ..}
"""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Sequence

import torch
from torch.utils.data import Dataset

from evovideo.eval.features import FeatureSet, cached_features, extract_features, feature_cache_key
from evovideo.eval.fewshot import FewShotResult, evaluate_fewshot
from evovideo.eval.videos import labelled_videos
from evovideo.models.base import Encoder

log = logging.getLogger(__name__)


def video_features(
    encoder: Encoder,
    dataset: str,
    *,
    root: str | Path | None = None,
    split: int = 1,
    classes: Sequence[str] | None = None,
    clips: int = 1,
    crops: int = 1,
    frame_rate: float | None = None,
    batch_size: int = 8,
    workers: int = 0,
    device: str = "cpu",
    cache_dir: str | Path | None = None,
    synthetic: Dataset | None = None,
    progress: bool = True,
    video_keys: set[str] | None = None,
    backend: str = "auto",
) -> FeatureSet:
    """Video-level features of every video of ``dataset`` (restricted to ``classes`` and, given,
    to the ``<class>/<stem>`` ``video_keys``), cached."""
    src = labelled_videos(dataset, encoder, root=root, split=split, clips=clips, crops=crops,
                          frame_rate=frame_rate, classes=list(classes) if classes else None, synthetic=synthetic,
                          video_keys=video_keys, backend=backend)
    key = feature_cache_key(encoder, data=src.key["data"], preprocessing=src.key["preprocessing"])
    loader = src.loader(batch_size, workers)
    fs = cached_features(cache_dir, key, lambda: extract_features(
        encoder, loader, modality=encoder.input_config.modality, device=device, total=len(loader),
        progress=progress))
    if src.dataset.skipped:
        log.warning("%d undecodable video(s) skipped: %s", src.dataset.skipped, src.dataset.skipped_files[:5])
    fs.meta["class_names"] = src.class_names
    return fs


def fewshot_eval(
    encoder: Encoder,
    dataset: str,
    *,
    way: int = 5,
    shots: Sequence[int] = (1, 5),
    query: int = 15,
    episodes: int = 1000,
    seed: int = 0,
    **feature_kwargs,
) -> tuple[list[FewShotResult], FeatureSet]:
    """:func:`video_features` then :func:`evaluate_fewshot`; returns (one result per shot, features).

    Support and query of a class never come from one source video (UCF101 group ``gXX``, HMDB51
    source title; ``evovideo.data.groups``)."""
    from evovideo.data.groups import video_groups

    fs = video_features(encoder, dataset, **feature_kwargs)
    start = time.perf_counter()
    results = evaluate_fewshot(fs.features, fs.labels, way=way, shots=shots, query=query,
                               episodes=episodes, seed=seed, groups=video_groups(fs.names))
    fs.meta["episodes_seconds"] = time.perf_counter() - start
    return results, fs



def split_test_names(dataset: str, root: str | Path | None = None, split: int = 1,
                     synthetic: Dataset | None = None) -> set[str]:
    """Video names (``FeatureSet.names``) in the test list of an official split.

    ``ucf101`` / ``hmdb51``: the split files; ``synthetic``: the UCF101-style group split.
    """
    if dataset in ("ucf101", "hmdb51"):
        from evovideo.data.splits import parse_hmdb51, parse_ucf101

        parse = parse_ucf101 if dataset == "ucf101" else parse_hmdb51
        return {r.path for r in parse(root, split, "test")[0]}
    if dataset == "synthetic":
        from evovideo.data.synthetic import SyntheticVideos, ucf101_split_groups

        synthetic = synthetic if synthetic is not None else SyntheticVideos(num_videos_per_class=20, stream="eval")
        groups = set(ucf101_split_groups(split))
        return {synthetic.name(i) for i in range(len(synthetic)) if synthetic.group_clip(i)[0] in groups}
    raise ValueError(f"dataset '{dataset}' has no official train/test split; kNN and linear probes need "
                     "ucf101, hmdb51 or synthetic")


C_GRID = (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)


def select_C(x: torch.Tensor, y: torch.Tensor, groups: Sequence[str], num_classes: int, *,
             grid: Sequence[float] = C_GRID, val_fraction: float = 0.2, seed: int = 0) -> tuple[float, dict]:
    """The linear probe's ``C`` with the best accuracy on a validation part of the *training* videos
    (whole source-video groups held out, ``evovideo.data.groups``); returns (C, {C: val accuracy})."""
    from evovideo.data.groups import holdout_mask
    from evovideo.eval.probes import accuracy, linear_probe

    val = torch.tensor(holdout_mask(groups, val_fraction, seed))
    scores = {float(c): accuracy(linear_probe(x[~val], y[~val], num_classes, C=c)(x[val]), y[val]) for c in grid}
    best = max(scores, key=lambda c: (scores[c], -c))  # ties: the stronger regularisation
    return best, scores


def split_probes(fs: FeatureSet, test_names: set[str], *, k: int = 20, temperature: float = 0.07,
                 C: float | None = None) -> dict:
    """kNN and linear-probe top-1 (%): fit on the videos not in ``test_names``, score the others.

    ``C=None`` (default) chooses the probe's C by :func:`select_C` on the training videos alone,
    then refits on all of them; the test videos are only scored."""
    from evovideo.data.groups import video_groups
    from evovideo.eval.probes import accuracy, knn_scores, linear_probe

    is_test = torch.tensor([name in test_names for name in fs.names])
    if is_test.all() or not is_test.any():
        raise ValueError(f"the split leaves no train or no test videos ({int(is_test.sum())} of {len(fs)} are test)")
    n = int(fs.labels.max()) + 1
    train_x, train_y, test_x, test_y = fs.features[~is_test], fs.labels[~is_test], fs.features[is_test], fs.labels[is_test]
    sweep = None
    if C is None:
        train_names = [name for name, t in zip(fs.names, is_test.tolist()) if not t]
        C, sweep = select_C(train_x, train_y, video_groups(train_names), n)
    return {
        "knn": accuracy(knn_scores(train_x, train_y, test_x, n, k=k, temperature=temperature), test_y),
        "linear": accuracy(linear_probe(train_x, train_y, n, C=C)(test_x), test_y),
        "train_videos": int((~is_test).sum()), "test_videos": int(is_test.sum()),
        "k": k, "temperature": temperature, "C": C,
        "C_selection": ({"on": "20% of the training videos, by source-video group (never test)",
                         "val_accuracy": sweep} if sweep is not None else "given"),
    }


def probe_eval(encoder: Encoder, dataset: str, *, root: str | Path | None = None, split: int = 1,
               synthetic: Dataset | None = None, k: int = 20, temperature: float = 0.07, C: float | None = None,
               **feature_kwargs) -> dict:
    """:func:`video_features` of every class, then :func:`split_probes` on official split ``split``."""
    fs = video_features(encoder, dataset, root=root, split=split, synthetic=synthetic, **feature_kwargs)
    return split_probes(fs, split_test_names(dataset, root, split, synthetic), k=k, temperature=temperature, C=C)
