"""Prototypes and batched logistic regression: separable toy features, agreement with scikit-learn."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from evovideo.eval.classifiers import logistic_regression_logits, prototype_logits
from evovideo.eval.fewshot import evaluate_fewshot


def _toy(E=8, way=5, shot=3, query=6, dim=32, noise=0.3, seed=0):
    gen = torch.Generator().manual_seed(seed)
    centers = torch.randn(E, way, dim, generator=gen)
    sup = centers.repeat_interleave(shot, 1) + noise * torch.randn(E, way * shot, dim, generator=gen)
    qry = centers.repeat_interleave(query, 1) + noise * torch.randn(E, way * query, dim, generator=gen)
    return sup, torch.arange(way).repeat_interleave(shot).expand(E, -1), qry, torch.arange(way).repeat_interleave(query)


def test_separable_toy_features_reach_100_percent():
    sup, ys, qry, yq = _toy()
    for fn in (prototype_logits, logistic_regression_logits):
        logits = fn(sup, ys, qry, 5)
        assert logits.shape == (8, 30, 5)
        assert (logits.argmax(-1) == yq).all(), fn.__name__


def test_random_features_are_at_chance():
    gen = torch.Generator().manual_seed(0)
    feats, labels = torch.randn(400, 16, generator=gen), torch.arange(10).repeat_interleave(40)
    (res,) = evaluate_fewshot(feats, labels, way=5, shots=[5], query=10, episodes=200, seed=0)
    for clf, s in res.summary.items():
        assert s.low < 20.0 < s.high or abs(s.mean - 20.0) < 4.0, (clf, s)


def test_logistic_regression_matches_scikit_learn():
    from sklearn.linear_model import LogisticRegression

    sup, ys, qry, _ = _toy(E=4, shot=2, noise=1.5, dim=64, seed=1)
    ours = logistic_regression_logits(sup, ys, qry, 5, C=1.0)
    for e in range(4):
        ref = LogisticRegression(C=1.0, tol=1e-10, max_iter=2000).fit(F.normalize(sup[e], dim=-1), ys[e])
        ref_logits = torch.as_tensor(ref.decision_function(F.normalize(qry[e], dim=-1).numpy()), dtype=torch.float32)
        centred = ours[e] - ours[e].mean(-1, keepdim=True)  # multinomial logits are defined up to a shift
        assert torch.allclose(centred, ref_logits - ref_logits.mean(-1, keepdim=True), atol=2e-3)


def test_evaluate_fewshot_same_seed_same_numbers():
    gen = torch.Generator().manual_seed(0)
    centers = torch.randn(10, 16, generator=gen)
    labels = torch.arange(10).repeat_interleave(20)
    feats = centers[labels] + 1.2 * torch.randn(200, 16, generator=gen)
    a = evaluate_fewshot(feats, labels, way=5, shots=[1, 5], query=5, episodes=50, seed=3)
    b = evaluate_fewshot(feats, labels, way=5, shots=[1, 5], query=5, episodes=50, seed=3)
    assert [r.accuracies for r in a] == [r.accuracies for r in b]
    one, five = a
    assert five.summary["prototypes"].mean > one.summary["prototypes"].mean  # more shots help
    assert set(one.to_dict()["accuracy"]) == {"prototypes", "logreg"}
