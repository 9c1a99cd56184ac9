"""Pictures of evaluation results (PNG, matplotlib's Agg backend: no display needed)."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

from evovideo.eval.fewshot import FewShotResult


def plot_accuracy_vs_shots(
    runs: Mapping[str, Sequence[FewShotResult]], path: str | Path, *, title: str | None = None
) -> Path:
    """Accuracy (± 95% CI) against shots, one line per (run, classifier); returns the PNG path.

    ``runs`` maps a label (e.g. an encoder name, or "random init" / "pretrained") to the results of
    :func:`evovideo.eval.fewshot.evaluate_fewshot`.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4))
    way, all_shots = None, set()
    for label, results in runs.items():
        results = sorted(results, key=lambda r: r.shot)
        if not results:
            continue
        way = results[0].way
        shots = [r.shot for r in results]
        all_shots.update(shots)
        for clf in results[0].accuracies:
            stats = [r.summary[clf] for r in results]
            ax.errorbar(shots, [s.mean for s in stats], yerr=[s.ci95 for s in stats], marker="o",
                        capsize=3, label=f"{label} / {clf}")
    if way:
        ax.axhline(100.0 / way, color="grey", linestyle=":", label=f"chance ({100.0 / way:.0f}%)")
    ax.set_xticks(sorted(all_shots))
    ax.set_xlabel("shots per class")
    ax.set_ylabel("accuracy (%)  ± 95% CI")
    ax.set_title(title or (f"{way}-way few-shot accuracy" if way else "few-shot accuracy"))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
