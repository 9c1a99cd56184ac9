"""Extract an encoder's pooled features once, cache them on disk, reuse them for every probe.

    fs = extract_features(encoder, loader)                  # batches of the data contract
    fs.features  # (N_videos, D) float32   fs.labels (N_videos,)   fs.names [str]

    key = feature_cache_key(encoder, data={...}, preprocessing={...})
    fs = cached_features(cache_dir, key, lambda: extract_features(encoder, loader))

The cache key changes when any of these change: the encoder's architecture and constructor
arguments, its weights (a digest of every tensor), the data (whatever the caller names: dataset,
root, split, classes, file list), or the preprocessing (clip length, stride, size, views, ...).
Several views of one video (same ``video_index``) are averaged into one video feature.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import torch
from torch import nn

from evovideo.atomic import atomic_write
from evovideo.clip import BatchKeys

log = logging.getLogger(__name__)

DEFAULT_CACHE_DIR = Path.home() / ".cache" / "evovideo" / "features"


@dataclass
class FeatureSet:
    """Video-level features with their labels and names, and how they were made."""

    features: torch.Tensor  # (N, D) float32
    labels: torch.Tensor  # (N,) int64, -1 when unlabeled
    names: list[str]
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.features.shape[0])

    def save(self, path: str | Path) -> None:
        """Write atomically and durably (fsync, then replace): a reader never sees half a file."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda f: torch.save({"features": self.features, "labels": self.labels,
                                                 "names": self.names, "meta": json.dumps(self.meta)}, f))

    @classmethod
    def load(cls, path: str | Path) -> "FeatureSet":
        d = torch.load(path, map_location="cpu", weights_only=True)
        return cls(d["features"], d["labels"], list(d["names"]), json.loads(d["meta"]))


def weights_digest(module: nn.Module) -> str:
    """SHA-256 over every parameter and buffer (name, shape, dtype, bytes) of ``module``."""
    h = hashlib.sha256()
    for name, t in sorted(module.state_dict().items()):
        t = t.detach().cpu().contiguous()
        h.update(f"{name}:{tuple(t.shape)}:{t.dtype}".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def files_digest(paths: Iterable[str | Path]) -> str:
    """SHA-256 over (path, size, mtime) of each file: changes when a video is added, removed or rewritten."""
    h = hashlib.sha256()
    for p in sorted(str(p) for p in paths):
        st = os.stat(p)
        h.update(f"{p}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def feature_cache_key(encoder: nn.Module, *, data: dict, preprocessing: dict) -> str:
    """A hex key naming one (encoder, weights, data, preprocessing) combination."""
    parts = {
        "encoder": getattr(encoder, "model_name", type(encoder).__name__),
        "encoder_kwargs": getattr(encoder, "model_kwargs", {}),
        "weights": weights_digest(encoder),
        "data": data,
        "preprocessing": preprocessing,
    }
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:32]


@torch.no_grad()
def extract_features(
    encoder: nn.Module,
    batches: Iterable[dict],
    *,
    modality: str = "rgb",
    device: str | torch.device = "cpu",
    total: int | None = None,
    progress: bool = True,
    desc: str = "extracting features",
) -> FeatureSet:
    """Pooled features of every batch (``batch[modality]``: (B, C, T, H, W)), averaged per video.

    Batches follow the data contract: ``label`` (B,), ``video_index`` (B,) and ``video_name``
    (list of B str).  The encoder runs in eval mode; its classifier head, if any, is bypassed.
    """
    from tqdm.auto import tqdm

    was_training = encoder.training
    encoder.eval().to(device)
    feats: dict[int, list[torch.Tensor]] = {}
    labels: dict[int, int] = {}
    names: dict[int, str] = {}
    start = time.perf_counter()
    for batch in tqdm(batches, total=total, desc=desc, unit="batch", disable=not progress, leave=False):
        if modality not in batch:
            raise KeyError(f"batch has no '{modality}' entry (keys: {', '.join(batch)}); ask the data for it")
        x = batch[modality].to(device, non_blocking=True)
        fmap = encoder.forward_features(x)  # (B, C, T, H, W) -> (B, D, t, h, w)
        pooled = encoder.forward_head(fmap, pre_logits=True).float().cpu()  # (B, D)
        for row, vid in enumerate(batch[BatchKeys.VIDEO_INDEX].tolist()):
            feats.setdefault(vid, []).append(pooled[row])
            labels[vid] = int(batch["label"][row])
            names[vid] = batch[BatchKeys.VIDEO_NAME][row]
    encoder.train(was_training)
    if not feats:
        raise ValueError("extract_features got no batches; is the dataset empty?")
    order = sorted(feats)
    features = torch.stack([torch.stack(feats[v]).mean(0) for v in order])  # (N, D)
    seconds = time.perf_counter() - start
    log.info("extracted %d x %d features in %.1fs", *features.shape, seconds)
    return FeatureSet(features, torch.tensor([labels[v] for v in order]), [names[v] for v in order],
                      {"extract_seconds": seconds, "views": sum(len(f) for f in feats.values())})


def cached_features(cache_dir: str | Path | None, key: str, compute: Callable[[], FeatureSet]) -> FeatureSet:
    """Load ``<cache_dir>/<key>.pt`` if present, else ``compute()`` and store it (None: no cache).

    The cache is an optimisation, never a failure: an entry that cannot be read (unreadable, empty,
    torn, not a feature file) is recomputed, and a cache that cannot be written (read-only folder or
    HOME, full disk) is bypassed; each problem is warned about once per folder.
    """
    if cache_dir is None:
        return compute()
    path = Path(cache_dir) / f"{key}.pt"
    if path.exists():
        try:
            fs = FeatureSet.load(path)
            fs.meta["cache"] = "hit"
            log.info("features from cache %s", path)
            return fs
        except Exception as err:  # noqa: BLE001 - a damaged or unreadable entry is recomputed, not fatal
            _warn_once(f"read:{path}", "ignoring unreadable feature cache entry %s (%s); recomputing", path,
                       _why(err, path))
    fs = compute()
    fs.meta["cache"] = "miss"
    try:
        fs.save(path)
    except OSError as err:
        _warn_once(f"write:{path.parent}", "feature cache %s cannot be written (%s); continuing without caching "
                   "(give --cache-dir a writable folder, or --no-cache)", path.parent, err)
        return fs
    log.info("features cached at %s", path)
    return fs


_warned: set[str] = set()


def _warn_once(what: str, msg: str, *args: object) -> None:
    if what not in _warned:
        _warned.add(what)
        log.warning(msg, *args)


def _why(err: BaseException, path: Path) -> str:
    try:
        if path.stat().st_size == 0:
            return "the file is empty (0 bytes)"
    except OSError:
        pass
    first = str(err).strip().split(". ")[0].splitlines()[0] if str(err).strip() else ""
    return f"{type(err).__name__}: {first[:160]}"
