"""Episode sampler: no query in support, balanced classes, deterministic for a seed; class splits."""
from __future__ import annotations

import pytest
import torch

from evovideo.eval.episodes import random_class_split, read_class_split, sample_episodes

LABELS = torch.arange(8).repeat_interleave(30)[torch.randperm(240, generator=torch.Generator().manual_seed(1))]


def test_no_query_in_support_and_balanced():
    eps = sample_episodes(LABELS, way=5, shot=5, query=15, episodes=50, seed=0)
    assert eps.support.shape == (50, 5, 5) and eps.query.shape == (50, 5, 15) and eps.classes.shape == (50, 5)
    for e in range(50):
        sup, qry = set(eps.support[e].flatten().tolist()), set(eps.query[e].flatten().tolist())
        assert not sup & qry
        assert len(sup) == 25 and len(qry) == 75  # no repeats either
        assert len(set(eps.classes[e].tolist())) == 5
        for n, c in enumerate(eps.classes[e].tolist()):
            assert (LABELS[eps.support[e, n]] == c).all() and (LABELS[eps.query[e, n]] == c).all()
    assert eps.support_labels().shape == (50, 25) and eps.query_labels()[0].tolist() == sum([[n] * 15 for n in range(5)], [])


def test_deterministic_for_a_seed():
    a = sample_episodes(LABELS, way=5, shot=1, query=3, episodes=20, seed=7)
    b = sample_episodes(LABELS, way=5, shot=1, query=3, episodes=20, seed=7)
    c = sample_episodes(LABELS, way=5, shot=1, query=3, episodes=20, seed=8)
    assert torch.equal(a.support, b.support) and torch.equal(a.query, b.query) and torch.equal(a.classes, b.classes)
    assert not torch.equal(a.support, c.support)


def test_global_rng_untouched():
    torch.manual_seed(3)
    expected = torch.rand(1)
    torch.manual_seed(3)
    sample_episodes(LABELS, way=3, shot=1, query=1, episodes=5, seed=0)
    assert torch.equal(torch.rand(1), expected)


def test_classes_restriction_and_small_classes_skipped():
    labels = torch.tensor([0] * 10 + [1] * 10 + [2] * 2 + [3] * 10 + [-1] * 5)
    eps = sample_episodes(labels, way=3, shot=2, query=3, episodes=10, seed=0)
    assert set(eps.classes.flatten().tolist()) == {0, 1, 3}  # class 2 too small, -1 unlabeled
    eps = sample_episodes(labels, way=2, shot=2, query=3, episodes=10, seed=0, classes=[1, 3])
    assert set(eps.classes.flatten().tolist()) == {1, 3}
    with pytest.raises(ValueError, match="only 3 of 4 classes"):
        sample_episodes(labels, way=4, shot=2, query=3, episodes=1, seed=0)


def test_class_split_file(tmp_path):
    names = ["brush_hair", "cartwheel", "catch", "chew", "clap"]
    f = tmp_path / "split.txt"
    f.write_text("# meta-test classes\nbrush_hair\n\nCatch  # case-insensitive\nclap\n")
    assert read_class_split(f, names) == ["brush_hair", "catch", "clap"]
    f.write_text("brush_hair\nflying\n")
    with pytest.raises(ValueError, match="flying"):
        read_class_split(f, names)
    with pytest.raises(FileNotFoundError, match="one class per line"):
        read_class_split(tmp_path / "missing.txt", names)


def test_random_class_split_seeded():
    names = [f"c{i:02d}" for i in range(51)]
    a, b = random_class_split(names, 10, seed=0), random_class_split(names, 10, seed=0)
    assert a == b and len(set(a)) == 10 and set(a) <= set(names)
    assert random_class_split(names, 10, seed=1) != a
    with pytest.raises(ValueError, match="1..51"):
        random_class_split(names, 52)
