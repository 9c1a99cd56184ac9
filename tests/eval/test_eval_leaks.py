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


def _groups_of(names):
    from evovideo.data.groups import video_groups

    return video_groups(names)


def test_fewshot_episodes_never_take_support_and_query_from_one_group(monkeypatch):
    """UCF101-style names, two clips per group and class: no episode may pair clips of one gXX."""
    import evovideo.eval.fewshot as fewshot_mod
    from evovideo.eval.pipeline import fewshot_eval
    from evovideo.factory import create_model

    drawn = []
    real = fewshot_mod.sample_episodes

    def spy(*args, **kwargs):
        drawn.append(real(*args, **kwargs))
        return drawn[-1]

    monkeypatch.setattr(fewshot_mod, "sample_episodes", spy)
    synthetic = SyntheticVideos(num_videos_per_class=50, num_classes=3, num_frames=16, size=32, stream="eval")
    _, fs = fewshot_eval(create_model("test_r2plus1d"), "synthetic", way=3, shots=(5,), query=15, episodes=50,
                         synthetic=synthetic, cache_dir=None, progress=False, batch_size=32)
    groups = [(n.split("/")[0], g) for n, g in zip(fs.names, _groups_of(fs.names))]
    assert len(set(groups)) == 3 * 25  # two clips in every group: a plain draw would pair them
    (eps,) = drawn
    for e in range(eps.num_episodes):
        for n in range(eps.way):
            sup = {groups[i] for i in eps.support[e, n].tolist()}
            qry = {groups[i] for i in eps.query[e, n].tolist()}
            assert not sup & qry, f"episode {e}: support and query share groups {sup & qry}"


def test_group_names_of_ucf101_and_hmdb51():
    from evovideo.data.groups import video_group

    assert video_group("/d/UCF-101/ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi") == "g08"
    assert video_group("/d/kick/American_History_X_kick_l_cm_np1_le_med_33.avi", "kick") == "American_History_X"
    assert video_group("kick/kick__Bruce_Lee_Kick_kick_u_cm_np1_fr_med_0", "kick") == "kick__Bruce_Lee_Kick"
    assert video_group("/d/other/clip.mp4", "other") is None


def test_linear_probe_C_is_chosen_on_train_videos_only():
    """Changing every test label cannot change the chosen C: the sweep never reads test videos."""
    import torch

    from evovideo.eval.features import FeatureSet
    from evovideo.eval.pipeline import split_probes

    g = torch.Generator().manual_seed(0)
    labels = torch.arange(4).repeat_interleave(30)
    feats = torch.randn(120, 16, generator=g) + 4.0 * torch.nn.functional.one_hot(labels, 16).float()
    names = [f"C{int(y)}/v_C{int(y)}_g{i % 15 + 1:02d}_c01" for i, y in enumerate(labels)]
    test = {n for i, n in enumerate(names) if i % 15 < 4}
    first = split_probes(FeatureSet(feats, labels, names, {}), test)
    flipped = labels.clone()
    is_test = torch.tensor([n in test for n in names])
    flipped[is_test] = (flipped[is_test] + 1) % 4
    second = split_probes(FeatureSet(feats, flipped, names, {}), test)
    assert first["C"] == second["C"] and first["C_selection"] == second["C_selection"]
    assert set(first["C_selection"]["val_accuracy"]) == {0.01, 0.1, 1.0, 10.0, 100.0, 1000.0}
    assert first["linear"] > 80 and second["linear"] < 20
