"""Tournament-selection evolution of lambda vectors, as ask/tell (no training, no I/O here).

    search = TournamentSearch(space, population=8, tournament=3, generations=5, seed=0)
    while not search.done:
        for cand in search.ask():                 # the unfinished candidates of this generation
            search.tell(cand.id, score(cand.lambdas))   # lower is better
    search.best()

Generation 0 is ``population`` random vectors, the first ones replaced by ``initial`` when given: one
vector (e.g. the lambdas of the base recipe) or a list of them (e.g. that recipe plus each term alone,
the baselines a search has to beat).  Each later child is a mutation of a tournament winner: ``tournament``
contestants drawn from the previous generation plus the ``elite`` best candidates found so far;
the lowest score wins.  Elites are not re-trained: their score stands.  A child whose λ equal a
vector already proposed is drawn again (up to ``REDRAWS`` times): a mutation can be a no-op (zeroing
a λ that is 0, a perturbation clipped at 0 or 1), and a repeat costs a full candidate for no
information (every candidate trains from the same seed, so it would score the same).  So is a
vector that ``valid`` refuses (e.g. every weight 0, or a distillation from a tower that no task
trains: :func:`evovideo.evolution.recipe.trainable`), in generation 0's random draws too.

Deterministic: generation g is drawn from ``numpy.random.default_rng([seed, g])`` and depends only
on the scores of generations < g, and a generation is created only once all of the previous one
is told.  So the same seed plus the same finished results always propose the same next candidates,
whatever order a runner finishes them in -- which is what makes resuming exact.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from evovideo.evolution.genome import SearchSpace

REDRAWS = 50  # tries for a child that repeats no proposed λ (kept as drawn when the space is exhausted)


@dataclass(frozen=True)
class Candidate:
    id: str  # "g002c005": generation 2, index 5
    generation: int
    index: int
    lambdas: dict[str, float]
    parent: str | None = None
    mutations: tuple[str, ...] = ()


def rank_key(steps: int, score: float, generation: int, index: int) -> tuple:
    """How the search ranks scored candidates (lowest first): those scored after more steps before
    those stopped early (a stopped candidate lost to the survivors at the rung where it stopped),
    then by score, then in proposal order."""
    return (-steps, score, generation, index)


@dataclass
class Told:
    candidate: Candidate
    score: float  # lower is better; NaN counts as +inf
    metrics: dict[str, Any] = field(default_factory=dict)
    steps: int = 0  # training steps behind the score (successive halving): more steps rank first

    @property
    def rank_key(self) -> tuple:
        return rank_key(self.steps, self.score, self.candidate.generation, self.candidate.index)


class TournamentSearch:
    def __init__(
        self,
        space: SearchSpace,
        population: int = 8,
        tournament: int = 3,
        generations: int = 5,
        elite: int = 1,
        seed: int = 0,
        initial: dict[str, float] | Sequence[dict[str, float]] | None = None,
        valid: Callable[[dict[str, float]], bool] | None = None,
    ) -> None:
        if population < 2:
            raise ValueError(f"population must be >= 2, got {population}")
        if tournament < 1:
            raise ValueError(f"tournament size must be >= 1, got {tournament}")
        if generations < 1:
            raise ValueError(f"generations must be >= 1, got {generations}")
        if elite < 0:
            raise ValueError(f"elite must be >= 0, got {elite}")
        self.space, self.population, self.tournament = space, population, tournament
        self.generations, self.elite, self.seed = generations, elite, seed
        given = [initial] if isinstance(initial, dict) else list(initial or [])
        self.initials: list[dict[str, float]] = []
        for lam in map(space.validate, given):  # a corner equal to the recipe's lambdas is proposed once
            if self._key(lam) not in {self._key(k) for k in self.initials}:
                self.initials.append(lam)
        if len(self.initials) > population:
            raise ValueError(f"{len(self.initials)} initial lambda vectors do not fit a population of {population}; "
                             f"raise the population to at least {len(self.initials)} or start from fewer")
        self.valid = valid or (lambda lam: True)
        self.generation = 0
        self._proposed: dict[str, Candidate] = {c.id: c for c in self._make_generation(0)}
        self._told: dict[str, Told] = {}

    @property
    def initial(self) -> dict[str, float] | list[dict[str, float]] | None:
        """The starting vectors as the results-file header records them: one vector as before (old
        results files still continue), else the list."""
        if not self.initials:
            return None
        return self.initials[0] if len(self.initials) == 1 else self.initials

    # -- ask / tell --------------------------------------------------------------------------
    @property
    def done(self) -> bool:
        return self.generation >= self.generations

    def ask(self) -> list[Candidate]:
        """The candidates of the current generation that have no score yet (empty when done)."""
        if self.done:
            return []
        return [c for c in self._proposed.values() if c.generation == self.generation and c.id not in self._told]

    def tell(self, candidate_id: str, score: float, metrics: dict[str, Any] | None = None,
             lambdas: dict[str, float] | None = None, steps: int = 0) -> None:
        """Record a score after ``steps`` training steps (successive halving: candidates stopped at
        fewer steps rank after the survivors).  ``lambdas`` (when given, e.g. from a results file)
        must match the proposal."""
        if candidate_id not in self._proposed:
            raise KeyError(
                f"candidate '{candidate_id}' was not proposed by this search (generation {self.generation}); "
                "the results file was written by a different search configuration"
            )
        cand = self._proposed[candidate_id]
        if lambdas is not None and any(abs(lambdas.get(n, math.nan) - v) > 1e-9 for n, v in cand.lambdas.items()):
            raise ValueError(
                f"candidate '{candidate_id}' in the results has lambdas {lambdas}, but this search proposes "
                f"{cand.lambdas}: the seed or search settings changed; use a new output folder"
            )
        if candidate_id in self._told:
            return  # told twice (e.g. replayed results): keep the first
        score = float(score)
        self._told[candidate_id] = Told(cand, math.inf if math.isnan(score) else score, dict(metrics or {}), int(steps))
        while not self.done and not self.ask():
            self.generation += 1
            if not self.done:
                self._proposed.update({c.id: c for c in self._make_generation(self.generation)})

    # -- results -----------------------------------------------------------------------------
    def history(self) -> list[Told]:
        """Every scored candidate, in generation / index order."""
        return sorted(self._told.values(), key=lambda t: (t.candidate.generation, t.candidate.index))

    def best(self, up_to_generation: int | None = None) -> Told:
        pool = [t for t in self.history() if up_to_generation is None or t.candidate.generation <= up_to_generation]
        if not pool:
            raise ValueError("no candidate has been scored yet")
        return min(pool, key=lambda t: t.rank_key)

    # -- generations -------------------------------------------------------------------------
    def _key(self, lambdas: dict[str, float]) -> tuple[float, ...]:
        return tuple(round(lambdas[n], 6) for n in self.space.names)

    def _make_generation(self, g: int) -> list[Candidate]:
        rng = np.random.default_rng([self.seed, g])
        if g == 0:
            out = []
            for i in range(self.population):
                if i < len(self.initials):
                    lam = self.initials[i]
                else:
                    for _ in range(REDRAWS):
                        lam = self.space.random(rng)
                        if self.valid(lam):
                            break
                out.append(Candidate(f"g{g:03d}c{i:03d}", g, i, dict(lam)))
            return out
        prev = [t for t in self.history() if t.candidate.generation == g - 1]
        elites = sorted(self._told.values(), key=lambda t: t.rank_key)
        pool = prev + [t for t in elites[: self.elite] if t.candidate.generation != g - 1]
        out = []
        known = {self._key(c.lambdas) for c in self._proposed.values()}
        for i in range(self.population):
            picks = rng.choice(len(pool), size=min(self.tournament, len(pool)), replace=False)
            winner = min((pool[j] for j in picks), key=lambda t: t.rank_key)
            for _ in range(REDRAWS):
                child, changes = self.space.mutate(winner.candidate.lambdas, rng)
                if self._key(child) not in known and self.valid(child):
                    break
            known.add(self._key(child))
            out.append(Candidate(f"g{g:03d}c{i:03d}", g, i, child, winner.candidate.id, tuple(changes)))
        return out
