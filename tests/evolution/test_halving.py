"""Successive halving's building blocks: stop a run part-way on the full run's schedule, continue it
bit for bit; share built samples across runs; long-tailed synthetic folds."""
from __future__ import annotations

import copy

import pytest
import torch

from evovideo.data.memo import SampleMemo
from evovideo.lightning import SyntheticDataModule
from evovideo.lightning.pretrain import run_pretraining

TINY = {"num_classes": 4, "video_frames": 16, "video_size": 32, "modalities": ["rgb"], "num_frames": 4,
        "stride": 2, "size": 16, "resize": 20, "batch_size": 4, "num_videos_per_class": 3}
RECIPE = {
    "model": {"class_path": "evovideo.lightning.PretrainModule",
              "init_args": {"student": "test_r2plus1d", "tasks": {"rgb/reconstruction": 1.0}, "lr": 0.01,
                            "warmup_steps": 2}},
    "data": {"class_path": "evovideo.lightning.SyntheticDataModule", "init_args": TINY},
    "trainer": {"accelerator": "cpu", "devices": 1, "max_steps": 6, "limit_val_batches": 0, "logger": False,
                "enable_progress_bar": False, "enable_model_summary": False, "deterministic": True},
}


def test_stopped_then_resumed_equals_one_run(tmp_path):
    whole = run_pretraining(copy.deepcopy(RECIPE), root_dir=tmp_path / "whole")
    part = run_pretraining(copy.deepcopy(RECIPE), root_dir=tmp_path / "split", stop_at=3)
    assert (tmp_path / "split" / "stopped.ckpt").is_file()
    rest = run_pretraining(copy.deepcopy(RECIPE), root_dir=tmp_path / "split2",
                           resume_from=tmp_path / "split" / "stopped.ckpt")
    w, p, r = (dict(m.state_dict()) for m in (whole, part, rest))
    assert any(not torch.equal(w[k], p[k]) for k in w)  # 3 steps are not 6
    assert all(torch.allclose(w[k].float(), r[k].float(), atol=1e-6) for k in w)


def test_memo_builds_each_sample_once():
    SampleMemo.clear()
    dm = SyntheticDataModule(**TINY, memo_mb=64)
    dm.setup("fit")
    first = [b["rgb"] for b in dm.train_dataloader()]
    memo = dm.dataset("train").memo
    assert memo.misses == len(dm.dataset("train")) and memo.hits == 0
    dm2 = SyntheticDataModule(**TINY, memo_mb=64)  # a second run with the same settings: the same memo
    dm2.setup("fit")
    second = [b["rgb"] for b in dm2.train_dataloader()]
    assert dm2.dataset("train").memo is memo and memo.hits == len(dm.dataset("train"))
    assert all(torch.equal(a, b) for a, b in zip(first, second))
    other = SyntheticDataModule(**{**TINY, "size": 12, "resize": 14}, memo_mb=64)
    other.setup("fit")
    assert other.dataset("train").memo is not memo  # other settings, other samples


def _epochs(dm, epochs):
    loader = dm.train_dataloader()
    out = []
    for epoch in range(epochs):
        loader.sampler.set_epoch(epoch)
        out += [b["rgb"] for b in loader]
    return out


def test_memo_renders_each_video_once_and_no_audio_nobody_hears(monkeypatch):
    """Every epoch draws new clips (new sample-memo keys), but from the same rendered videos: with the video
    memo on (the default), a video is rendered once per process, not once per clip; and no audio track unless
    a modality needs it."""
    import evovideo.data.synthetic as synthetic

    calls = {"frames": 0, "audio": 0}
    frames, audio = synthetic._render_frames, synthetic._render_audio

    def count(name, fn):
        return lambda *a, **k: (calls.__setitem__(name, calls[name] + 1), fn(*a, **k))[1]

    monkeypatch.setattr(synthetic, "_render_frames", count("frames", frames))
    monkeypatch.setattr(synthetic, "_render_audio", count("audio", audio))
    SampleMemo.clear()
    plain = SyntheticDataModule(**TINY, video_memo_mb=0)
    plain.setup("fit")
    reference = _epochs(plain, 3)
    videos = len(plain.dataset("train"))
    assert calls == {"frames": 3 * videos, "audio": 0}  # without the memo: once per clip drawn
    calls.update(frames=0)
    memo = SyntheticDataModule(**TINY)
    memo.setup("fit")
    assert all(torch.equal(a, b) for a, b in zip(_epochs(memo, 3), reference))
    again = SyntheticDataModule(**TINY, memo_mb=64)  # another run (candidate) of the same settings, same process
    again.setup("fit")
    _epochs(again, 1)
    assert calls == {"frames": videos, "audio": 0}
    hears = SyntheticDataModule(**{**TINY, "modalities": ["rgb", "audio"]})
    hears.setup("fit")
    sample = hears.dataset("train")[0]
    assert calls["audio"] == 1 and sample["audio"].abs().sum() > 0 and bool(sample["has_audio"])


def test_long_tailed_fold_is_a_zipf_subset_of_the_balanced_one():
    bal = SyntheticDataModule(**{**TINY, "num_videos_per_class": 32})
    tail = SyntheticDataModule(**{**TINY, "num_videos_per_class": 32}, long_tail=1.0)
    for fold in ("train", "val"):
        b, t = bal.dataset(fold), tail.dataset(fold)
        counts = torch.bincount(torch.tensor([r.label for r in t.records]), minlength=4).tolist()
        m = max(counts)
        assert counts == [max(1, round(m / (c + 1))) for c in range(4)] and counts[0] > counts[3]
        assert {r.path for r in t.records} <= {r.path for r in b.records}


def test_refused_recipe_reaches_the_caller_as_recipe_error(tmp_path):
    """The evolution scores a refused candidate +inf by catching RecipeError; LightningCLI wrapped it
    in a plain ValueError, so the 'zero' mutation of the embedding term killed the whole run."""
    from evovideo.tasks.base import RecipeError

    recipe = copy.deepcopy(RECIPE)
    recipe["model"]["init_args"].update(towers={"flow": "test_flow"}, distill={"flow:layer3": 0.5},
                                        tasks={"flow-rgb/cross_modal_embedding": 0.0, "rgb/reconstruction": 1.0})
    recipe["data"]["init_args"] = {**TINY, "modalities": ["rgb", "flow"]}
    with pytest.raises(RecipeError, match="trained by no active task"):
        run_pretraining(recipe, root_dir=tmp_path)
