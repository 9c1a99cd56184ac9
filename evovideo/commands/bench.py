"""Benchmarks (numbers, not tests).  Each prints a side-by-side table in one run.

  evovideo bench data  --root /path/to/UCF101 ...   loader clips/s vs pytorchvideo and the raw decoder
  evovideo bench train ...                          one ELo step: Lightning vs a plain PyTorch loop
  evovideo bench zipf  ...                          k-means + KL vs scikit-learn and faiss k-means
  evovideo bench fitness ...                        every fitness on controlled feature sets
  evovideo bench tasks ...                          each ELo task's held-out pretext metric vs its baseline
  evovideo bench fewshot ...                        1,000 episodes vs feature extraction
  evovideo bench evolution ...                      evolved lambdas vs single terms, hand-set, uniform, random
  evovideo bench validity --run R                   does the run's label-free fitness rank its candidates as labels do?
  evovideo bench memory ...                         memory per clip by loss term; largest batch per GPU
  evovideo bench motion-set --sources V.mp4 ...     write a labelled motion-only set made from real footage
"""
from __future__ import annotations

import argparse
import importlib

BENCHMARKS = {
    "data": "evovideo.bench.data",
    "train": "evovideo.bench.train",
    "zipf": "evovideo.bench.zipf",
    "fitness": "evovideo.bench.fitness",
    "tasks": "evovideo.bench.tasks",
    "fewshot": "evovideo.bench.fewshot",
    "evolution": "evovideo.bench.evolution",
    "validity": "evovideo.bench.validity",
    "memory": "evovideo.bench.memory",
    "motion-set": "evovideo.bench.motion_set",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="benchmark", metavar="BENCHMARK", required=True)
    for name, module_name in BENCHMARKS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name != module_name:
                raise
            continue
        p = sub.add_parser(name, help=(module.__doc__ or "").strip().splitlines()[0],
                           description=module.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)


def run(args: argparse.Namespace) -> int:
    return int(args._run(args) or 0)
