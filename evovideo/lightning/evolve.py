"""The Lightning side of the evolution: how a candidate trains and how its fitness data is built.

    evaluate = PretrainEvaluator(recipe=..., budget=20, trainer=pretrain_with_lightning,
                                 datamodule=fitness_datamodule, space=recipe.space(base), fitness="zipf", ...)

``evovideo.evolution`` never imports Lightning: the search, the runners and the evaluator take
these two functions as arguments (moved here from ``evolution/candidate.py``), and
:func:`check_recipe` (moved from ``evolution/checks.py``) checks what needs them.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from evovideo.evolution.checks import check_settings, where
from evovideo.evolution.fitness import FITNESS
from evovideo.lightning.recipe_check import check_pretrain_recipe, instantiate_data
from evovideo.models import Encoder
from evovideo.tasks import RecipeError
from evovideo.tasks.lambdas import Lambdas


def pretrain_with_lightning(recipe: Any, lambdas: Lambdas, budget: int, seed: int, workdir: Path,
                            stop_at: int | None = None, resume_from: Path | None = None) -> Encoder:
    """Train ``budget`` steps of the pretrain ``recipe`` with ``lambdas`` pinned; the student.

    ``stop_at``: stop there on the ``budget``-step schedule (a successive-halving rung, checkpoint
    ``workdir/stopped.ckpt``); ``resume_from``: continue such a checkpoint."""
    from evovideo.lightning.pretrain import run_pretraining

    return run_pretraining(
        recipe, lambdas=lambdas, max_steps=budget, seed=seed, root_dir=workdir,
        trainer_overrides={"enable_progress_bar": False, "enable_model_summary": False},
        stop_at=stop_at, resume_from=resume_from,
    )


def fitness_datamodule(spec: Mapping[str, Any]) -> Any:
    """The fitness data module, resolved like a ``fit`` recipe's ``data``: ``class_path`` must name a
    LightningDataModule (checked by jsonargparse before anything is instantiated), else refused."""
    return instantiate_data(spec, "fitness.data")


def check_recipe(recipe: Any, base: dict[str, Any]) -> None:
    """Settings, then what needs imports: the candidates' pretrain recipe (classes resolved against their
    base classes, values checked by the data module and the term plan), the fitness and its data set."""
    check_settings(recipe)
    w = where(recipe)
    candidate = recipe.candidate_recipe(base)
    check_pretrain_recipe(candidate, where=f"pretrain recipe {recipe.pretrain}")
    space = recipe.space(base)
    known = recipe.initial_lambdas(base)  # the recipe's terms, in recipe order
    searched = recipe.space_names(base)
    unknown = [n for n in searched if n not in known]
    if unknown and recipe.search_space is not None:
        from evovideo.tasks.plan import make_plan  # a term not in the base recipe must still be a valid term

        init = (candidate.get("model") or {}).get("init_args") or {}
        make_plan(init.get("student", "test_r2plus1d"), init.get("towers") or {},
                  dict.fromkeys(space["tasks"], 1.0), dict.fromkeys(space["distill"], 1.0), {})
    for term in recipe.hand_set_lambdas or {}:
        if term not in known and term not in searched:
            raise RecipeError(f"{w}: hand_set_lambdas: '{term}' is neither a term of the pretrain recipe nor of the "
                              f"search space ({', '.join(dict.fromkeys([*known, *searched]))})")
    starting = recipe.starting_lambdas(base)
    if len(starting) > recipe.population:
        raise RecipeError(f"{w}: population = {recipe.population}: generation 0 starts from {len(starting)} chosen "
                          f"lambda vectors (start_from_recipe, start_from_singles: {len(space['tasks'])} tasks); "
                          f"raise population to at least {len(starting)} or set start_from_singles: false")
    f = recipe.fitness
    try:
        fit = FITNESS.create(f["name"], **f["args"])
    except (TypeError, ValueError) as err:
        raise RecipeError(f"{w}: fitness.args = {f['args']!r}: {err}") from None
    dm = fitness_datamodule(f["data"])
    kind = getattr(fit, "reference", None)
    if kind is not None and not hasattr(dm, "modalities"):
        raise RecipeError(f"{w}: fitness '{f['name']}' compares the student with the '{kind}' descriptor of the "
                          f"fitness clips, read through fitness.data's 'modalities' argument, which "
                          f"{f['data'].get('class_path')} does not take; use a data module that does "
                          "(SyntheticDataModule, UCF101DataModule, ...) or another fitness")
    fold = f["fold"]
    dm.setup("validate" if fold == "val" else fold)
    videos = _num_videos(dm, fold)
    need = getattr(fit, "min_samples", None)
    if videos is not None and need is not None and videos < need:
        raise RecipeError(f"{w}: fitness.args = {f['args']!r}: the '{f['name']}' fitness needs at least {need} "
                          f"videos, but fitness.data fold '{fold}' has {videos}; lower k or use a larger set")


def _num_videos(dm: Any, fold: str) -> int | None:
    """How many videos (= feature rows) a data module's fold holds, when it can tell."""
    dataset = getattr(dm, "datasets", {}).get(fold)
    records = getattr(dataset, "records", None)  # ClipDataset: one record per video (views share it)
    return len(records) if records is not None else None
