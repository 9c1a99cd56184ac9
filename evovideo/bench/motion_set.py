"""Write a labelled motion-only video set made from real footage (camera moves over real frames).

The λ benchmarks of the built-in synthetic set may measure its renderer; this set asks the same
question on real pixels (:mod:`evovideo.data.camera_motion`: eight camera motions, pans, zooms and
turns, over any videos you give).  It is written in the UCF101 layout, so it is read by the real
loaders: ``FolderDataModule`` (unlabeled pretraining, the fitness pool), ``--dataset class-folders
--root <out>/UCF-101`` (few-shot) or ``--dataset ucf101 --root <out>``.  Keep the sources of the
evaluation set apart from those of the pretraining set (different footage, not only other crops):

  evovideo bench motion-set --sources ../shared/realclips/kinetics_*.mp4 ../shared/realclips/ava_*.mp4 \\
      --videos-per-class 60 --seed 0 --out data/motion/pretrain
  evovideo bench motion-set --sources ../shared/realclips/kinetics_*.mp4 ../shared/realclips/ava_*.mp4 \\
      --videos-per-class 80 --long-tail 1 --seed 1 --out data/motion/fitness
  evovideo bench motion-set --sources ../shared/realclips/ucf101_*.avi ../shared/realclips/ntu_*.avi \\
      --videos-per-class 20 --seed 2 --out data/motion/eval
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    p = parser.add_argument
    p("--sources", nargs="+", required=True, help="real video files the virtual camera moves over")
    p("--out", required=True, help="output folder: <out>/UCF-101/<Class>/*.avi, <out>/ucfTrainTestlist/, "
                                   "<out>/motion_set.json")
    p("--videos-per-class", type=int, default=20, help="clips per class (the head class, with --long-tail)")
    p("--long-tail", type=float, default=0.0,
      help="class c keeps round(n / (c+1)**s) clips (Zipf frequencies: the fitness set's premise); 0: balanced")
    p("--seed", type=int, default=0, help="draws of every clip (use another seed for every set you write)")
    p("--frames", type=int, default=32, help="frames per clip (default 32)")
    p("--size", type=int, default=48, help="frame side in pixels (default 48, the synthetic set's)")
    p("--fps", type=float, default=16.0, help="frame rate written (default 16, the synthetic set's)")


def run(args: argparse.Namespace) -> int:
    from evovideo.data.camera_motion import CameraMotionVideos
    from evovideo.data.synthetic import write_ucf101_layout

    missing = [s for s in args.sources if not Path(s).is_file()]
    if missing:
        raise ValueError(f"source video(s) not found: {', '.join(missing)}")
    out = Path(args.out)
    if (out / "UCF-101").exists():
        raise ValueError(f"{out / 'UCF-101'} exists: give a new --out (a set is written once, never mixed)")
    ds = CameraMotionVideos(args.sources, num_videos_per_class=args.videos_per_class, num_frames=args.frames,
                            size=args.size, fps=args.fps, seed=args.seed, long_tail=args.long_tail)
    start = time.perf_counter()
    write_ucf101_layout(out, ds, container="avi")
    meta = {"sources": [str(s) for s in args.sources], "seed": args.seed, "videos_per_class": args.videos_per_class,
            "long_tail": args.long_tail, "frames": args.frames, "size": args.size, "fps": args.fps,
            "counts": dict(zip(ds.classes, ds.counts))}
    (out / "motion_set.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"wrote {len(ds)} clips of {len(ds.classes)} camera motions ({', '.join(f'{c} {n}' for c, n in meta['counts'].items())}) "
          f"under {out / 'UCF-101'} in {time.perf_counter() - start:.0f} s")
    return 0
