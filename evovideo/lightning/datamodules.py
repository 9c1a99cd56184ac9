"""LightningDataModules for the video datasets; their typed arguments are a recipe's ``data:``.

    data:
      class_path: evovideo.lightning.UCF101DataModule
      init_args: {root: /data/UCF101, split: 1, modalities: [rgb, flow, audio], num_frames: 16}

Every module holds one clip contract (``self.clip``, an ``evovideo.clip.ClipSpec``), builds one
``SampleBuilder`` per stage from it (what each sample carries, see ``evovideo.data.pipeline``)
and a registered dataset (``evovideo.data.DATASETS``).  Train: one random clip per video; val:
the centre clip; test: ``test_clips`` x ``test_crops`` views per video (``evovideo.data.samplers``).
The train loader is resumable mid-epoch (``evovideo.data.dataset.ResumableDataLoader``): its order
is seeded by (seed, epoch), every train sample's random draws by (seed, epoch, index), and
Lightning saves its position in each checkpoint, so a killed run resumed from ``last.ckpt`` sees
the same batches as an uninterrupted one (Lightning sets the epoch through ``sampler.set_epoch``).
Undecodable files are skipped; ``skipped_files`` / ``skipped`` tell which after an epoch (all
workers included), and ``evovideo fit`` prints them when the run ends.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
from torch.utils.data import DataLoader

import torch

from evovideo.clip import BatchKeys, ClipSpec
from evovideo.data import DATASETS, ClipDataset, SampleBuilder, collate
from evovideo.data.dataset import EpochSampler, ResumableDataLoader
from evovideo.data.memo import SampleMemo
from evovideo.data.decode import resolve_backend
from evovideo.lightning.data_checks import FROM_ENCODER, check_synthetic, check_values, same_value
from evovideo.modalities import FlowSettings
from evovideo.tasks import RecipeError

log = logging.getLogger(__name__)

DEFAULT_FLOW_CACHE = Path.home() / ".cache" / "evovideo" / "flow"


class VideoDataModule(pl.LightningDataModule):
    """Shared arguments of every video DataModule (subclasses set ``dataset_name``).

    Args:
        root: dataset root folder (the official layout, see ``evovideo.data.splits``).
        split: official fold 1-3 (UCF101, HMDB51).
        modalities: any of rgb, gray, flow, audio.
        num_frames, stride, frame_rate, size, resize, mean, std: the fields of the clip contract
            (``evovideo.clip.ClipSpec``; ``self.clip``), or all at once as ``clip``.  A field left
            None takes the encoder's (``use_clip_config``, when a FinetuneModule checks the data:
            the frame rate and resize its weights were trained with too), else ``clip_defaults``;
            a value set here that contradicts the encoder is refused.
        future_frames: > 0 adds ``rgb_future`` (the frames after the clip, same decode).
        audio_shift: > 0 adds ``audio_shifted``: log-mel of a window shifted by +-this many seconds.
        flow_method: tvl1 (slow; the paper does not say which algorithm it used), farneback or
            dis (fast).
        flow_cache_dir: flow is computed once per video, on the clip grid (every ``stride``
            frames), and stored here (one int8 file per video; None: per clip, not stored).
            Clips then start on that grid, so every clip's flow is read from its video's file.
            Fill it up front with ``evovideo flow precompute -c <recipe>``.
        flow_cache_max_gb: store no more flow once the cache folder holds this much (None: no limit).
        backend: decoder: pyav, torchcodec, or auto (TorchCodec when it is installed and loads,
            else PyAV).
        hflip: mirror half of the train clips at random (default True; the synthetic set's
            motions are not mirror-invariant, so ``SyntheticDataModule`` defaults to False).
        sample_seed: seeds the train order and each train sample's draws (clip start, crop,
            flip, audio-shift sign) as a function of (seed, epoch, index); None: the run's
            ``seed_everything`` value (``PL_GLOBAL_SEED``), else 0.
        val_fraction, val_seed: UCF101 and HMDB51 have no validation list.  Their val fold is a
            seeded choice of whole source-video groups (UCF101 ``gXX``, HMDB51 source title)
            holding ``val_fraction`` of the training list, removed from train; the test list is
            never validated on.  0: no validation (train on the whole list, test the last epoch).
            Kinetics uses its official validation list; other modules ignore these.
    """

    dataset_name = ""
    val_from_train = False  # True: the val fold is carved from the training list (val_fraction)

    def __init__(
        self,
        root: str = "",
        split: int = 1,
        modalities: list[str] | None = None,
        num_frames: int | None = None,
        stride: int | None = None,
        frame_rate: float | None = None,
        size: int | None = None,
        resize: int | None = None,
        batch_size: int = 8,
        num_workers: int = 0,
        future_frames: int = 0,
        audio_shift: float = 0.0,
        flow_method: str = "tvl1",
        flow_bound: float = 20.0,
        flow_cache_dir: str | None = str(DEFAULT_FLOW_CACHE),
        flow_cache_max_gb: float | None = None,
        sample_rate: int = 16000,
        n_mels: int = 64,
        win_ms: float = 25.0,
        hop_ms: float = 10.0,
        mean: tuple[float, float, float] | None = None,
        std: tuple[float, float, float] | None = None,
        val_clips: int = 1,
        test_clips: int = 10,
        test_crops: int = 3,
        backend: str = "auto",
        pin_memory: bool = False,
        hflip: bool = True,
        sample_seed: int | None = None,
        val_fraction: float = 0.15,
        val_seed: int = 0,
        clip: ClipSpec | None = None,
    ) -> None:
        super().__init__()
        check_values(modalities=modalities, num_frames=num_frames, stride=stride, frame_rate=frame_rate, size=size,
                     resize=resize, batch_size=batch_size, num_workers=num_workers, future_frames=future_frames,
                     audio_shift=audio_shift, flow_method=flow_method, flow_bound=flow_bound,
                     sample_rate=sample_rate, n_mels=n_mels, val_clips=val_clips, test_clips=test_clips,
                     test_crops=test_crops, mean=mean, std=std)
        if not 0.0 <= val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction} (0: no validation fold)")
        self.val_fraction, self.val_seed = val_fraction, val_seed
        self.root, self.split = root, split
        self.modalities = list(modalities or ["rgb"])
        self.future_frames, self.audio_shift = future_frames, audio_shift
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        if num_workers > cores:  # a recipe written for a big node, run on a laptop: no oversubscription
            log.info("num_workers %d > %d CPU cores here: using %d loader workers", num_workers, cores, cores)
            num_workers = cores
        self.batch_size, self.num_workers, self.pin_memory = batch_size, num_workers, pin_memory
        self.val_clips, self.test_clips, self.test_crops = val_clips, test_clips, test_crops
        if backend != "auto":  # an unknown or unusable decoder fails here, before any epoch
            resolve_backend(backend)
        self.backend, self.hflip, self.sample_seed = backend, hflip, sample_seed
        given = dict(num_frames=num_frames, stride=stride, frame_rate=frame_rate, size=size, resize=resize, mean=mean,
                     std=std)
        cast = {"mean": tuple, "std": tuple, "frame_rate": float}
        self._clip = {k: cast.get(k, lambda x: x)(v) for k, v in given.items() if v is not None}
        self._given_clip = clip  # the whole contract at once (e.g. an encoder's input_config.clip)
        if clip is not None:
            both = [k for k, v in given.items() if v is not None]
            if both:
                raise RecipeError(f"data.init_args.clip and data.init_args.{', '.join(both)} are both set: give the "
                                  "clip once, either as clip: {num_frames: ..., size: ...} or as the separate fields")
            self._clip = {k: getattr(clip, k) for k in FROM_ENCODER}
        try:
            self.clip  # noqa: B018 - the fields together make a valid contract, or the recipe is refused now
        except ValueError as err:
            raise RecipeError(f"data.init_args: {err}") from None
        self._other_args: dict[str, Any] = dict(
            modalities=self.modalities, future_frames=future_frames,
            audio_shift=audio_shift, flow=FlowSettings(flow_method, flow_bound),
            flow_cache_dir=flow_cache_dir if "flow" in self.modalities else None,
            flow_cache_max_gb=flow_cache_max_gb,
            sample_rate=sample_rate, n_mels=n_mels, win_ms=win_ms, hop_ms=hop_ms, hflip=hflip,
        )
        self.datasets: dict[str, ClipDataset] = {}

    clip_defaults = ClipSpec()  # the clip fields neither the recipe nor an encoder set

    @property
    def clip(self) -> ClipSpec:
        """The clip contract every fold's samples follow: the fields the recipe set, the rest taken
        from the model by :meth:`use_clip_config`, else ``clip_defaults``."""
        if self._given_clip is not None:
            return self._given_clip
        return self.clip_defaults.with_(**self._clip)

    def clip_config(self) -> dict[str, Any]:
        """The clip fields an encoder's weights decide (``FROM_ENCODER``) as this module feeds them."""
        return {k: getattr(self.clip, k) for k in FROM_ENCODER}

    def use_clip_config(self, cfg: Any) -> None:
        """Take the clip settings an encoder's weights expect (``encoder.input_config.clip``: frames,
        stride, frame rate, size, resize, mean/std) as the one source of truth.  A field the recipe set to another
        value is refused with both values named (RecipeError)."""
        want = {k: getattr(cfg.clip, k) for k in FROM_ENCODER}
        clashes = [f"data.{k}={self._clip[k]} but the encoder expects {k}={v}" for k, v in want.items()
                   if k in self._clip and not same_value(self._clip[k], v)]
        if clashes:
            raise RecipeError("; ".join(clashes) + ": remove these fields from the recipe's data section to take the "
                              "encoder's settings (one source of truth), or evaluate an encoder trained with them")
        if want != self.clip_config():
            self.datasets.clear()  # built with other settings: rebuild on setup
        self._clip.update(want)

    def class_count(self) -> int | None:
        """How many classes the data has (its class list), or None for unlabelled data."""
        from evovideo.data.splits import parse_hmdb51, parse_kinetics, parse_ucf101

        if self.dataset_name == "ucf101":
            return len(parse_ucf101(self.root, self.split, "train")[1])
        if self.dataset_name == "hmdb51":
            return len(parse_hmdb51(self.root, self.split, "train")[1])
        if self.dataset_name == "kinetics":
            return len(parse_kinetics(self.root, "train")[1])
        return getattr(self, "num_classes", None) if self.dataset_name == "synthetic" else None

    @property
    def batch_keys(self) -> set[str]:
        return BatchKeys.for_sample(self.modalities, future_frames=self.future_frames, audio_shift=self.audio_shift)

    def builder(self, fold: str) -> SampleBuilder:
        crops = self.test_crops if fold == "test" else 1
        return SampleBuilder(self.clip, **self._other_args, train=fold == "train", num_crops=crops)

    @property
    def has_validation(self) -> bool:
        return not self.val_from_train or self.val_fraction > 0

    def selection(self) -> str:
        """What the val fold is, in words (for results files)."""
        if not self.has_validation:
            return "no validation fold: the model of the last epoch is tested"
        if self.val_from_train:
            return (f"validation carved from the training list of split {self.split}: {self.val_fraction:.0%} of it "
                    f"by source-video group (seed {self.val_seed}), disjoint from train; the test list is never validated on")
        if self.dataset_name == "synthetic":
            return "the synthetic set's test groups (val_fraction 0): fit for unlabelled use only, not for selection"
        return f"the '{self.dataset_name}' val fold"

    def _val_args(self) -> dict[str, Any]:
        return {"val_fraction": self.val_fraction, "val_seed": self.val_seed} if self.val_from_train else {}

    def make_dataset(self, fold: str) -> ClipDataset:
        clips = {"train": 1, "val": self.val_clips, "test": self.test_clips}[fold]
        crops = self.test_crops if fold == "test" else 1
        return DATASETS.create(
            self.dataset_name, root=self.root, split=self.split, fold=fold, builder=self.builder(fold),
            clips_per_video=clips, crops_per_video=crops, backend=self.backend, **self._val_args(),
        )

    def dataset(self, fold: str) -> ClipDataset:
        if fold not in self.datasets:
            ds = self.make_dataset(fold)
            for other in self.datasets.values():  # folds over the same files share one skip record
                if other.records == ds.records:
                    ds.tracker = other.tracker
                    break
            self.datasets[fold] = ds
        return self.datasets[fold]

    def setup(self, stage: str | None = None) -> None:
        folds = {"fit": ["train", "val"], "validate": ["val"], "test": ["test"], "predict": ["test"]}
        for fold in folds.get(stage or "fit", ["train", "val"]):
            if fold != "val" or self.has_validation:
                self.dataset(fold)

    def _loader(self, fold: str) -> DataLoader:
        return DataLoader(self.dataset(fold), batch_size=self.batch_size, shuffle=False, num_workers=self.num_workers,
                          collate_fn=collate, pin_memory=self.pin_memory, persistent_workers=False)

    @property
    def sampling_seed(self) -> int:
        """The train sampling seed: ``sample_seed``, else the run's ``seed_everything``, else 0."""
        if self.sample_seed is not None:
            return int(self.sample_seed)
        return int(os.environ.get("PL_GLOBAL_SEED", 0))

    def train_dataloader(self) -> ResumableDataLoader:
        """Seeded, per-epoch shuffled, resumable mid-epoch; one share per rank under DDP."""
        ds = self.dataset("train")
        trainer = getattr(self, "trainer", None)
        replicas, rank = (trainer.world_size, trainer.global_rank) if trainer is not None else (1, 0)
        sampler = EpochSampler(ds, seed=self.sampling_seed, num_replicas=replicas, rank=rank)
        return ResumableDataLoader(
            ds, batch_size=self.batch_size, sampler=sampler, num_workers=self.num_workers, collate_fn=collate,
            pin_memory=self.pin_memory, drop_last=len(ds) > self.batch_size, persistent_workers=False,
            generator=torch.Generator().manual_seed(self.sampling_seed),  # worker seeds: leave torch's global RNG alone
        )

    def val_dataloader(self) -> DataLoader | list:
        return self._loader("val") if self.has_validation else []

    def test_dataloader(self) -> DataLoader:
        return self._loader("test")

    def predict_dataloader(self) -> DataLoader:
        return self._loader("test")

    @property
    def skipped_files(self) -> list[str]:
        """Files found undecodable so far (each once), over every fold and worker."""
        return sorted({p for ds in self.datasets.values() for p in ds.skipped_files})

    @property
    def skipped(self) -> int:
        return len(self.skipped_files)


class UCF101DataModule(VideoDataModule):
    """UCF101 from ``root`` holding ``UCF-101/`` and ``ucfTrainTestlist/``; val = ``val_fraction`` of
    the split's training list, by group ``gXX`` (never the test list)."""

    dataset_name = "ucf101"
    num_classes = 101
    val_from_train = True


class HMDB51DataModule(VideoDataModule):
    """HMDB51 from ``root`` holding the class folders and ``testTrainMulti_7030_splits/``; val =
    ``val_fraction`` of the split's training list, by source video (never the test list)."""

    dataset_name = "hmdb51"
    num_classes = 51
    val_from_train = True


class KineticsDataModule(VideoDataModule):
    """Kinetics from ``root`` with ``annotations/{train,val,test}.csv`` + videos, or class folders."""

    dataset_name = "kinetics"


class FolderDataModule(VideoDataModule):
    """Unlabeled pretraining on every video under ``root`` (recursive); label -1.  Validation and
    test read the same folder (one centre clip per video)."""

    dataset_name = "folder"

    def make_dataset(self, fold: str) -> ClipDataset:
        if fold == "train":
            return super().make_dataset(fold)
        return DATASETS.create("folder", root=self.root, fold=fold, builder=self.builder("val"),
                               clips_per_video=1, crops_per_video=1, backend=self.backend)




class SyntheticDataModule(VideoDataModule):
    """The built-in synthetic set (``evovideo.data.synthetic.SyntheticVideos``), rendered in
    memory and run through the same sample pipeline; no files, no network.  ``split`` picks the
    UCF101-style group split (test = the split's test groups; val = the test groups too unless
    ``val_fraction`` > 0 carves it from the train groups: set it for any supervised selection).
    ``seed`` renders the videos; ``sample_seed`` draws the train clips (see ``VideoDataModule``).  ``hflip`` defaults
    to False: the motion classes are not mirror-invariant (a flipped MoveLeft is MoveRight,
    clockwise becomes anticlockwise), so a flip would give a clip the wrong label.

    ``long_tail`` > 0 draws every fold's classes with Zipf frequencies of that exponent (see
    ``evovideo.data.synthetic`` / the ``synthetic`` dataset).  ``memo_mb`` > 0 keeps up to that many
    MB of built samples in a process-wide memo (``evovideo.data.memo``): an evolution's candidates
    train with the same seed, hence on the same samples, and render and compute flow for them once.
    ``video_memo_mb`` > 0 (default 512) keeps up to that many MB of *rendered videos* in a process-wide
    memo: every epoch draws new clips, but from videos rendered once per process (the demo's 448
    training videos take ~100 MB), so a run renders each video once, not once per clip; 0: off.
    No audio is rendered unless a modality hears it."""

    dataset_name = "synthetic"
    num_classes = 10
    clip_defaults = ClipSpec(num_frames=8, stride=2, size=56, resize=64)

    def __init__(
        self,
        num_videos_per_class: int = 8,
        num_classes: int = 10,
        video_frames: int = 32,
        video_size: int = 64,
        fps: int = 16,
        seed: int = 0,
        split: int = 1,
        modalities: list[str] | None = None,
        num_frames: int | None = None,
        stride: int | None = None,
        size: int | None = None,
        resize: int | None = None,
        batch_size: int = 8,
        num_workers: int = 0,
        future_frames: int = 0,
        audio_shift: float = 0.0,
        flow_method: str = "farneback",
        flow_cache_dir: str | None = None,
        flow_cache_max_gb: float | None = None,
        n_mels: int = 64,
        val_clips: int = 1,
        test_clips: int = 2,
        test_crops: int = 1,
        hflip: bool = False,
        sample_seed: int | None = None,
        val_fraction: float = 0.0,
        val_seed: int = 0,
        long_tail: float = 0.0,
        memo_mb: int = 0,
        video_memo_mb: int = 512,
        clip: ClipSpec | None = None,
    ) -> None:
        check_synthetic(num_videos_per_class=num_videos_per_class, num_classes=num_classes, video_frames=video_frames,
                        video_size=video_size, fps=fps)
        self.clip_defaults = type(self).clip_defaults.with_(frame_rate=float(fps))  # the set's own rate, unless set
        super().__init__(
            root="", split=split, modalities=modalities, num_frames=num_frames, stride=stride, frame_rate=None,
            size=size, resize=resize, batch_size=batch_size, num_workers=num_workers, future_frames=future_frames,
            audio_shift=audio_shift, flow_method=flow_method, flow_cache_dir=flow_cache_dir,
            flow_cache_max_gb=flow_cache_max_gb, n_mels=n_mels,
            val_clips=val_clips, test_clips=test_clips, test_crops=test_crops, hflip=hflip, sample_seed=sample_seed,
            val_fraction=val_fraction, val_seed=val_seed, clip=clip,
        )
        self.num_classes = num_classes
        self.val_from_train = val_fraction > 0
        self._synthetic = dict(num_videos_per_class=num_videos_per_class, num_classes=num_classes,
                               video_frames=video_frames, video_size=video_size, fps=fps, seed=seed,
                               val_fraction=val_fraction, val_seed=val_seed, long_tail=long_tail)
        self.memo_mb, self.video_memo_mb = memo_mb, video_memo_mb

    def make_dataset(self, fold: str) -> ClipDataset:
        clips = {"train": 1, "val": self.val_clips, "test": self.test_clips}[fold]
        crops = self.test_crops if fold == "test" else 1
        builder = self.builder(fold)
        ds = DATASETS.create("synthetic", builder=builder, split=self.split, fold=fold, clips_per_video=clips,
                             crops_per_video=crops, audio=builder.wants_audio, video_memo_mb=self.video_memo_mb,
                             **self._synthetic)
        if self.memo_mb > 0:  # every sample is a pure function of these settings and its key
            builder = {**self._other_args, **self.clip.to_dict()}
            ident = dict(self._synthetic, builder=repr(sorted(builder.items())), fold=fold, split=self.split,
                         clips=clips, crops=crops)
            ds.memo = SampleMemo.shared(json.dumps(ident, sort_keys=True, default=str), self.memo_mb)
        return ds
