"""Multi-view averaging: shape and order (clip-major views, video-major rows), any-order aggregation."""
from __future__ import annotations

import pytest
import torch

from evovideo.eval.multiview import VideoAggregator, average_views, view_index


def test_shape_and_order():
    B, clips, crops, C = 3, 2, 3, 4
    V = clips * crops
    assert [view_index(t, s, crops) for t in range(clips) for s in range(crops)] == list(range(V))
    # row r = video * V + view carries the value (video, view) so the averaging order is visible
    feats = torch.tensor([[float(b), float(v)] for b in range(B) for v in range(V)])
    out = average_views(feats, V, softmax=False)
    assert out.shape == (B, 2)
    assert out[:, 0].tolist() == [0.0, 1.0, 2.0] and out[:, 1].tolist() == [2.5] * B
    logits = torch.randn(B * V, C)
    probs = average_views(logits, V)
    assert probs.shape == (B, C) and torch.allclose(probs.sum(-1), torch.ones(B))
    assert torch.allclose(probs[1], logits[V : 2 * V].softmax(-1).mean(0))
    with pytest.raises(ValueError, match="video-major"):
        average_views(torch.randn(7, C), 3)


def test_aggregator_groups_by_video_in_any_order():
    B, V, C = 4, 3, 5
    logits = torch.randn(B * V, C)
    video = torch.arange(B).repeat_interleave(V)
    labels = torch.tensor([0, 1, 2, 3]).repeat_interleave(V)
    perm = torch.randperm(B * V)
    agg = VideoAggregator()
    for chunk in perm.split(5):  # views of one video spread across batches
        agg.update(video[chunk] + 10, logits[chunk], labels[chunk])
    ids, scores, vlabels = agg.compute()
    assert ids.tolist() == [10, 11, 12, 13] and vlabels.tolist() == [0, 1, 2, 3]
    assert torch.allclose(scores, average_views(logits, V), atol=1e-6)
    expected = 100.0 * (average_views(logits, V).argmax(-1) == torch.arange(B)).float().mean().item()
    assert agg.accuracy() == pytest.approx(expected)
