"""The statistics of `evovideo bench evolution`'s table: each arm's mean over pretraining seeds with a
95% t interval, its paired difference to the hand-set arm and to the best single term, and how
reliably one seed ranks the arms' λ (a two-way arm x seed decomposition).

A results dict is ``{"arms": {name: {"lambdas": ..., "runs": [{"seed": s, "<k>-shot": {"mean", "ci95"}, ...}]}}}``.
"""
from __future__ import annotations

import math
from typing import Any

from evovideo.eval.stats import mean_std

HAND = "hand-set (recipe)"
SINGLE = "only "  # the single-term arms: "only <term>"


def t95(n: int) -> float:
    from scipy.stats import t

    return float(t.ppf(0.975, n - 1))


def mean_ci(vals: list[float]) -> tuple[float, float]:
    """Mean and 95% CI half-width (Student t) of two or more values."""
    m, sd = mean_std(vals)
    return m, t95(len(vals)) * sd / math.sqrt(len(vals))


def summarise(runs: list[dict], key: str) -> tuple[float, float, str]:
    """Mean over seeds and the 95% CI half-width (t over seeds, or the one seed's episode CI)."""
    vals = [r[key]["mean"] for r in runs]
    if len(vals) == 1:
        return vals[0], runs[0][key]["ci95"], "episodes"
    return *mean_ci(vals), f"{len(vals)} seeds"


def seed_reliability(results: dict, key: str = "5-shot") -> dict[str, Any] | None:
    """How well does one pretraining seed rank the arms' λ?  Two-way decomposition of ``key`` over
    arm × seed (a crossed design: every arm trains every seed), on the arms that ran every common seed.

    ``lambda`` is the variance of the arms' true means (the λ effect, ANOVA estimate), ``interaction``
    the λ × seed mean square (what common random numbers cannot cancel: a seed good for one λ and bad
    for another).  ``reliability[n]`` = lambda / (lambda + interaction / n): the share of the variance of
    an n-seed score that is λ, i.e. how well a search scoring each candidate on n seeds ranks λ.
    ``pairs_agree``: of every pair of arms, the share of seeds that order them as their mean does.
    None with fewer than 2 arms or 2 common seeds."""
    runs = {name: {r["seed"]: r[key]["mean"] for r in arm["runs"] if key in r} for name, arm in results["arms"].items()}
    runs = {n: r for n, r in runs.items() if r}
    seeds = sorted(set.intersection(*(set(r) for r in runs.values()))) if runs else []
    if len(runs) < 2 or len(seeds) < 2:
        return None
    x = [[r[s] for s in seeds] for r in runs.values()]
    na, ns = len(x), len(seeds)
    grand = sum(map(sum, x)) / (na * ns)
    arm_mean = [sum(row) / ns for row in x]
    seed_mean = [sum(row[j] for row in x) / na for j in range(ns)]
    ss_arm = ns * sum((m - grand) ** 2 for m in arm_mean)
    ss_seed = na * sum((m - grand) ** 2 for m in seed_mean)
    ss_int = sum((x[i][j] - arm_mean[i] - seed_mean[j] + grand) ** 2 for i in range(na) for j in range(ns))
    ms_arm, ms_int = ss_arm / (na - 1), ss_int / ((na - 1) * (ns - 1))
    var_lambda = max(0.0, (ms_arm - ms_int) / ns)
    total = ss_arm + ss_seed + ss_int
    agree = [(x[i][s] - x[j][s]) * (arm_mean[i] - arm_mean[j]) > 0
             for i in range(na) for j in range(i + 1, na) if arm_mean[i] != arm_mean[j] for s in range(ns)]
    return {"key": key, "arms": na, "seeds": seeds, "lambda": var_lambda, "interaction": ms_int,
            "share": {"lambda": ss_arm / total, "seed": ss_seed / total, "interaction": ss_int / total} if total else None,
            "reliability": {n: (var_lambda / (var_lambda + ms_int / n) if var_lambda + ms_int > 0 else float("nan"))
                            for n in (1, 2, 3, 5)},
            "pairs_agree": sum(agree) / len(agree) if agree else float("nan")}


def format_reliability(rel: dict[str, Any] | None) -> str:
    if rel is None:
        return ""
    r = rel["reliability"]
    return (f"seed reliability ({rel['key']}, {rel['arms']} arms x seeds {rel['seeds']}): variance of the λ effect "
            f"{rel['lambda']:.1f}, λ x seed {rel['interaction']:.1f}; a search scoring each candidate on 1 / 2 / 3 / 5 "
            f"seeds ranks λ with reliability {r[1]:.2f} / {r[2]:.2f} / {r[3]:.2f} / {r[5]:.2f}; one seed orders "
            f"{100 * rel['pairs_agree']:.0f}% of arm pairs as their means do")


def paired_difference(runs: list[dict], reference: list[dict], key: str) -> tuple[float, float, int, float] | None:
    """An arm minus the reference arm on the pretraining seeds both ran (the same seed: the same
    initialisation and data order): mean, 95% CI half-width and two-sided p (paired t over seeds);
    None under 2 seeds."""
    from scipy.stats import ttest_1samp

    ref = {r["seed"]: r[key]["mean"] for r in reference if key in r}
    diffs = [r[key]["mean"] - ref[r["seed"]] for r in runs if key in r and r["seed"] in ref]
    if len(diffs) < 2:
        return None
    m, ci = mean_ci(diffs)
    p = 0.0 if ci == 0 else float(ttest_1samp(diffs, 0.0).pvalue)  # no spread: scipy gives nan
    return m, ci, len(diffs), p


def _format_paired(d: tuple[float, float, int, float] | None) -> str:
    if d is None:
        return " |"
    p = "p < 0.001" if d[3] < 0.001 else f"p {d[3]:.2g}" if d[3] < 0.01 else f"p {d[3]:.3f}".rstrip("0").rstrip(".")
    return f" {d[0]:+.1f} ± {d[1]:.1f} ({d[2]}, {p}) |".replace(" -", " −", 1)


def best_single(results: dict, key: str) -> str | None:
    """The single-term arm ("only ...") with the highest mean ``key``, if any ran."""
    singles = {n: a["runs"] for n, a in results["arms"].items() if n.startswith(SINGLE) and a["runs"]}
    return max(singles, key=lambda n: summarise(singles[n], key)[0]) if singles else None


def format_table(results: dict, shots: list[int]) -> str:
    """Each arm's mean ± 95% CI over seeds and, on the largest shot, its paired difference (seeds shared:
    a seed bad for every arm cancels out) to the hand-set arm and to the best single term (the issue's
    goal: evolved ≥ best single term, > hand-set), each with its p.  An arm whose runs were made by
    different code (``evovideo.provenance``; e.g. parts merged from before and after a change) says
    so: its mean is then not one setting's."""
    cols = [f"{s}-shot" for s in shots]
    refs = {}
    if results["arms"].get(HAND, {}).get("runs"):
        refs[HAND] = f"Δ {cols[-1]} vs hand-set, paired (mean ± 95% CI, seeds, p)"
    single = best_single(results, cols[-1])
    if single is not None:
        refs[single] = f"Δ {cols[-1]} vs best single term ({single}), paired"
    lines = ["| arm | " + " | ".join(f"5-way {c} % (mean ± 95% CI)" for c in cols) + " | CI over |"
             + "".join(f" {title} |" for title in refs.values()),
             "|---|" + "---|" * (len(cols) + 1 + len(refs))]
    for name, arm in results["arms"].items():
        if not arm["runs"]:
            lines.append(f"| {name} | " + " | ".join("refused" for _ in cols) + " | |" + " |" * len(refs))
            continue
        cells = [summarise(arm["runs"], c) for c in cols]
        codes = {r.get("code") for r in arm["runs"]}  # None: a run recorded before the code was
        mixed = f", **runs of {len(codes)} code versions**" if len(codes) > 1 else ""
        row = f"| {name} | " + " | ".join(f"{m:.1f} ± {ci:.1f}" for m, ci, _ in cells) + f" | {cells[0][2]}{mixed} |"
        for ref in refs:  # a single-term arm is not compared with the best single term
            skip = name == ref or (ref == single and name.startswith(SINGLE))
            row += _format_paired(None if skip else paired_difference(arm["runs"], results["arms"][ref]["runs"], cols[-1]))
        lines.append(row)
    return "\n".join(lines)
