"""Map-style clip datasets over ``VideoRecord`` lists (files) or in-memory videos (synthetic).

Train: one random clip per video per epoch.  Eval: ``clips_per_video`` clips spread uniformly
over the video (one clip: the centre window) x ``crops_per_video`` crops, one item each, all
carrying the same ``video_index`` so predictions can be averaged per video.  Where clips start
is the ``sampler``'s (``evovideo.data.samplers``; any pytorchvideo ``ClipSampler`` fits).

Train draws are reproducible and resumable: every random choice of a train sample (clip start,
crop, flip, audio-shift sign) comes from its own ``random.Random`` seeded by (seed, epoch,
index), never from a process-wide RNG.  ``EpochSampler`` yields those ``SampleKey``s in a
per-epoch seeded order (one rank's share under DDP) and ``ResumableDataLoader`` has the
``state_dict`` / ``load_state_dict`` that Lightning's fit loop saves in checkpoints, so a run
killed mid-epoch continues with exactly the batches an uninterrupted run would have seen, with
any ``num_workers``.  ``dataset[i]`` with a plain int is key (i, epoch 0, seed 0).

A file that cannot be read or decoded never ends an epoch: it is named once in the log
(``logging.warning``), counted in ``skipped`` (shared by all DataLoader workers), never decoded
again, and the item is replaced by a clip of another video (which carries its own label and index), found
from a start drawn from the item's key: a run of bad files does not hand all its samples to one neighbour.
"""
from __future__ import annotations

import logging
import multiprocessing as mp
import random
from typing import Iterator, NamedTuple, Sequence

import numpy as np
import torch
from pytorchvideo.data.clip_sampling import ClipSampler
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from evovideo.data.decode import DecodedVideo, DecodeError, MemoryReader, VideoReader, open_video, resolve_backend
from evovideo.data.memo import SampleMemo
from evovideo.clip import BatchKeys
from evovideo.data.pipeline import SampleBuilder
from evovideo.data.samplers import RandomClipSampler, clip_of, eval_sampler
from evovideo.data.splits import VideoRecord

log = logging.getLogger(__name__)


class SampleKey(NamedTuple):
    """What a train sample's random draws depend on (and nothing else)."""

    index: int
    epoch: int = 0
    seed: int = 0


def sample_rng(key: SampleKey) -> random.Random:
    """The private RNG of one train sample: a pure function of (seed, epoch, index)."""
    state = np.random.SeedSequence([int(key.seed) & 0xFFFFFFFF, int(key.epoch), int(key.index)]).generate_state(2)
    return random.Random(int(state[0]) << 32 | int(state[1]))


def replacement_offset(key: SampleKey, n: int) -> int:
    """Where the search for a replacement of a bad video starts: a pure function of the key (so a
    resumed run replaces it the same way), spread uniformly over the ``n`` videos."""
    state = np.random.SeedSequence([int(key.seed) & 0xFFFFFFFF, int(key.epoch), int(key.index), 1]).generate_state(1)
    return int(state[0]) % n


class SkipTracker:
    """Which files failed, in shared memory: workers mark, the main process reads after the epoch."""

    def __init__(self, num_files: int) -> None:
        self._flags = mp.get_context().Array("b", max(num_files, 1), lock=True)

    def mark(self, index: int) -> bool:
        """Flag file ``index``; True the first time (so the caller logs it once)."""
        with self._flags.get_lock():
            first = self._flags[index] == 0
            self._flags[index] = 1
        return first

    def is_skipped(self, index: int) -> bool:
        return self._flags[index] == 1

    def indices(self) -> list[int]:
        with self._flags.get_lock():  # a numpy view of the shared bytes: fast for 650k Kinetics files
            return np.flatnonzero(np.frombuffer(self._flags.get_obj(), dtype=np.int8)).tolist()


class NoVideosDecoded(RuntimeError):
    """Not one video of a dataset could be decoded: the message gives the reason(s)."""


def _summary(reasons: dict[str, int]) -> str:
    """One line for the reasons files failed with: the common one when they all agree."""
    if len(reasons) == 1:
        return f"every file failed with the same error ({next(iter(reasons))}); check the decoder backend"
    top = sorted(reasons.items(), key=lambda kv: -kv[1])[:3]
    return "the errors were " + "; ".join(f"{why} ({k}x)" for why, k in top) + "; check the files"


class ClipDataset(Dataset):
    """Clips of videos as sample dicts (keys: ``evovideo.clip.BatchKeys``); see the module docstring.

    ``sampler``: where clips start (default: ``RandomClipSampler`` for train, else the centre
    window for one clip per video and ``UniformClipSampler`` for more), sized to the builder's
    window; a pytorchvideo ``ClipSampler`` is called in order for each clip."""

    def __init__(
        self,
        records: Sequence[VideoRecord],
        builder: SampleBuilder,
        *,
        train: bool = True,
        clips_per_video: int = 1,
        crops_per_video: int = 1,
        backend: str = "auto",
        sampler: ClipSampler | None = None,
    ) -> None:
        if not records:
            raise ValueError("no videos to load: the record list is empty")
        self.records = list(records)
        self.builder = builder
        self.train = train
        self.clips_per_video = 1 if train else clips_per_video
        self.crops_per_video = 1 if train else crops_per_video
        window = builder.window_sec
        self.sampler = sampler or (RandomClipSampler(window) if train else eval_sampler(window, self.clips_per_video))
        self.backend = resolve_backend(backend)  # once here, not per file (nor per worker)
        self.tracker = SkipTracker(len(self.records))
        self.memo: SampleMemo | None = None  # built samples kept across runs (evovideo.data.memo)

    @property
    def views(self) -> int:
        return self.clips_per_video * self.crops_per_video

    def __len__(self) -> int:
        return len(self.records) * self.views

    @property
    def skipped(self) -> int:
        """How many distinct files could not be decoded (so far, over all workers)."""
        return len(self.tracker.indices())

    @property
    def skipped_files(self) -> list[str]:
        return [self._name(i) for i in self.tracker.indices()]

    def _name(self, video: int) -> str:
        return self.records[video].path

    def _open(self, video: int) -> VideoReader:
        return open_video(self.records[video].path, self.backend)

    def _label(self, video: int) -> int:
        return self.records[video].label

    def __getitem__(self, key: int | SampleKey) -> dict:
        """Item ``key`` (an int, or a ``SampleKey`` from ``EpochSampler`` carrying epoch and seed)."""
        key = SampleKey(*key) if isinstance(key, tuple) else SampleKey(int(key))
        if self.memo is not None:
            return self.memo.get_or_build(tuple(key), lambda: self._get(key))
        return self._get(key)

    def _get(self, key: SampleKey) -> dict:
        n = len(self.records)
        video, view = divmod(key.index, self.views)
        rng = sample_rng(key) if self.train else None
        reasons: dict[str, int] = {}
        offset = 0
        for attempt in range(n + 1):  # the video, then all n from a start drawn from the key: a run of bad
            if attempt == 1:          # files is not all replaced by the same next video
                offset = replacement_offset(key, n)
            v = video if attempt == 0 else (video + offset + attempt - 1) % n
            if self.tracker.is_skipped(v):
                continue
            try:
                return self._load(v, view, rng)
            except DecodeError as err:
                reasons[err.reason] = reasons.get(err.reason, 0) + 1
                if self.tracker.mark(v):
                    log.warning("skipping undecodable video %s (%s)", self._name(v), err.reason)
        raise NoVideosDecoded(f"none of the {n} videos could be decoded (first: {self._name(0)}): {_summary(reasons)}")

    def _load(self, video: int, view: int, rng: random.Random | None) -> dict:
        clip_i, crop_i = divmod(view, self.crops_per_video)
        # train: the sample's own RNG (seed, epoch, index); eval: fixed per view
        rng = rng or random.Random(video * 1000 + view)
        with self._open(video) as reader:
            start = float(clip_of(self.sampler, clip_i, reader.info.duration, rng).clip_start_sec)
            start = self.builder.align(start)  # on the flow grid when flow is cached (every clip hits)
            sample = self.builder.build(reader, start, crop_i, rng)
        sample[BatchKeys.LABEL] = torch.tensor(self._label(video), dtype=torch.int64)
        sample[BatchKeys.VIDEO_INDEX] = torch.tensor(video, dtype=torch.int64)
        sample[BatchKeys.VIDEO_NAME] = self._name(video)
        return sample


class InMemoryClipDataset(ClipDataset):
    """The same clips from videos held in memory: items of ``videos`` are (DecodedVideo, label).

    ``labels`` / ``names`` avoid touching every item up front (a synthetic set renders on access);
    a name identifies the video in ``video_name`` and in the flow cache key."""

    def __init__(
        self,
        videos: Sequence[tuple[DecodedVideo, int]],
        builder: SampleBuilder,
        *,
        labels: Sequence[int] | None = None,
        names: Sequence[str] | None = None,
        **kwargs,
    ) -> None:
        self.videos = videos
        if labels is None:
            labels = [int(videos[i][1]) for i in range(len(videos))]
        names = names or [f"memory/{i:05d}" for i in range(len(videos))]
        super().__init__([VideoRecord(n, int(y)) for n, y in zip(names, labels)], builder, **kwargs)

    def _open(self, video: int) -> VideoReader:
        return MemoryReader(self.videos[video][0], self._name(video))


def collate(samples: list[dict]) -> dict:
    """Stack tensors, keep strings as lists (``video_name``)."""
    out: dict = {}
    for key in samples[0]:
        vals = [s[key] for s in samples]
        out[key] = torch.stack(vals) if isinstance(vals[0], torch.Tensor) else vals
    return out


class EpochSampler(DistributedSampler):
    """Train order: a permutation seeded by (seed, epoch), split over ``num_replicas`` ranks,
    yielding ``SampleKey(index, epoch, seed)`` so each sample seeds its own draws.

    ``set_epoch(e)`` (Lightning calls it every epoch) picks the epoch; ``start`` skips that many
    of this rank's keys once (set by ``ResumableDataLoader.load_state_dict``).  A subclass of
    ``DistributedSampler`` so Lightning's DDP keeps it instead of wrapping it in its own."""

    def __init__(self, dataset: Dataset, *, seed: int = 0, shuffle: bool = True, num_replicas: int = 1,
                 rank: int = 0, drop_last: bool = False) -> None:
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=shuffle, seed=seed,
                         drop_last=drop_last)
        self.start = 0

    def __iter__(self) -> Iterator[SampleKey]:
        start, self.start = self.start, 0
        epoch = self.epoch
        order = list(super().__iter__())
        return iter([SampleKey(int(i), epoch, self.seed) for i in order[start:]])


class ResumableDataLoader(DataLoader):
    """A ``DataLoader`` over an ``EpochSampler`` that can continue an epoch where it stopped.

    ``state_dict()`` is ``{"epoch", "batches"}`` (batches handed out this epoch; Lightning saves
    it with each checkpoint); ``load_state_dict`` makes the next iteration skip those batches
    without loading them.  Iteration starts lazily (at the first batch), so ``set_epoch``
    called after ``iter()`` still applies, also with worker processes.  A complete pass moves
    the sampler to the next epoch (outside Lightning too, each epoch draws anew)."""

    def __init__(self, dataset: Dataset, *args, **kwargs) -> None:
        super().__init__(dataset, *args, **kwargs)
        if not isinstance(self.sampler, EpochSampler):
            raise TypeError(f"ResumableDataLoader needs sampler=EpochSampler(...), got {type(self.sampler).__name__}")
        self._handed_out = self._resume_at = 0
        self._epoch_counted = self.sampler.epoch  # the epoch ``_handed_out`` counts batches of

    def __iter__(self) -> Iterator:
        return self._batches()

    def _batches(self) -> Iterator:
        self._epoch_counted = self.sampler.epoch
        self._handed_out, self._resume_at = self._resume_at, 0
        for batch in super().__iter__():
            self._handed_out += 1
            yield batch
        self.sampler.set_epoch(self._epoch_counted + 1)  # a full pass: next epoch (Lightning sets it too)

    def state_dict(self) -> dict[str, int]:
        epoch, done = self._epoch_counted, self._handed_out
        if done >= len(self):  # the epoch is over: the next position is the next epoch's start
            epoch, done = epoch + 1, 0
        return {"epoch": int(epoch), "batches": int(done)}

    def load_state_dict(self, state: dict[str, int]) -> None:
        epoch, done = int(state["epoch"]), int(state["batches"])
        self.sampler.set_epoch(epoch)
        self.sampler.start = done * int(self.batch_size)
        self._epoch_counted, self._handed_out, self._resume_at = epoch, done, done
