"""Does the unsupervised fitness rank candidates like a labelled measure does?

Over the candidates of a run (each record's fitness ``score`` and, when the fitness data is
labelled, its ``metrics["knn_accuracy"]``, computed on the same features but never used to
select), Spearman's rank correlation between ``-score`` (so that + means "agrees": lower fitness,
higher accuracy) and the accuracy, with a two-sided permutation p-value::

    v = fitness_validity(records)            # {"rho", "p", "n", ...} or None without labels
    plot_validity(records, "runs/evolve/x/plots/fitness_validity.png")

Records of a successive-halving run are grouped by training steps: the first rung holds every
candidate at the same step count, the cleanest comparison.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np


def rankdata(x: np.ndarray) -> np.ndarray:
    """Ranks from 1, ties get their mean rank."""
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x), dtype=float)
    ranks[order] = np.arange(1, len(x) + 1)
    for v in np.unique(x):
        tie = x == v
        if tie.sum() > 1:
            ranks[tie] = ranks[tie].mean()
    return ranks


def spearman(a: Sequence[float], b: Sequence[float], permutations: int = 10000, seed: int = 0) -> tuple[float, float]:
    """Spearman's rho of ``a`` and ``b`` and its two-sided permutation p-value."""
    ra, rb = rankdata(np.asarray(a, dtype=float)), rankdata(np.asarray(b, dtype=float))
    if len(ra) < 3 or ra.std() == 0 or rb.std() == 0:
        return math.nan, math.nan
    rho = float(np.corrcoef(ra, rb)[0, 1])
    rng = np.random.default_rng(seed)
    # every permutation keeps rb's mean and spread: Pearson's r of each is one dot product (all at once)
    shuffled = np.stack([rng.permutation(rb) for _ in range(permutations)])
    ca, cb = ra - ra.mean(), rb - rb.mean()
    perm = (shuffled - rb.mean()) @ ca / math.sqrt((ca @ ca) * (cb @ cb))
    p = float((np.sum(np.abs(perm) >= abs(rho) - 1e-12) + 1) / (permutations + 1))
    return rho, p


def _usable(records: Sequence[dict[str, Any]], measure: str) -> list[dict[str, Any]]:
    return [r for r in records if math.isfinite(r.get("score", math.inf)) and measure in r.get("metrics", {})]


def groups(records: Sequence[dict[str, Any]], measure: str = "knn_accuracy") -> dict[str, list[dict[str, Any]]]:
    """``{"all candidates": ...}`` without halving; with it, one group per rung (``"N steps"``), one
    record per candidate (a stopped candidate's rung score is saved twice: once is enough)."""
    recs = _usable(records, measure)
    if not any("rung" in r for r in recs):
        return {"all candidates": recs} if recs else {}
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for r in recs:
        out.setdefault(f"{r['steps']} steps", {})[r["id"]] = r
    return {k: list(v.values()) for k, v in sorted(out.items(), key=lambda kv: int(kv[0].split()[0]))}


def fitness_validity(records: Sequence[dict[str, Any]], measure: str = "knn_accuracy",
                     fitness_key: str | None = None) -> dict[str, dict[str, float]]:
    """Per group: ``{"rho", "p", "n"}`` of -fitness against ``measure`` (empty without labels).
    ``fitness_key`` picks a metric other than the score (e.g. ``"zipf_kl"``: the KL alone)."""
    out = {}
    for name, recs in groups(records, measure).items():
        fit = [-(r["metrics"][fitness_key] if fitness_key else r["score"]) for r in recs]
        rho, p = spearman(fit, [r["metrics"][measure] for r in recs])
        out[name] = {"rho": rho, "p": p, "n": len(recs)}
    return out


def seed_agreement(records: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """How much a candidate's fitness is its λ and how much its training seed, measured on the search.

    For a run with ``candidate_seeds`` >= 2 (records carry ``metrics["seed_scores"]``), per group (rung):
    Spearman's ρ between the seeds' fitness over candidates (mean over seed pairs; ``p`` of the
    first pair), and the Spearman-Brown reliability of the mean over the run's n seeds,
    ``n·ρ / (1 + (n−1)·ρ)``: the rank agreement to expect with a rerun on n other seeds (0 when ρ ≤ 0:
    the seeds share no λ signal; the formula would give a meaningless negative ratio).  Empty for a
    one-seed run."""
    out = {}
    for name, recs in groups(records, "seed_scores").items():
        seeds = sorted(set.intersection(*(set(r["metrics"]["seed_scores"]) for r in recs)), key=int)
        if len(seeds) < 2 or len(recs) < 3:
            continue
        pairs = [(a, b) for i, a in enumerate(seeds) for b in seeds[i + 1:]]
        stats = [spearman([r["metrics"]["seed_scores"][a] for r in recs], [r["metrics"]["seed_scores"][b] for r in recs])
                 for a, b in pairs]
        rho = float(np.mean([s[0] for s in stats]))
        n = len(seeds)
        out[name] = {"rho": rho, "p": stats[0][1], "n": len(recs), "seeds": n,
                     "reliability": n * rho / (1 + (n - 1) * rho) if rho > 0 else 0.0}  # ρ ≤ 0: no λ signal
    return out


def plot_validity(records: Sequence[dict[str, Any]], path: Any, measure: str = "knn_accuracy") -> Any:
    """Scatter of fitness (x, lower is better) against the labelled measure (y), one colour per rung."""
    from evovideo.evolution.plots import _save, plt

    fig, ax = plt.subplots(figsize=(5.5, 4))
    stats = fitness_validity(records, measure)
    for name, recs in groups(records, measure).items():
        s = stats[name]
        ax.scatter([r["score"] for r in recs], [r["metrics"][measure] for r in recs], s=16,
                   label=f"{name}: ρ={s['rho']:.2f}, p={s['p']:.3f}, n={s['n']}")
    ax.set_xlabel("fitness score (lower is better)")
    ax.set_ylabel(measure.replace("_", " "))
    ax.set_title("fitness validity (Spearman of −fitness vs labelled)")
    ax.legend(fontsize=7)
    return _save(fig, path)


def rescore(out_dir: Any, fitness: Any, steps: int, long_tail: float = 0.0) -> list[dict[str, Any]]:
    """Records of a finished run re-scored with another ``fitness`` from the features each candidate
    saved at ``steps`` (``<out>/candidates/<id>/steps<N>/fitness_features.pt``); ``long_tail`` = s > 0
    scores only the Zipf-frequency subset of the (balanced) fitness set, the labelled measure
    (kNN accuracy) staying the one of the whole set.  Feed the result to :func:`fitness_validity`."""
    from pathlib import Path

    import torch

    from evovideo.data import long_tailed
    from evovideo.eval.features import FeatureSet
    from evovideo.evolution.knn import knn_accuracy

    out = []
    for path in sorted(Path(out_dir, "candidates").glob(f"*/steps{steps}/fitness_features.pt")):
        fs = FeatureSet.load(path)
        keep = list(range(len(fs.labels)))
        if long_tail > 0:
            keep = long_tailed(keep, fs.labels.tolist(), long_tail)
        idx = torch.tensor(keep)
        result = fitness(fs.features[idx])
        out.append({"id": path.parents[1].name, "score": result.score, "steps": steps,
                    "metrics": {**result.metrics, "knn_accuracy": knn_accuracy(fs.features, fs.labels)}})
    return out
