"""The held-out labelled videos of a benchmark, one vocabulary for every bench that scores students:
``--dataset synthetic`` (clips rendered in memory) or ``class-folders`` / ``ucf101`` / ``hmdb51`` with
``--root`` (files on disk, e.g. a ``bench motion-set`` of footage no run saw)."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    p = parser.add_argument
    p("--dataset", default="synthetic",
      help="the held-out labelled videos: synthetic (default: clips rendered with --data-seed), or every video "
           "of class-folders (root/<class>/<video>, e.g. <bench motion-set out>/UCF-101), ucf101, hmdb51 under --root")
    p("--root", help="--dataset other than synthetic: its root folder")
    p("--split", type=int, default=1, help="ucf101, hmdb51: the official split whose videos are used (default 1)")


def labelled_data(args: argparse.Namespace) -> dict[str, Any]:
    """The videos as a results file records them: ``{dataset}`` (synthetic), ``{dataset, root}``
    (class-folders, the root resolved) or ``{dataset, root, split}`` (ucf101, hmdb51); a bad
    combination is refused with the way out."""
    from evovideo.eval.videos import EVAL_DATASETS

    if args.dataset not in EVAL_DATASETS:
        raise ValueError(f"--dataset {args.dataset} is not a labelled set; choose from {', '.join(EVAL_DATASETS)}")
    if args.dataset == "synthetic":
        if args.root:
            raise ValueError("--root names the videos of --dataset class-folders, ucf101 or hmdb51; the synthetic "
                             "clips are rendered (--data-seed): drop --root or give --dataset")
        return {"dataset": "synthetic"}
    if not args.root or not Path(args.root).is_dir():
        raise ValueError(f"--dataset {args.dataset} needs --root, an existing folder (got {args.root!r})")
    data = {"dataset": args.dataset, "root": str(Path(args.root).resolve())}
    return data if args.dataset == "class-folders" else {**data, "split": args.split}
