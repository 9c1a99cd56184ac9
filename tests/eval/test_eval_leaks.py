"""Evaluation sets never share clips with training: synthetic seed streams, split-aware episodes."""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import yaml

from evovideo.data.synthetic import SyntheticVideos

RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "pretrain" / "demo_synthetic.yaml"


def _fingerprints(ds: SyntheticVideos) -> set[int]:
    """The first draw of every clip's motion generator: equal iff the clip's random draws are the same."""
    return {int(ds._rngs(i)[0].integers(2**62)) for i in range(len(ds))}


def _fewshot_default_set() -> SyntheticVideos:
    from evovideo.commands import fewshot

    parser = argparse.ArgumentParser()
    fewshot.add_arguments(parser)
    return fewshot._synthetic(parser.parse_args(["--encoder", "test_r2plus1d", "--dataset", "synthetic"]))


def test_fewshot_default_synthetic_clips_are_not_the_packaged_students_pretraining_clips():
    data = yaml.safe_load(RECIPE.read_text())["data"]["init_args"]
    pretrain = SyntheticVideos(num_videos_per_class=data["num_videos_per_class"], num_classes=data["num_classes"],
                               seed=data.get("seed", 0))
    assert not _fingerprints(_fewshot_default_set()) & _fingerprints(pretrain)


def test_eval_stream_never_meets_a_pretraining_seed():
    evals = set().union(*(_fingerprints(SyntheticVideos(8, seed=s, stream="eval")) for s in range(4)))
    pretrains = set().union(*(_fingerprints(SyntheticVideos(8, seed=s)) for s in range(4)))
    assert len(evals) == 4 * 80 and not evals & pretrains
    a, b = SyntheticVideos(2, seed=3, stream="eval")[5][0], SyntheticVideos(2, seed=3, stream="eval")[5][0]
    assert np.array_equal(a.frames.numpy(), b.frames.numpy())  # still seeded
