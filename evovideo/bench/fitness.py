"""Every registered fitness on controlled feature sets: which structure does each reward?

Feature sets (N = k x per-class points, D dims, class centres ~ N(0, I), within-class noise 0.3):

  balanced    k equal Gaussian classes (perfectly separable)
  zipf        k Gaussian classes with sizes ~ rank^-1 (the paper's assumption)
  random      N(0, I): no structure at all
  collapsed   one constant vector + 1e-3 noise (a collapsed encoder)
  rank2       N(0, I) in a random 2-d subspace (dimensional collapse)

Every fitness of ``evovideo.evolution.FITNESS`` scores each set (labelled ones get the set's class
labels; random / collapsed / rank2 get the balanced labels, which carry no signal there; one that
compares with a reference view, ``agreement``, gets a second noisy view of the same labels: new class
centres, within-class noise 1.0, as another modality of the clips would give), and
variants of the Zipf fitness show what each part does: the paper's exact formula (tau=1, raw
features, no guard), the KL without the guard, and s=0 (a prior matched to a balanced set).
Lower is better everywhere.  Collapsed and random must score worse than both class-structured sets.

Example:
  OMP_NUM_THREADS=1 evovideo bench fitness --k 20 --per-class 50 --dim 128 --seeds 0 1 2
"""
from __future__ import annotations

import argparse

SETS = ("balanced", "zipf", "random", "collapsed", "rank2")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    p = parser.add_argument
    p("--k", type=int, default=20, help="classes = clusters (default 20)")
    p("--per-class", type=int, default=50, help="points per class of the balanced set (default 50)")
    p("--dim", type=int, default=128, help="feature dimension (default 128)")
    p("--seeds", type=int, nargs="+", default=[0, 1], help="data seeds; mean +- std reported (default 0 1)")


def feature_sets(k: int, per_class: int, dim: int, seed: int) -> dict:
    """{name: (features (N, D), labels (N,))} for the controlled sets above."""
    import torch

    g = torch.Generator().manual_seed(seed)
    n = k * per_class
    centres = torch.randn(k, dim, generator=g)
    balanced = torch.arange(k).repeat_interleave(per_class)
    sizes = torch.arange(1, k + 1, dtype=torch.float64).pow(-1.0)
    sizes = (sizes / sizes.sum() * n).floor().long().clamp_min(1)
    sizes[0] += n - int(sizes.sum())
    zipf = torch.repeat_interleave(torch.arange(k), sizes)

    def noise(*shape):
        return torch.randn(*shape, generator=g)

    return {
        "balanced": (centres[balanced] + 0.3 * noise(n, dim), balanced),
        "zipf": (centres[zipf] + 0.3 * noise(n, dim), zipf),
        "random": (noise(n, dim), balanced),
        "collapsed": (torch.ones(n, dim) + 1e-3 * noise(n, dim), balanced),
        "rank2": (noise(n, 2) @ noise(2, dim), balanced),
    }


def reference_view(labels, dim: int, seed: int):
    """A second, noisier view of the same classes (new centres, noise 1.0): the reference of ``agreement``."""
    import torch

    g = torch.Generator().manual_seed(10_000 + seed)
    centres = torch.randn(int(labels.max()) + 1, dim, generator=g)
    return centres[labels] + torch.randn(len(labels), dim, generator=g)


def fitnesses(k: int) -> dict:
    """{row name: fitness}: every registered fitness at its defaults (k clusters for the clustering ones), plus
    the Zipf variants."""
    from evovideo.evolution import FITNESS
    from evovideo.evolution.zipf import PAPER

    out = {}
    for name in FITNESS.list():
        out[name] = FITNESS.create(name, k=k) if name in ("zipf", "gap", "agreement") else FITNESS.create(name)
    out["zipf, s=0 (matched to a balanced set)"] = FITNESS.create("zipf", k=k, s=0.0)
    out["zipf KL alone (no guard)"] = FITNESS.create("zipf", k=k, guard=False)
    out["zipf paper (tau=1, raw, no guard)"] = FITNESS.create("zipf", k=k, **PAPER)
    return out


def run(args: argparse.Namespace) -> int:
    import statistics

    import torch

    torch.set_num_threads(max(1, torch.get_num_threads()))
    rows: dict[str, dict[str, list[float]]] = {}
    for seed in args.seeds:
        data = feature_sets(args.k, args.per_class, args.dim, seed)
        for fname, fit in fitnesses(args.k).items():
            for sname, (x, y) in data.items():
                ref = {"reference": reference_view(y, args.dim, seed)} if getattr(fit, "reference", None) else {}
                res = fit(x, y if fit.requires_labels else None, **ref)
                rows.setdefault(fname, {}).setdefault(sname, []).append(res.score)

    def cell(v: list[float]) -> str:
        return f"{statistics.mean(v):.3f}" + (f" ± {statistics.stdev(v):.3f}" if len(v) > 1 else "")

    print(f"Fitness on controlled features: k={args.k}, {args.per_class} points/class, {args.dim}-d, "
          f"data seeds {' '.join(map(str, args.seeds))} (mean ± std).  Lower is better.")
    print("| fitness | " + " | ".join(SETS) + " | structured < random and collapsed? |")
    print("|---|" + "---|" * (len(SETS) + 1))
    for fname, by_set in rows.items():
        m = {s: statistics.mean(v) for s, v in by_set.items()}
        ok = max(m["balanced"], m["zipf"]) < min(m["random"], m["collapsed"], m["rank2"])
        print(f"| {fname} | " + " | ".join(cell(by_set[s]) for s in SETS) + f" | {'yes' if ok else 'NO'} |")
    return 0
