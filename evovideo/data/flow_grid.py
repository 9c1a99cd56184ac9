"""Whole-video optical flow on the clip grid, and the precompute that fills a dataset's cache.

``video_flow`` computes one video's entry (see :mod:`evovideo.modalities.flow_cache`);
``precompute_flow`` does it for every video of a ``ClipDataset`` in parallel processes,
skipping the videos already stored (so an interrupted run resumes where it stopped).
``evovideo flow precompute`` is the command around it.
"""
from __future__ import annotations

import concurrent.futures as cf
import logging
import multiprocessing as mp
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from evovideo.data.decode import DecodeError, VideoReader
from evovideo.modalities.flow import FlowSettings, compute_flow
from evovideo.modalities.flow_cache import FlowCache, FlowGrid, quantize

log = logging.getLogger(__name__)

CHUNK = 32  # grid points decoded at once: bounds memory on long videos


def video_flow(reader: VideoReader, grid: FlowGrid, settings: FlowSettings) -> np.ndarray:
    """Flow at every grid point of the video -> int8 ``(N, 2, h, w)`` (see ``flow_cache``)."""
    n = grid.length(reader.info.duration)
    parts = []
    for lo in range(0, n, CHUNK):
        times = [k * grid.step for k in range(lo, min(n, lo + CHUNK))]
        frames, nexts = reader.frames_at(times, grid.resize, with_next=True)  # (n, h, w, 3) each
        parts.append(quantize(compute_flow(frames, nexts, settings)).transpose(1, 0, 2, 3))  # (n, 2, h, w)
    return np.concatenate(parts)


@dataclass
class PrecomputeReport:
    videos: int = 0
    already: int = 0  # stored before this run
    computed: int = 0
    failed: list[str] = field(default_factory=list)  # undecodable, or not stored (cache unwritable / full)
    seconds: float = 0.0


_WORKER: dict = {}


def _init_worker(dataset) -> None:
    import cv2
    import torch

    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    _WORKER["dataset"] = dataset


def _one(video: int) -> tuple[int, str | None]:
    """Compute and store video ``video``; (index, None) or (index, why it failed)."""
    ds = _WORKER["dataset"]
    b = ds.builder
    try:
        with ds._open(video) as reader:
            entry = video_flow(reader, b.flow_grid, b.flow)
    except DecodeError as err:
        return video, err.reason
    if not b.flow_cache.store(FlowCache.key(ds._name(video), b.flow_grid, b.flow), entry):
        return video, "not stored: the cache is unwritable or full (see the warning)"
    return video, None


def precompute_flow(dataset, *, workers: int = 1,
                    progress: Callable[[int, int], None] | None = None) -> PrecomputeReport:
    """Fill ``dataset.builder.flow_cache`` with every video's flow; ``workers`` processes.

    ``dataset`` is a ``ClipDataset`` whose builder has a flow cache; ``progress(done, total)`` is
    called as videos finish.  Videos already stored are skipped without decoding."""
    b = dataset.builder
    if b.flow_cache is None:
        raise ValueError("precompute_flow: the dataset's SampleBuilder has no flow cache; pass flow_cache_dir "
                         "and include 'flow' in modalities")
    t0 = time.perf_counter()
    n = len(dataset.records)
    todo = [i for i in range(n) if not b.flow_cache.contains(FlowCache.key(dataset._name(i), b.flow_grid, b.flow))]
    report = PrecomputeReport(videos=n, already=n - len(todo))
    done = report.already
    if progress:
        progress(done, n)

    def finished(video: int, why: str | None) -> None:
        nonlocal done
        done += 1
        if why is None:
            report.computed += 1
        else:
            report.failed.append(dataset._name(video))
            log.warning("flow of %s not computed: %s", dataset._name(video), why)
        if progress:
            progress(done, n)

    if workers <= 1 or len(todo) <= 1:
        _WORKER["dataset"] = dataset
        for i in todo:
            finished(*_one(i))
    else:
        with cf.ProcessPoolExecutor(workers, mp_context=mp.get_context(), initializer=_init_worker,
                                    initargs=(dataset,)) as pool:
            for fut in cf.as_completed([pool.submit(_one, i) for i in todo]):
                finished(*fut.result())
    report.seconds = time.perf_counter() - t0
    return report
