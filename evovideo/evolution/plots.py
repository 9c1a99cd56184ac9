"""Pictures of an evolution run (matplotlib, Agg backend, PNG), from the results records.

    paths = plot_evolution(results.records, out / "plots")
    # fitness_per_generation.png  every candidate's score (dots), best of each generation, best so far
    # best_lambdas.png            the lambdas of the best-so-far candidate after each generation
    # zipf_rank_size.png          the best candidate's sorted cluster masses vs the Zipf prior (log-log)
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

import matplotlib
import torch

from evovideo.evolution.zipf import kl_to_zipf, zipf_prior

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _finite(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records if r.get("score") is not None and math.isfinite(r["score"])]


def best_so_far(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """For each generation (0..last), the best record of it and the ones before (lowest score;
    with successive halving, the most training steps first, as the search ranks them)."""
    recs = _finite(records)
    if not recs:
        return []
    out, best = [], None
    for g in range(max(r["generation"] for r in recs) + 1):
        for r in (r for r in recs if r["generation"] == g):
            if best is None or (-r.get("steps", 0), r["score"]) < (-best.get("steps", 0), best["score"]):
                best = r
        out.append(best)
    return out


def plot_fitness(records: Sequence[dict[str, Any]], path: str | Path, score_name: str = "fitness") -> Path:
    recs = _finite(records)
    fig, ax = plt.subplots(figsize=(6, 4))
    gens = sorted({r["generation"] for r in recs})
    ax.scatter([r["generation"] for r in recs], [r["score"] for r in recs], s=14, c="0.6", label="candidate")
    ax.plot(gens, [min(r["score"] for r in recs if r["generation"] == g) for g in gens], "o-", label="best of generation")
    ax.plot(gens, [b["score"] for b in best_so_far(recs)], "k--", label="best so far")
    ax.set_xlabel("generation")
    ax.set_ylabel(f"{score_name} (lower is better)")
    ax.set_xticks(gens)
    ax.legend()
    ax.set_title("fitness per generation")
    return _save(fig, path)


def plot_best_lambdas(records: Sequence[dict[str, Any]], path: str | Path) -> Path:
    bests = best_so_far(records)
    fig, ax = plt.subplots(figsize=(7, 4))
    names = list(bests[0]["lambdas"]) if bests else []
    colors = plt.get_cmap("tab20").colors
    for i, name in enumerate(names):  # 20 colours x 3 line styles: distinct up to 60 lambdas
        ax.plot(range(len(bests)), [b["lambdas"][name] for b in bests], marker="o", ms=4, label=name,
                color=colors[i % 20], linestyle=("-", "--", ":")[(i // 20) % 3])
    ax.set_xlabel("generation")
    ax.set_ylabel("λ of the best candidate so far")
    ax.set_ylim(-0.05, 1.05)
    ax.set_xticks(range(len(bests)))
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.set_title("λ of the best candidate over generations")
    return _save(fig, path)


def plot_rank_size(masses: Sequence[float], s: float, path: str | Path, title: str = "Zipf rank-size") -> Path:
    """Sorted cluster masses against the Zipf prior q(i) = i^-s / H_{k,s}, log-log."""
    m = sorted((float(x) for x in masses), reverse=True)
    k = len(m)
    prior = zipf_prior(k, s).tolist()
    ranks = list(range(1, k + 1))
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.loglog(ranks, prior, "k--", label=f"Zipf prior, s={s:g}")
    pos = [(r, x) for r, x in zip(ranks, m) if x > 0]
    ax.loglog([r for r, _ in pos], [x for _, x in pos], "o-", ms=3, label="cluster mass p(c), sorted")
    ax.set_xlabel("rank")
    ax.set_ylabel("mass")
    ax.set_title(f"{title} (KL = {kl_to_zipf(torch.tensor(m), s):.3f})")
    ax.legend()
    return _save(fig, path)


def plot_evolution(records: Sequence[dict[str, Any]], out_dir: str | Path) -> list[Path]:
    """All three plots of a run into ``out_dir``; the rank-size plot only for a Zipf fitness."""
    from evovideo.evolution.validity import groups, plot_validity

    out_dir = Path(out_dir)
    validity = [plot_validity(records, out_dir / "fitness_validity.png")] if groups(records) else []
    records = [r for r in records if r.get("final", True)]  # successive halving: a candidate's last score
    if not _finite(records):
        return validity
    paths = [plot_fitness(records, out_dir / "fitness_per_generation.png"),
             plot_best_lambdas(records, out_dir / "best_lambdas.png")]
    best = best_so_far(records)[-1]
    if "masses" in best.get("metrics", {}):
        paths.append(plot_rank_size(best["metrics"]["masses"], best["metrics"].get("s", 1.0),
                                    out_dir / "zipf_rank_size.png", title=f"best candidate {best['id']}"))
    return paths + validity


def _save(fig: Any, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
