"""Optical flow, computed once per video: fill a dataset's flow cache before training.

  evovideo flow precompute -c recipes/pretrain/elo_r2plus1d_50_k400.yaml --root /data/k400/train --out /fast/flow
  evovideo flow precompute --dataset ucf101 --root /data/UCF101 --out /fast/flow --stride 2 --size 112 --method dis

With -c, every setting that decides a video's flow (stride, frame rate, resize, method, bound,
data class and root) comes from the recipe's data section, so training with the same recipe and
--data.init_args.flow_cache_dir pointing at --out reads every clip's flow from the cache.
Runs --workers processes (default: all cores); videos already in the cache are skipped, so an
interrupted run continues where it stopped.  Storage: int8, 2 x h x w bytes per grid point
(Kinetics-400 at stride 4 / 25 fps / short side 256: about 11 MB per 10 s video).
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import time

DATASETS = {"ucf101": "UCF101DataModule", "hmdb51": "HMDB51DataModule", "kinetics": "KineticsDataModule",
            "folder": "FolderDataModule", "synthetic": "SyntheticDataModule"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from evovideo.commands.common import add_backend_argument

    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    pre = sub.add_parser("precompute", help="compute and store the flow of every video of a dataset",
                         description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_backend_argument(pre)
    p = pre.add_argument
    p("-c", "--config", help="a recipe: its data section decides the videos and the flow settings")
    p("--dataset", choices=sorted(DATASETS), help="without -c: which layout --root holds")
    p("--root", help="dataset root (overrides the recipe's)")
    p("--out", help="the flow cache folder (overrides the recipe's flow_cache_dir; train with the same)")
    p("--folds", nargs="+", default=["train"], choices=("train", "val", "test"), help="folds to cover (default train)")
    p("--workers", type=int, default=os.cpu_count() or 1, help="processes (default: all cores)")
    p("--max-gb", type=float, help="stop storing once the cache holds this many GB")
    p("--stride", type=int, default=2, help="without -c: frames between clip frames (default 2)")
    p("--frame-rate", type=float, default=25.0, help="without -c: nominal fps (default 25)")
    p("--size", type=int, default=112, help="without -c: crop size; frames are resized to short side size*8/7")
    p("--resize", type=int, help="without -c: short side the flow is computed at (default from --size)")
    p("--method", default="tvl1", help="without -c: tvl1, farneback or dis (default tvl1)")
    p("--bound", type=float, default=20.0, help="without -c: flow clipped to +-bound pixels (default 20)")
    p("--split", type=int, default=1, help="without -c: official split (ucf101 / hmdb51)")


def build_datamodule(args: argparse.Namespace):
    """The VideoDataModule whose train (and other) folds are precomputed."""
    from evovideo.lightning.datamodules import VideoDataModule

    if args.config:
        from evovideo.lightning.pretrain import load_recipe

        data = load_recipe(args.config).get("data") or {}
        path = str(data.get("class_path", ""))
        module_name, _, cls_name = path.rpartition(".")
        try:
            cls = getattr(importlib.import_module(module_name), cls_name) if module_name else None
        except (ImportError, AttributeError):
            cls = None
        if not (isinstance(cls, type) and issubclass(cls, VideoDataModule)):
            raise SystemExit(f"{args.config}: data.class_path '{path}' is not an evovideo VideoDataModule; "
                             "use --dataset/--root instead")
        init = dict(data.get("init_args") or {})
    else:
        if not args.dataset:
            raise SystemExit("give a recipe (-c) or --dataset with --root")
        from evovideo import lightning

        cls = getattr(lightning, DATASETS[args.dataset])
        init = dict(stride=args.stride, size=args.size, resize=args.resize, flow_method=args.method,
                    modalities=["rgb", "flow"])
        if args.dataset != "synthetic":
            init.update(frame_rate=args.frame_rate, flow_bound=args.bound, split=args.split)
    if args.root:
        init["root"] = args.root
    if args.backend != "auto" and cls is not getattr(importlib.import_module("evovideo.lightning"), "SyntheticDataModule"):
        init["backend"] = args.backend
    if args.out:
        init["flow_cache_dir"] = args.out
    if args.max_gb is not None:
        init["flow_cache_max_gb"] = args.max_gb
    if "flow" not in (init.get("modalities") or []):
        raise SystemExit("the data section does not read flow (add 'flow' to data.init_args.modalities)")
    dm = cls(**init)
    if not dm._other_args.get("flow_cache_dir"):
        raise SystemExit("no flow cache folder: pass --out (or set data.init_args.flow_cache_dir)")
    return dm


def _bar(done: int, total: int, t0: float) -> None:
    width = 30
    filled = int(width * done / max(total, 1))
    rate = done / max(time.perf_counter() - t0, 1e-9)
    sys.stderr.write(f"\rflow [{'#' * filled}{'.' * (width - filled)}] {done}/{total} videos  {rate:.2f}/s")
    sys.stderr.flush()
    if done >= total:
        sys.stderr.write("\n")


def run(args: argparse.Namespace) -> int:
    from evovideo.data.flow_grid import precompute_flow

    dm = build_datamodule(args)
    status = 0
    for fold in args.folds:
        ds = dm.dataset(fold)
        b = ds.builder
        print(f"{fold}: {len(ds.records)} videos -> {b.flow_cache.root} "
              f"(grid every {b.flow_grid.step:.3f} s, short side {b.flow_grid.resize}, {b.flow.method})")
        t0 = time.perf_counter()
        report = precompute_flow(ds, workers=args.workers, progress=lambda d, n: _bar(d, n, t0))
        print(f"{fold}: {report.computed} computed, {report.already} already stored, {len(report.failed)} failed, "
              f"{report.seconds:.1f} s")
        for name in report.failed:
            print(f"  not stored: {name}")
        status = status or (1 if report.failed else 0)
    return status
