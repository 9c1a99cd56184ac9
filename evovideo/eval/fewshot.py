"""Few-shot evaluation of fixed features: episodes -> classifiers -> mean accuracy ± 95% CI.

    results = evaluate_fewshot(features, labels, way=5, shots=(1, 5), query=15, episodes=1000, seed=0)
    for r in results:
        print(r.shot, r.summary["prototypes"], r.summary["logreg"])   # e.g. "61.20 ± 0.85"

Every shot uses episodes drawn with the same ``seed`` (same seed -> same episodes -> same
numbers).  Episodes are classified in chunks, all episodes of a chunk in one batched call.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Sequence

import torch

from evovideo.eval.classifiers import CLASSIFIERS
from evovideo.eval.episodes import Episodes, sample_episodes
from evovideo.eval.stats import MeanCI, mean_ci95

log = logging.getLogger(__name__)


@dataclass
class FewShotResult:
    """Per-episode accuracies (percent) of each classifier for one (way, shot) setting."""

    way: int
    shot: int
    query: int
    episodes: int
    seed: int
    accuracies: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def summary(self) -> dict[str, MeanCI]:
        return {name: mean_ci95(accs) for name, accs in self.accuracies.items()}

    def to_dict(self) -> dict:
        return {
            "way": self.way, "shot": self.shot, "query": self.query, "episodes": self.episodes,
            "seed": self.seed, "seconds": round(self.seconds, 4),
            "accuracy": {n: {"mean": s.mean, "ci95": s.ci95} for n, s in self.summary.items()},
        }


def classify_episodes(
    features: torch.Tensor, episodes: Episodes, classifier: str, *, chunk: int = 250
) -> torch.Tensor:
    """Accuracy in percent of each episode, (E,), for one classifier name (see ``CLASSIFIERS``)."""
    if classifier not in CLASSIFIERS:
        raise ValueError(f"unknown classifier '{classifier}'; known: {', '.join(CLASSIFIERS)}")
    fn = CLASSIFIERS[classifier]
    features = features.float()
    out = []
    for s in range(0, episodes.num_episodes, chunk):
        sup_idx = episodes.support[s : s + chunk].flatten(1)  # (e, way*shot)
        qry_idx = episodes.query[s : s + chunk].flatten(1)  # (e, way*query)
        e = sup_idx.shape[0]
        sup_y = episodes.support_labels()[:e]
        qry_y = episodes.query_labels()[:e]
        logits = fn(features[sup_idx], sup_y, features[qry_idx], episodes.way)  # (e, Q, way)
        out.append(100.0 * (logits.argmax(-1) == qry_y).float().mean(1))
    return torch.cat(out)


def evaluate_fewshot(
    features: torch.Tensor,
    labels: torch.Tensor,
    *,
    way: int = 5,
    shots: Sequence[int] = (1, 5),
    query: int = 15,
    episodes: int = 1000,
    seed: int = 0,
    classes: Sequence[int] | None = None,
    classifiers: Sequence[str] = ("prototypes", "logreg"),
    groups: Sequence[str] | None = None,
) -> list[FewShotResult]:
    """N-way K-shot accuracy of ``features`` (N, D) with ``labels`` (N,), one result per shot.

    ``groups``: one source-video id per sample; support and query of a class never share one."""
    if features.shape[0] != len(labels):
        raise ValueError(f"features have {features.shape[0]} rows but labels have {len(labels)}")
    results = []
    for shot in shots:
        start = time.perf_counter()
        eps = sample_episodes(labels, way=way, shot=shot, query=query, episodes=episodes, seed=seed, classes=classes,
                              groups=groups)
        result = FewShotResult(way, shot, query, episodes, seed)
        for name in classifiers:
            result.accuracies[name] = classify_episodes(features, eps, name).tolist()
        result.seconds = time.perf_counter() - start
        log.info("%d-way %d-shot: %s (%.2fs)", way, shot,
                 ", ".join(f"{n} {s}" for n, s in result.summary.items()), result.seconds)
        results.append(result)
    return results
