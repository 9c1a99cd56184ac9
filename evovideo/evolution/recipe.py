"""The evolve recipe (``recipes/evolve/<entry>.yaml``) and the pretrain recipe it writes.

Fields and defaults (every field is optional except ``pretrain``)::

    pretrain: recipes/pretrain/all_modalities_synthetic.yaml   # base recipe: encoders, data, optimiser, steps
    search_space: null        # lambda names to evolve, by group: {tasks: [rgb/reconstruction, ...],
                              # distill: [flow:layer3, ...]}; null = every task and distill term of `pretrain`
    distill_layers: []        # distillation locations searched too: every tower of `pretrain` x each entry,
                              # "layer3" (tower layer3 -> student layer3) or "layer4->layer3" (tower -> student)
    start_from_recipe: true   # generation 0's first candidate = the base recipe's lambdas (hand_set_lambdas)
    hand_set_lambdas: null    # the λ the search starts from, once `pretrain` pins this search's pick: a mapping
                              # {term: λ} over the recipe (terms it does not name keep the recipe's λ); also
                              # `evovideo bench evolution --search`'s hand-set arm.  null: the recipe's λ
    start_from_singles: false # generation 0 also holds each task of the search space alone at 1 (the
                              # single-term baselines of `evovideo bench evolution`), then random vectors
    candidate_overrides: {}   # dotted keys changed in the base recipe for candidates only, e.g.
                              # {trainer.devices: 1, trainer.strategy: auto} (one GPU per candidate)
    population: 8             # candidates per generation
    tournament: 3             # contestants per tournament
    generations: 5
    elite: 1                  # best-so-far candidates that stay in the tournament pool
    mutation: {rate: null, sigma: 0.2, p_perturb: 0.6, p_zero: 0.2, p_resample: 0.2}
    budget: 200               # training steps per candidate (max_steps)
    halving: null             # successive halving, e.g. {rungs: [0.34, 1.0], keep: 0.5}: every candidate
                              # trains 34% of the budget (on the full schedule), the best half continues
    seed: 0                   # search draws and every candidate's training seed
    candidate_seeds: 1        # training seeds per candidate (seed, seed+1, ...): its score is their mean
                              # fitness, so a lucky or unlucky initialisation weighs 1/n
    fitness: {name: zipf, args: {k: 100, s: 1.0}, data: {class_path: ..., init_args: {...}}, fold: val}
    runner: {name: local, workers: 1, address: null, num_cpus: null, gpus_per_candidate: 0}
    out: runs/evolve/<entry>  # results.jsonl, plots/, candidates/
    best_recipe: null         # where the best lambdas are written as a pretrain recipe (null: <out>/best_pretrain.yaml)
    final_max_steps: null     # trainer.max_steps of that recipe (null: the base recipe's)

Every field is checked before anything trains: its type by jsonargparse, as ``evovideo fit`` checks
a recipe (``'population': Expected a <class 'int'>. Got value: abc``), then its range by
:mod:`evovideo.evolution.checks`: one line naming the field, the value and what is allowed.  Every class the recipe names (``fitness.data``, and the
pretrain recipe's model, data and trainer classes) is resolved by jsonargparse against its expected
base class, as ``evovideo fit`` does, and refused otherwise: a recipe never runs arbitrary code.

Relative paths are resolved against the working directory, then against the recipe's folder and
its parents (so ``recipes/...`` works from anywhere inside a checkout).
"""
from __future__ import annotations

import copy
import dataclasses
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, TypedDict

import yaml

from evovideo.tasks.base import RecipeError
from evovideo.tasks.lambdas import GROUPS, Lambdas, guess_groups, nest_lambdas, pin_lambdas

class Mutation(TypedDict, total=False):
    rate: Optional[float]
    sigma: float
    p_perturb: float
    p_zero: float
    p_resample: float


class Fitness(TypedDict, total=False):
    name: str
    args: dict[str, Any]
    data: dict[str, Any]
    fold: str


class Runner(TypedDict, total=False):
    name: str
    workers: int
    address: Optional[str]
    num_cpus: Optional[int]
    gpus_per_candidate: float


class Halving(TypedDict, total=False):
    rungs: list[float]
    keep: float


DEFAULT_MUTATION = {"rate": None, "sigma": 0.2, "p_perturb": 0.6, "p_zero": 0.2, "p_resample": 0.2}
DEFAULT_FITNESS = {"name": "zipf", "args": {}, "data": {}, "fold": "val"}
DEFAULT_RUNNER = {"name": "local", "workers": 1, "address": None, "num_cpus": None, "gpus_per_candidate": 0.0}



def set_dotted(cfg: dict[str, Any], dotted: str, value: Any, where: str) -> None:
    """``cfg[a][b][c] = value`` for ``dotted`` = ``"a.b.c"`` (missing mappings are created); ``where``
    names the override in the error when a key on the way is not a mapping."""
    node, keys = cfg, dotted.split(".")
    for key in keys[:-1]:
        if not isinstance(node.setdefault(key, {}), dict):
            raise RecipeError(f"{where}: '{key}' is not a mapping in the recipe")
        node = node[key]
    node[keys[-1]] = value

@dataclass
class EvolveRecipe:
    pretrain: str
    search_space: dict[str, list[str]] | None = None  # {tasks: [...], distill: [...]}
    distill_layers: list[str] = field(default_factory=list)
    start_from_recipe: bool = True
    hand_set_lambdas: Optional[dict[str, float]] = None
    start_from_singles: bool = False
    candidate_overrides: dict[str, Any] = field(default_factory=dict)
    population: int = 8
    tournament: int = 3
    generations: int = 5
    elite: int = 1
    mutation: Mutation = field(default_factory=lambda: Mutation(**DEFAULT_MUTATION))
    budget: int = 200
    halving: Optional[Halving] = None
    seed: int = 0
    candidate_seeds: int = 1
    fitness: Fitness = field(default_factory=lambda: Fitness(**copy.deepcopy(DEFAULT_FITNESS)))
    runner: Runner = field(default_factory=lambda: Runner(**DEFAULT_RUNNER))
    out: str = "runs/evolve/default"
    best_recipe: str | None = None
    final_max_steps: int | None = None
    source: str | None = None  # the YAML file it came from (not a recipe field)

    @classmethod
    def from_yaml(cls, path: str | Path) -> "EvolveRecipe":
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"evolve recipe '{path}' not found; see recipes/evolve/ for entries")
        raw = yaml.safe_load(path.read_text()) or {}
        if not isinstance(raw, dict):
            raise RecipeError(f"{path}: an evolve recipe is a mapping of fields (pretrain, population, ...), "
                              f"got {type(raw).__name__}")
        known = [f.name for f in dataclasses.fields(cls) if f.name != "source"]
        unknown = sorted(set(raw) - set(known))
        if unknown:
            raise RecipeError(f"{path}: unknown field(s) {unknown}; known: {', '.join(known)}")
        if "pretrain" not in raw:
            raise RecipeError(f"{path}: 'pretrain' (the base pretrain recipe) is required")
        space = raw.get("search_space")
        if isinstance(space, list):  # the old flat form: say what to write now
            advice = guess_groups([str(n) for n in space])
            raise RecipeError(f"{path}: search_space = {space!r}: term names are grouped now; write it nested: "
                              f"search_space: {{tasks: [{', '.join(advice['tasks'])}], "
                              f"distill: [{', '.join(advice['distill'])}]}}")
        for name, defaults in (("mutation", DEFAULT_MUTATION), ("fitness", DEFAULT_FITNESS), ("runner", DEFAULT_RUNNER)):
            given = raw.get(name) or {}
            if not isinstance(given, dict):
                raise RecipeError(f"{path}: {name} = {given!r}: must be a mapping with fields {', '.join(defaults)}")
            bad = sorted(set(given) - set(defaults))
            if bad:
                raise RecipeError(f"{path}: unknown {name} field(s) {bad}; known: {', '.join(defaults)}")
        check_types(raw, path)
        for name, defaults in (("mutation", DEFAULT_MUTATION), ("fitness", DEFAULT_FITNESS), ("runner", DEFAULT_RUNNER)):
            raw[name] = {**copy.deepcopy(defaults), **(raw.get(name) or {})}
        return cls(**raw, source=str(path))

    def resolve(self, p: str | Path) -> Path:
        """A path from the recipe: as given if it exists, else relative to the recipe's folders."""
        p = Path(p)
        if p.is_absolute() or p.exists() or self.source is None:
            return p
        for parent in Path(self.source).resolve().parents:
            if (parent / p).exists():
                return parent / p
        return p

    def base_recipe(self) -> dict[str, Any]:
        path = self.resolve(self.pretrain)
        if not path.is_file():
            raise FileNotFoundError(f"pretrain recipe '{self.pretrain}' (field 'pretrain') not found")
        return yaml.safe_load(path.read_text()) or {}

    def candidate_recipe(self, base: dict[str, Any]) -> dict[str, Any]:
        """The base recipe with ``candidate_overrides`` applied (dotted keys, e.g. ``trainer.devices``)."""
        cfg = copy.deepcopy(base)
        for dotted, value in self.candidate_overrides.items():
            set_dotted(cfg, dotted, value, f"candidate_overrides['{dotted}']")
        return cfg

    def initial_lambdas(self, base: dict[str, Any]) -> dict[str, float]:
        """Every task and distill weight of the base recipe, in recipe order."""
        init = (base.get("model") or {}).get("init_args") or {}
        return {**{k: float(v) for k, v in (init.get("tasks") or {}).items()},
                **{k: float(v) for k, v in (init.get("distill") or {}).items()}}

    def hand_lambdas(self, base: dict[str, Any]) -> dict[str, float]:
        """The hand-set λ: the base recipe's, with ``hand_set_lambdas`` over them (a recipe that pins this
        search's pick keeps the λ the search started from here, so the search still starts there)."""
        return {**self.initial_lambdas(base), **{k: float(v) for k, v in (self.hand_set_lambdas or {}).items()}}

    def starting_lambdas(self, base: dict[str, Any]) -> list[dict[str, float]]:
        """Generation 0's chosen vectors over the search space (the rest of it is drawn at random): the
        hand-set lambdas (``start_from_recipe``), then each task alone at 1 (``start_from_singles``).
        A distillation term is no corner: alone, it would copy a tower that no task trains."""
        names = self.space_names(base)
        out = []
        if self.start_from_recipe:
            init = self.hand_lambdas(base)
            out.append({n: init.get(n, 0.0) for n in names})
        if self.start_from_singles:
            out += [{n: float(n == task) for n in names} for task in self.space(base)["tasks"]]
        return out

    def halving_rungs(self) -> tuple[list[int] | None, float]:
        """Successive-halving rungs in steps (fractions of ``budget``) and the fraction kept at each."""
        if not self.halving:
            return None, 0.5
        bad = sorted(set(self.halving) - {"rungs", "keep"})
        if bad or "rungs" not in self.halving:
            raise ValueError(f"halving needs 'rungs' (fractions of the budget, last 1.0) and optionally 'keep'; got {self.halving}")
        rungs = sorted({max(1, round(float(f) * self.budget)) for f in self.halving["rungs"]})
        return rungs, float(self.halving.get("keep", 0.5))

    def distill_names(self, base: dict[str, Any]) -> list[str]:
        """``<tower>:<location>`` for every tower of the base recipe and every ``distill_layers`` entry."""
        towers = list(((base.get("model") or {}).get("init_args") or {}).get("towers") or {})
        if self.distill_layers and not towers:
            raise ValueError(f"distill_layers {self.distill_layers} given, but pretrain recipe '{self.pretrain}' has no towers")
        return [f"{t}:{loc}" for t in towers for loc in self.distill_layers]

    def space(self, base: dict[str, Any]) -> dict[str, list[str]]:
        """The evolved λ names by group, ``{"tasks": [...], "distill": [...]}``: ``search_space`` (or
        every term of the base recipe) plus the ``distill_layers`` locations."""
        if self.search_space is not None:
            groups = {g: list(self.search_space.get(g) or []) for g in GROUPS}
        else:
            init = (base.get("model") or {}).get("init_args") or {}
            groups = {g: list(init.get(g) or {}) for g in GROUPS}
        groups["distill"] += [n for n in self.distill_names(base) if n not in groups["distill"]]
        if not any(groups.values()):
            raise RecipeError(f"pretrain recipe '{self.pretrain}' has no tasks/distill terms and no search_space is given")
        return groups

    def space_names(self, base: dict[str, Any]) -> tuple[str, ...]:
        """The genome's order: the task terms, then the distillation terms."""
        groups = self.space(base)
        return tuple(groups["tasks"] + groups["distill"])


def check_types(raw: dict[str, Any], path: str | Path) -> None:
    """Every field's type, by jsonargparse from :class:`EvolveRecipe`'s annotations (the values are kept
    as written; ranges are :func:`evovideo.evolution.checks.check_settings`'s)."""
    from jsonargparse import ArgumentParser

    from evovideo.evolution.checks import one_line

    parser = ArgumentParser(exit_on_error=False)
    parser.add_class_arguments(EvolveRecipe, "recipe", skip={"source"})
    try:
        parser.parse_object({"recipe": copy.deepcopy(raw)})
    except Exception as err:  # noqa: BLE001 - jsonargparse's ArgumentError
        field_error = one_line(err).replace("'recipe.", "'", 1)  # 'population': Expected a <class 'int'> ...
        raise RecipeError(f"evolve recipe {path}: {field_error}") from None


def write_pretrain_recipe(base: dict[str, Any], lambdas: Lambdas, path: str | Path,
                          note: str, max_steps: int | None = None) -> Path:
    """The base pretrain recipe with ``lambdas`` (``{tasks: {...}, distill: {...}}``) pinned."""
    cfg = pin_lambdas(base, lambdas, ndigits=4)
    if max_steps is not None:
        cfg.setdefault("trainer", {})["max_steps"] = int(max_steps)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = "".join(f"# {line}\n" for line in note.splitlines())
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    path.write_text(f"{header}# written by `evovideo evolve` on {stamp}\n" + yaml.safe_dump(cfg, sort_keys=False))
    return path


def trainable(pretrain: dict[str, Any], space: dict[str, list[str]]) -> Callable[[dict[str, float]], bool]:
    """``lambdas -> bool``: whether the term plan of ``pretrain`` with a genome pinned would train (some
    weight > 0, no distillation from a tower that no active task trains and no teacher loads).

    The search redraws a child or random vector that would not.  Such a vector used to go to a worker,
    be refused there and score +inf: 5 of the 8 second-generation candidates of a search whose
    best first-rung candidate was reconstruction alone (zeroing its one weight, or adding a
    distillation whose flow tower nothing trains), each a lost slot of the population.
    """
    from evovideo.tasks.plan import make_plan

    plan_log = logging.getLogger("evovideo.tasks.plan")  # its "tower not built" notes, once per draw

    def check(lambdas: dict[str, float]) -> bool:
        init = pin_lambdas(pretrain, nest_lambdas(lambdas, space))["model"]["init_args"]
        was, plan_log.disabled = plan_log.disabled, True
        try:
            plan = make_plan(init.get("student", "test_r2plus1d"), init.get("towers") or {}, init.get("tasks") or {},
                             init.get("distill") or {}, init.get("task_args") or {})
            plan.check_teachers(init.get("teachers") or {})
        except RecipeError:
            return False
        finally:
            plan_log.disabled = was
        return True

    return check
