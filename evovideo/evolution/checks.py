"""Every setting of an evolve recipe checked before any candidate trains (and before the results
file is created, so a mistake never locks the output folder).

    check_settings(recipe)          # numbers and names: population, tournament, budget, mutation, ...

What needs the pretrain recipe's classes and the fitness data instantiated (jsonargparse, Lightning)
is :func:`evovideo.lightning.evolve.check_recipe`, above this package.

Each failure is one :class:`RecipeError` line: ``<recipe>: <field> = <value>: <what is allowed>``.
"""
from __future__ import annotations

import math
import re
from typing import Any

from evovideo.evolution.fitness import FITNESS
from evovideo.tasks import RecipeError

RUNNERS = ("local", "ray")


def one_line(err: BaseException) -> str:
    """jsonargparse's multi-line union error, condensed to the field and its first real reason."""
    text = str(err) or type(err).__name__
    keys = re.findall(r'Parser key "([^"]+)"', text)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    reasons = [ln[2:] for ln in lines if ln.startswith("- ") and "NoneType" not in ln and "Subclass types" not in ln]
    plain = [ln for ln in lines if not ln.startswith("Parser key")] or lines  # the key is named below
    reason = reasons[0] if reasons else plain[0]
    cls = re.match(r"Problem with given class_path '([^']+)'", reason)
    if cls:  # the class resolved; one of its arguments is wrong: name the argument and why
        inner = [ln for ln in lines if not ln.startswith(("- ", "Subtypes:", "Errors:", "Given value", "Parser key",
                                                          "Does not validate"))]
        reason = f"{' '.join(inner) or reason} (class {cls.group(1)})"
        if len(keys) > 1:
            return f"'{keys[0]}.init_args.{keys[-1]}': {reason}"
    return f"'{keys[0]}': {reason}" if keys else reason


def where(recipe: Any) -> str:
    return f"evolve recipe {recipe.source}" if getattr(recipe, "source", None) else "evolve recipe"


def check_int(where: str, name: str, value: Any, low: int, high: int | None = None, allowed: str = "") -> int:
    """``value`` as an int in [low, high], else a RecipeError naming ``name`` and the allowed range."""
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= low and (high is None or value <= high)
    if not ok:
        rule = allowed or (f"an integer >= {low}" if high is None else f"an integer in [{low}, {high}]")
        raise RecipeError(f"{where}: {name} = {value!r}: must be {rule}")
    return value


def check_float(where: str, name: str, value: Any, low: float, high: float | None = None,
                open_low: bool = False, allowed: str = "") -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value > low if open_low else value >= low) and (high is None or value <= high)
    if not ok:
        bound = f"> {low}" if open_low else f">= {low}"
        rule = allowed or (f"a number {bound}" if high is None else f"a number {bound} and <= {high}")
        raise RecipeError(f"{where}: {name} = {value!r}: must be {rule}")
    return float(value)


def check_settings(recipe: Any) -> None:
    """The search settings (no file read, nothing imported): fail on the first bad one."""
    w = where(recipe)
    pop = check_int(w, "population", recipe.population, 2)
    check_int(w, "tournament", recipe.tournament, 1, pop, f"an integer in [1, population={pop}]")
    check_int(w, "generations", recipe.generations, 1)
    check_int(w, "elite", recipe.elite, 0, pop, f"an integer in [0, population={pop}]")
    check_int(w, "budget", recipe.budget, 1, allowed="an integer >= 1 (training steps per candidate)")
    check_int(w, "seed", recipe.seed, 0)
    check_int(w, "candidate_seeds", recipe.candidate_seeds, 1,
              allowed="an integer >= 1 (training seeds per candidate, their fitness averaged)")
    if recipe.final_max_steps is not None:
        check_int(w, "final_max_steps", recipe.final_max_steps, 1, allowed="null or an integer >= 1")
    if not isinstance(recipe.pretrain, str) or not recipe.pretrain:
        raise RecipeError(f"{w}: pretrain = {recipe.pretrain!r}: must be the path of a pretrain recipe")
    space = recipe.search_space
    if space is not None and (not isinstance(space, dict) or set(space) - {"tasks", "distill"}
                              or not all(isinstance(v, list) and all(isinstance(n, str) for n in v) for v in space.values())
                              or not any(space.values())):
        raise RecipeError(f"{w}: search_space = {space!r}: must be null or {{tasks: [term, ...], distill: "
                          "[tower:layer, ...]}} with at least one name")
    for term, value in (recipe.hand_set_lambdas or {}).items():
        check_float(w, f"hand_set_lambdas[{term!r}]", value, 0, 1)
    if not isinstance(recipe.candidate_overrides, dict):
        raise RecipeError(f"{w}: candidate_overrides = {recipe.candidate_overrides!r}: must be a mapping")
    m = recipe.mutation
    if m["rate"] is not None:
        check_float(w, "mutation.rate", m["rate"], 0.0, 1.0, open_low=True, allowed="null or a number in (0, 1]")
    check_float(w, "mutation.sigma", m["sigma"], 0.0)
    odds = [check_float(w, f"mutation.{k}", m[k], 0.0) for k in ("p_perturb", "p_zero", "p_resample")]
    if sum(odds) <= 0:
        raise RecipeError(f"{w}: mutation.p_perturb/p_zero/p_resample = {odds}: at least one must be > 0")
    f = recipe.fitness
    if not isinstance(f["name"], str) or f["name"] not in FITNESS:
        raise RecipeError(f"{w}: fitness.name = {f['name']!r}: must be one of {', '.join(FITNESS.list())}")
    if not isinstance(f["args"], dict):
        raise RecipeError(f"{w}: fitness.args = {f['args']!r}: must be a mapping of the fitness' arguments")
    from evovideo.evolution.candidate import FOLDS

    if f["fold"] not in FOLDS:
        raise RecipeError(f"{w}: fitness.fold = {f['fold']!r}: must be one of {', '.join(FOLDS)}")
    if not isinstance(f["data"], dict) or "class_path" not in f["data"]:
        raise RecipeError(f"{w}: fitness.data = {f['data']!r}: must be {{class_path: <a LightningDataModule>, "
                          "init_args: {...}}, e.g. evovideo.lightning.SyntheticDataModule")
    r = recipe.runner
    if r["name"] not in RUNNERS:
        raise RecipeError(f"{w}: runner.name = {r['name']!r}: must be one of {', '.join(RUNNERS)}")
    check_int(w, "runner.workers", r["workers"], 1)
    if r["num_cpus"] is not None:
        check_int(w, "runner.num_cpus", r["num_cpus"], 1, allowed="null or an integer >= 1")
    check_float(w, "runner.gpus_per_candidate", r["gpus_per_candidate"], 0.0)
