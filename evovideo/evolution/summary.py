"""What a finished search found, in one small JSON: the provenance a pinned recipe cites.

``evovideo evolve`` writes ``<out>/summary.json`` at the end of every run: the command and its
settings (seed, fitness, budget, halving, the pretrain recipe its candidates trained: a pick is only
tested on that recipe), the wall time of that invocation (a continued run counts only its own part),
every candidate's final score (and kNN accuracy when the fitness set is labelled), the best candidate
and its λ, and the fitness validity per rung.  A copy
of a run's summary is packaged beside its evolve recipe (``recipes/evolve/demo_synthetic.summary.json``,
with ``benchmark``: the full-length comparison of its pick, and ``decision``: whether the pretrain recipe
pins it), and ``evovideo demo`` prints it::

    summary = run_summary(results.records, results.header, command="evovideo evolve -c ...")
    print(format_summary(summary))
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Sequence

from evovideo.evolution.search import rank_key
from evovideo.evolution.validity import fitness_validity, seed_agreement


def _final(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records if r.get("final", True)]


def best_record(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The best finished candidate, ranked as the search ranks: most steps first, then lowest score."""
    final = [r for r in _final(records) if math.isfinite(r["score"])]
    if not final:
        raise ValueError("no finished candidate with a finite score")
    return min(final, key=lambda r: rank_key(r.get("steps", 0), r["score"], r["generation"], r["index"]))


def run_summary(records: Sequence[dict[str, Any]], header: dict[str, Any], *, command: str,
                wall_s: float | None = None) -> dict[str, Any]:
    """The summary of a run (see the module docstring)."""
    best = best_record(records)
    order = [n for n in header.get("lambda_names") or [] if n in best["lambdas"]]
    lambdas = {n: best["lambdas"][n] for n in order + [n for n in best["lambdas"] if n not in order]}  # genome order
    final = sorted(_final(records), key=lambda r: (r["generation"], r["index"]))
    return {
        "command": command,
        "seed": header.get("seed"),
        "candidate_seeds": header.get("candidate_seeds", 1),
        "fitness": header.get("fitness"),
        "fitness_data": header.get("fitness_data"),
        "budget": header.get("budget"),
        "halving": header.get("halving"),
        "population": header.get("population"),
        "generations": header.get("generations"),
        "candidates": len(final),
        "wall_s": None if wall_s is None else round(wall_s, 1),
        "best": {"id": best["id"], "steps": best.get("steps"), "score": best["score"],
                 "knn_accuracy": best.get("metrics", {}).get("knn_accuracy"), "lambdas": lambdas},
        "initial": header.get("initial"),
        "final_scores": [{"id": r["id"], "steps": r.get("steps"), "score": r["score"],
                          "knn_accuracy": r.get("metrics", {}).get("knn_accuracy")} for r in final],
        "validity": {f"{group}, vs kNN accuracy on the fitness set": v for group, v in fitness_validity(records).items()},
        "seed_agreement": seed_agreement(records),
        "space": header.get("space"),  # the λ names by group, and the recipe every candidate trained (its λ aside)
        "pretrain": header.get("pretrain"),
    }


def write_summary(summary: dict[str, Any], path: str | Path) -> Path:
    path = Path(path)
    path.write_text(json.dumps(summary, indent=2) + "\n")
    return path


def format_validity(group: str, v: dict[str, float]) -> str:
    return f"fitness validity ({group}): Spearman rho {v['rho']:+.2f} between -fitness and it (p {v['p']:.3f}, n={v['n']})"


def format_seed_agreement(group: str, v: dict[str, float]) -> str:
    return (f"seed agreement ({group}): Spearman rho {v['rho']:+.2f} between the {v['seeds']} training seeds' fitness "
            f"(p {v['p']:.3f}, n={v['n']}); their mean ranks lambda with reliability {v['reliability']:.2f}")


def format_summary(summary: dict[str, Any]) -> str:
    """A few lines for a terminal: what was searched, what won, how far to trust the fitness."""
    fit = summary.get("fitness") or {}
    best = summary["best"]
    lines = [f"{summary['candidates']} candidates, seed {summary['seed']}, fitness '{fit.get('name')}' {fit.get('args', {})}"
             + (f", {summary['wall_s'] / 60:.0f} min" if summary.get("wall_s") else ""),
             f"best {best['id']} at {best['steps']} steps (score {best['score']:.4f}):"]
    lines += [f"  {name:<36} {value:.3f}" for name, value in best["lambdas"].items()]
    for group, v in (summary.get("validity") or {}).items():
        lines.append(format_validity(group, v))
    for group, v in (summary.get("seed_agreement") or {}).items():
        lines.append(format_seed_agreement(group, v))
    lines.append(f"reproduce: {summary['command']}")
    if summary.get("decision"):  # added when a run's result is packaged: what the recipes did with it
        lines.append(summary["decision"])
    return "\n".join(lines)
