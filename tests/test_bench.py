"""The benchmark commands run end to end on tiny settings (their numbers are in the README)."""
from __future__ import annotations

import pytest

from evovideo.cli import main


def test_bench_fitness_ranks_structure_above_random_and_collapse(capsys):
    assert main(["bench", "fitness", "--k", "8", "--per-class", "30", "--dim", "32", "--seeds", "0"]) == 0
    rows = {line.split("|")[1].strip(): line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")}
    assert rows["zipf"].rstrip().endswith("| yes |") and rows["knn"].rstrip().endswith("| yes |")


def test_bench_zipf_compares_faiss_and_scikit_learn(capsys):
    pytest.importorskip("faiss", reason="faiss-cpu not installed: pip install 'evovideo[bench]'")
    pytest.importorskip("sklearn", reason="scikit-learn not installed: pip install 'evovideo[bench]'")
    assert main(["bench", "zipf", "--n", "2000", "--dim", "16", "--k", "5", "--iters", "3",
                 "--precision", "auto"]) == 0
    out = capsys.readouterr().out
    assert "faiss-cpu Kmeans" in out and "scikit-learn KMeans" in out and "auto = " in out


@pytest.mark.slow
def test_bench_tasks_runs_a_term_in_eval_mode(capsys):
    assert main(["bench", "tasks", "--steps", "2", "--videos-per-class", "2", "--batch-size", "4",
                 "--terms", "rgb/temporal_order"]) == 0
    assert "| rgb/temporal_order | accuracy (pos + neg) |" in capsys.readouterr().out


def test_retrieval_at_twice_chance_is_not_called_a_clear_win():
    """Top-1 retrieval among 180 held-out clips: 2 hits (twice chance, 1 expected) is noise, P ~ 0.26
    under chance; 'clearly beats' needs 5 hits (5x chance, P < 0.005 for any N >= 50)."""
    from evovideo.bench.tasks import clearly_beats

    metric = "top-1 retrieval among 180 clips"
    assert not clearly_beats(metric, 2 / 180, 1 / 180)
    assert clearly_beats(metric, 5 / 180, 1 / 180)


def test_bench_tasks_computes_only_the_modalities_a_term_reads():
    """Farneback flow is most of a fresh clip's cost: the RGB-only terms (temporal order needs
    ~3,000 steps on the tiny student) must not compute flow or audio for every training clip."""
    from evovideo.bench.tasks import TERMS, term_modalities

    assert term_modalities("rgb/temporal_order") == ("rgb",)
    assert term_modalities("rgb/arrow_of_time (decelerating clips)") == ("rgb",)
    assert term_modalities("rgb->flow/cross_modal_transfer") == ("rgb", "flow")
    assert term_modalities("audio-rgb/temporal_alignment") == ("rgb", "audio")
    assert term_modalities("flow:layer3") == ("rgb", "flow")  # the teacher is a flow tower
    assert all(term_modalities(t)[0] == "rgb" for t in TERMS)


@pytest.mark.slow
def test_bench_tasks_draws_fresh_training_clips_every_epoch():
    """The task bench trains as a real run does: every epoch draws new windows of the same training
    videos.  Cycling one fixed clip per video let the embedding and alignment terms memorise them
    (train loss 0.005 / 0.000 at 1,000 steps) while scoring chance held out."""
    import argparse

    import torch

    from evovideo.bench.tasks import _data, train_stream

    dm, held_out = _data(argparse.Namespace(videos_per_class=2, batch_size=4))
    n = len(dm.train_dataloader())
    stream = train_stream(dm)
    first = [next(stream) for _ in range(n)]
    second = [next(stream) for _ in range(n)]

    def clips(batches):
        return {int(i): clip for b in batches for i, clip in zip(b["video_index"], b["rgb"])}

    a, b = clips(first), clips(second)
    common = a.keys() & b.keys()  # the same videos in both epochs (the last partial batch is dropped)
    assert len(common) >= len(a) // 2
    assert sum(not torch.equal(a[i], b[i]) for i in common) >= len(common) // 2  # at other windows


def test_event_clips_are_seeded_per_clip_and_their_shifted_audio_differs():
    """Clip i comes from (seed, start + i) alone, so the fresh training stream never repeats a clip
    and a batch can be made on its own; the shifted window is other audio, the rest is the clip's."""
    import torch

    from evovideo.bench.probe_clips import batches, event_clips, event_stream

    six = event_clips(6, seed=3)
    tail = event_clips(2, seed=3, start=4)
    assert all(torch.equal(six[k][4:], tail[k]) for k in six)
    assert six["rgb"].shape == (6, 3, 8, 32, 32) and six["audio"].shape == six["audio_shifted"].shape
    assert six["has_audio"].all()
    assert all((six["audio"][i] - six["audio_shifted"][i]).abs().mean() > 0.01 for i in range(6))
    first = next(event_stream(3, 2))
    assert torch.equal(first["rgb"], six["rgb"][:2])
    assert [b["rgb"].shape[0] for b in batches(six, 4)] == [4, 2]
