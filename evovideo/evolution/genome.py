"""The genome: one weight lambda in [0, 1] per loss term, and the mutations that change it.

The names are the loss terms of a pretraining recipe, e.g. the task terms ``"rgb/reconstruction"``
and ``"rgb->flow/cross_modal_transfer"`` or the distillation term ``"flow:layer3"``; the search does
not interpret them, it only needs their order.  A genome is a plain ``dict[name, float]`` so it goes
straight into JSON; ``evovideo.tasks.lambdas.nest_lambdas(genome, recipe.space(base))`` groups it
into the ``{tasks, distill}`` form that ``run_pretraining(lambdas=...)`` and recipes take.

Mutation (the paper's three kinds), applied to each weight with probability ``rate`` (at least one
weight always changes):

* perturb  - add N(0, sigma) noise and clip to [0, 1];
* zero     - set to 0 (removes the term and, in pretraining, its compute);
* resample - draw a fresh value uniformly in [0, 1].
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MUTATIONS = ("perturb", "zero", "resample")


@dataclass(frozen=True)
class SearchSpace:
    """The ordered lambda names and how to mutate them.

    rate: per-weight mutation probability (``None``: 1 / number of weights).
    sigma: standard deviation of ``perturb``.
    p_perturb / p_zero / p_resample: relative odds of the three mutation kinds.
    """

    names: tuple[str, ...]
    rate: float | None = None
    sigma: float = 0.2
    p_perturb: float = 0.6
    p_zero: float = 0.2
    p_resample: float = 0.2

    def __post_init__(self) -> None:
        if not self.names:
            raise ValueError("the lambda search space is empty; list at least one loss term name")
        if len(set(self.names)) != len(self.names):
            raise ValueError(f"duplicate lambda names in the search space: {list(self.names)}")
        if self.rate is not None and not 0.0 < self.rate <= 1.0:
            raise ValueError(f"mutation rate must be in (0, 1], got {self.rate}")
        odds = (self.p_perturb, self.p_zero, self.p_resample)
        if min(odds) < 0 or sum(odds) <= 0:
            raise ValueError(f"mutation odds (perturb, zero, resample) must be >= 0 and not all 0, got {odds}")

    def validate(self, lambdas: dict[str, float]) -> dict[str, float]:
        """Check names and range; returns the lambdas in search-space order."""
        unknown = sorted(set(lambdas) - set(self.names))
        missing = [n for n in self.names if n not in lambdas]
        if unknown or missing:
            raise ValueError(
                f"lambda names do not match the search space: unknown {unknown}, missing {missing}; "
                f"known: {', '.join(self.names)}"
            )
        bad = {n: v for n, v in lambdas.items() if not 0.0 <= float(v) <= 1.0}
        if bad:
            raise ValueError(f"every lambda must be in [0, 1]; got {bad}")
        return {n: float(lambdas[n]) for n in self.names}

    def random(self, rng: np.random.Generator) -> dict[str, float]:
        return {n: round(float(v), 6) for n, v in zip(self.names, rng.random(len(self.names)))}

    def mutate(self, parent: dict[str, float], rng: np.random.Generator) -> tuple[dict[str, float], list[str]]:
        """A mutated copy of ``parent`` and the list of ``"name:kind"`` changes made (split at the last
        ":": a distillation name such as ``flow:layer3`` has one of its own)."""
        n = len(self.names)
        rate = 1.0 / n if self.rate is None else self.rate
        hit = rng.random(n) < rate
        if not hit.any():
            hit[rng.integers(n)] = True
        odds = np.array([self.p_perturb, self.p_zero, self.p_resample], dtype=float)
        child, changes = dict(parent), []
        for i in np.flatnonzero(hit):
            name = self.names[i]
            kind = MUTATIONS[int(rng.choice(3, p=odds / odds.sum()))]
            if kind == "perturb":
                value = float(np.clip(parent[name] + rng.normal(0.0, self.sigma), 0.0, 1.0))
            elif kind == "zero":
                value = 0.0
            else:
                value = float(rng.random())
            child[name] = round(value, 6)
            changes.append(f"{name}:{kind}")
        return child, changes
