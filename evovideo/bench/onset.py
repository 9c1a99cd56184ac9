"""When does each loss term start to learn, and does that decide the run's downstream accuracy?

A term's **onset** is the first logged step at which its training loss, averaged over the last
``window`` logged values, is ``drop`` (10%) below its first window's mean; ``None`` if that never happens
within the run.  For the synthetic recipe's flow-rgb InfoNCE the start is ln 16 (chance for batch
16) and the loss stays there for ~90 to more than 450 steps: the step at which it leaves that
plateau differs by seed, and at 450 steps a run that left it late is still near chance downstream.
``bench evolution`` records each run's onsets (from the run's ``metrics.csv``) and prints, per term,
Spearman's ρ between onset and few-shot accuracy over all runs (a run that never left is ranked last),
and each arm's accuracy against the first arm's at the same onset (:func:`onset_adjusted`).
"""
from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any, Sequence

SKIP = ("train/loss", "train/masked_terms")


def loss_onsets(metrics_csv: str | Path, drop: float = 0.1, window: int = 3) -> dict[str, int | None]:
    """``{term: onset step or None}`` for every ``train/<term>`` column of a Lightning CSV log."""
    with open(metrics_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    terms = [k for k in (rows[0] if rows else {}) if k.startswith("train/") and k not in SKIP]
    out: dict[str, int | None] = {}
    for key in terms:
        logged = [(int(r["step"]), float(r[key])) for r in rows if r.get(key) not in (None, "")]
        out[key.removeprefix("train/")] = _onset(logged, drop, window)
    return out


def _onset(logged: Sequence[tuple[int, float]], drop: float, window: int) -> int | None:
    if len(logged) < window:
        return None
    values = [v for _, v in logged]
    start = sum(values[:window]) / window
    for i in range(window - 1, len(values)):  # the window that ends at logged step i
        if sum(values[i - window + 1:i + 1]) / window <= (1 - drop) * start:
            return logged[i][0]
    return None


def run_onsets(root_dir: str | Path) -> dict[str, int | None] | None:
    """The onsets of the run trained under ``root_dir`` (its newest ``logs/version_*/metrics.csv``)."""
    logs = sorted(Path(root_dir).glob("logs/version_*/metrics.csv"), key=lambda p: int(p.parent.name.split("_")[1]))
    return loss_onsets(logs[-1]) if logs else None


def onset_vs_accuracy(results: dict[str, Any], key: str = "5-shot") -> dict[str, dict[str, Any]]:
    """Per term, over every run of every arm that recorded onsets: Spearman's ρ (permutation p) between
    the onset and ``key``; a run whose term never left its start ranks after every onset."""
    from evovideo.evolution.validity import spearman

    steps = results.get("steps", 0)
    pairs: dict[str, list[tuple[float, float]]] = {}
    for arm in results["arms"].values():
        for r in arm["runs"]:
            for term, onset in (r.get("onset") or {}).items():
                if key in r:
                    pairs.setdefault(term, []).append((steps + 1 if onset is None else onset, r[key]["mean"]))
    out = {}
    for term, xy in pairs.items():
        rho, p = spearman([x for x, _ in xy], [y for _, y in xy])
        onsets = sorted(x for x, _ in xy)
        out[term] = {"rho": rho, "p": p, "n": len(xy), "median_onset": onsets[len(onsets) // 2],
                     "never": sum(x > steps for x in onsets)}
    return out


def format_onsets(stats: dict[str, dict[str, Any]], key: str = "5-shot") -> str:
    if not stats:
        return ""
    parts = [f"{term} ρ {s['rho']:+.2f} (p {s['p']:.3f}, n {s['n']}; median onset {s['median_onset']}"
             + (f", {s['never']} never" if s["never"] else "") + ")"
             for term, s in stats.items() if not math.isnan(s["rho"])]
    return (f"loss onset (first step 10% below the start) vs {key}, Spearman over runs: " + "; ".join(parts)) if parts else ""


def onset_adjusted(results: dict[str, Any], key: str = "5-shot",
                   onsets: dict[str, dict[str, Any]] | None = None) -> dict[str, Any] | None:
    """Each arm's ``key`` minus the first arm's **at the same onset** of the term whose onset orders the runs
    best (most negative ρ over all runs) among the terms both arms train: least squares of accuracy on onset
    and an arm indicator over the two arms' runs (unpaired; a run whose term never left its start counts at
    steps + 1), the indicator's coefficient with a 95% t interval.  Where one term's onset decides a run's
    accuracy, a raw difference between arms mixes "the term starts later" with "the same start ends lower";
    this separates them (a description: the onset is itself an outcome of the arm).  ``onsets``: the
    :func:`onset_vs_accuracy` of ``results`` if already computed (its permutation tests are not free)."""
    import numpy as np

    from evovideo.bench.arm_stats import t95

    onsets = onset_vs_accuracy(results, key) if onsets is None else onsets
    stats = {t: s for t, s in onsets.items() if not math.isnan(s["rho"]) and s["rho"] < 0}
    if not stats or len(results["arms"]) < 2:
        return None
    steps = results.get("steps", 0)

    def points(arm: dict[str, Any], term: str) -> list[tuple[float, float]]:
        return [(steps + 1 if r["onset"][term] is None else r["onset"][term], r[key]["mean"])
                for r in arm["runs"] if term in (r.get("onset") or {}) and key in r]

    (ref_name, ref), *others = results["arms"].items()
    out: dict[str, Any] = {"reference": ref_name, "arms": {}}
    for name, arm in others:
        both = {t: (points(ref, t), points(arm, t)) for t in stats}
        shared = [t for t, (a, b) in both.items() if len(a) >= 2 and len(b) >= 2]
        if not shared:
            continue
        term = min(shared, key=lambda t: stats[t]["rho"])
        ref_points, pts = both[term]
        n = len(ref_points) + len(pts)
        x = np.array([[1.0, o, 0.0] for o, _ in ref_points] + [[1.0, o, 1.0] for o, _ in pts])
        y = np.array([a for _, a in ref_points] + [a for _, a in pts])
        if np.linalg.matrix_rank(x) < 3:  # each arm's runs at one onset: onset and arm cannot be told apart
            continue
        coef, *_ = np.linalg.lstsq(x, y, rcond=None)
        resid = y - x @ coef
        cov = float(resid @ resid) / (n - 3) * np.linalg.inv(x.T @ x)
        out["arms"][name] = {"term": term, "delta": float(coef[2]), "ci95": t95(n - 2) * math.sqrt(max(cov[2, 2], 0.0)),
                             "per_step": float(coef[1]), "n": [len(ref_points), len(pts)],
                             "median_onset": [sorted(o for o, _ in p)[len(p) // 2] for p in (ref_points, pts)]}
    return out if out["arms"] else None


def format_onset_adjusted(adj: dict[str, Any] | None, key: str = "5-shot") -> str:
    if not adj:
        return ""
    parts = [f"{name} {a['delta']:+.1f} ± {a['ci95']:.1f} at the same {a['term']} onset (median {a['median_onset'][1]} "
             f"vs {a['median_onset'][0]}; n {a['n'][1]} + {a['n'][0]})" for name, a in adj["arms"].items()]
    return f"{key}, each arm − {adj['reference']} at the same loss onset (least squares, unpaired): " + "; ".join(parts)
