"""The cross-modal agreement fitness: rewards clusters that are the clips' motion clusters, not any
tight clusters (which the gap rewards), and never a collapse."""
from __future__ import annotations

import math

import pytest
import torch

from evovideo.evolution import FITNESS, FlowHistogram, adjusted_rand_index


def _clusters(labels: torch.Tensor, dim: int, noise: float, g: torch.Generator) -> torch.Tensor:
    centres = torch.randn(int(labels.max()) + 1, dim, generator=g)
    return centres[labels] + noise * torch.randn(len(labels), dim, generator=g)


@pytest.fixture(scope="module")
def views():
    """200 clips of 10 motion classes with 10 looks drawn independently of the class: the flow reference
    (the motion, noisy), a student that clusters by look (tight: what reconstruction learns on a
    motion-only set) and one that clusters by motion (looser)."""
    g = torch.Generator().manual_seed(0)
    motion = torch.arange(10).repeat_interleave(20)
    look = torch.randint(0, 10, (200,), generator=g)
    return {"reference": _clusters(motion, 64, 0.8, g), "by_look": _clusters(look, 64, 0.1, g),
            "by_motion": _clusters(motion, 64, 0.6, g), "random": torch.randn(200, 64, generator=g),
            "collapsed": torch.ones(200, 64) + 1e-7 * torch.randn(200, 64, generator=g)}


def test_appearance_clusters_fool_the_gap_not_the_agreement(views):
    gap, agree = FITNESS.create("gap", k=10, restarts=2), FITNESS.create("agreement", k=10, restarts=2)
    assert gap(views["by_look"]).score < gap(views["by_motion"]).score  # the gap prefers the tighter look clusters
    score = {name: agree(views[name], reference=views["reference"]).score
             for name in ("by_look", "by_motion", "random", "collapsed")}
    assert score["by_motion"] < -0.5 < score["by_look"]
    assert abs(score["by_look"]) < 0.05 and abs(score["random"]) < 0.05  # chance-corrected: unrelated -> ~0
    assert score["collapsed"] == 1.0  # the worst score, below every partition's


def test_agreement_needs_a_reference_of_the_same_clips(views):
    agree = FITNESS.create("agreement", k=10)
    assert not agree.requires_labels and agree.reference == "flow_hof" and agree.min_samples == 10
    with pytest.raises(ValueError, match="a search computes it from its fitness data"):
        agree(views["by_motion"])
    with pytest.raises(ValueError, match="a reference of the same N"):
        agree(views["by_motion"], reference=views["reference"][:100])
    with pytest.raises(ValueError, match="unknown reference 'audio_mfcc'; choose from flow_hof"):
        FITNESS.create("agreement", reference="audio_mfcc")


def test_adjusted_rand_index_matches_scikit_learn():
    sklearn = pytest.importorskip("sklearn.metrics")
    g = torch.Generator().manual_seed(1)
    for n, ka, kb in [(50, 3, 4), (200, 10, 10), (31, 2, 7)]:
        a, b = torch.randint(0, ka, (n,), generator=g), torch.randint(0, kb, (n,), generator=g)
        b[: n // 2] = a[: n // 2]  # partly agreeing
        assert adjusted_rand_index(a, b) == pytest.approx(sklearn.adjusted_rand_score(a.numpy(), b.numpy()), abs=1e-9)
    a = torch.randint(0, 5, (40,), generator=g)
    assert adjusted_rand_index(a, (a + 2) % 5) == pytest.approx(1.0)  # renaming clusters changes nothing
    assert adjusted_rand_index(a, torch.zeros(40, dtype=torch.long)) == 0.0  # one cluster tells nothing


def _moving(dx: float, dy: float) -> torch.Tensor:
    flow = torch.zeros(1, 2, 4, 8, 8)
    flow[:, 0], flow[:, 1] = dx, dy
    return flow


def test_flow_histogram_puts_each_direction_in_its_own_sector():
    hof = FlowHistogram(bins=8, cells=2, segments=2)
    codes = {}
    for name, (dx, dy) in {"right": (0.5, 0.0), "left": (-0.5, 0.0), "down": (0.0, 0.5), "up": (0.0, -0.5)}.items():
        h = hof.forward_head(hof.forward_features(_moving(dx, dy)))
        assert h.shape == (1, 8 * 2 * 2 * 2)
        per_sector = h.reshape(8, -1).sum(1)
        assert int((per_sector > 0).sum()) == 1 and per_sector.sum() == pytest.approx(0.5 * 8)
        codes[name] = int(per_sector.argmax())
    assert len(set(codes.values())) == 4
    assert float(hof.forward_features(_moving(0.0, 0.0)).abs().sum()) == 0.0  # no motion, no votes
    # half of a clip moving: only the cells and segment where it moves vote
    flow = torch.zeros(1, 2, 4, 8, 8)
    flow[:, 0, 2:, :, 4:] = 0.5  # second temporal half, right half of the frame
    cells = hof.forward_features(flow).sum(1)[0]  # (segments, cells, cells)
    assert cells[0].sum() == 0 and cells[1, :, 0].sum() == 0 and float(cells[1, :, 1].min()) > 0
    with pytest.raises(ValueError, match=r"flow clips \(B, 2, T, H, W\)"):
        hof.forward_features(torch.zeros(1, 3, 4, 8, 8))
    assert not math.isnan(float(hof.forward_features(_moving(0.0, -0.0)).sum()))
