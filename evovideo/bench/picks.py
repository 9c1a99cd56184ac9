"""Where a bench arm's λ come from: the pick of a search (``evovideo evolve``'s results.jsonl or its
summary.json), and whether that search trained the recipe the bench trains.

A pick is tested on the recipe it was searched on: the recipe an ``--evolved`` / ``--random`` search trained
(its results header, or a summary.json that records it) must be the benched one, λ, seed and trainer aside;
a pick from another recipe is refused unless ``--allow-other-recipe`` asks for that transfer test.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def best_of(path: str | Path) -> dict[str, Any]:
    """The best candidate of a results file, ranked as the search ranks (most steps, then score); or the
    ``best`` of a search's ``summary.json`` (e.g. the packaged ``recipes/evolve/demo_synthetic.summary.json``:
    its pick can be tested on fresh seeds without the search's results file)."""
    from evovideo.evolution.results import read_results
    from evovideo.evolution.summary import best_record

    if is_summary(path):
        best = json.loads(Path(path).read_text()).get("best")
        if not isinstance(best, dict) or not isinstance(best.get("lambdas"), dict) or "id" not in best:
            raise ValueError(f"{path} has no 'best' candidate with an id and λ: not the summary.json of an evolution")
        return best
    try:
        return best_record(read_results(path)[1])
    except ValueError:
        raise ValueError(f"{path} has no finished candidate with a finite score") from None


def is_summary(path: str | Path) -> bool:
    return Path(path).suffix == ".json"


def _search_meta(path: str | Path) -> dict[str, Any]:
    """What a search recorded about itself: a results file's header, or a summary.json."""
    from evovideo.evolution.results import read_results

    return json.loads(Path(path).read_text()) if is_summary(path) else read_results(path)[0]


def results_space(path: str | Path) -> dict[str, list[str]]:
    """The λ names of a search's results file or summary by group (``{tasks, distill}``; files written
    before they recorded them: none, their names must then be terms of the recipe or of ``--search``)."""
    return _search_meta(path).get("space") or {}


NOT_COMPARED = ("seed_everything", "trainer", "model.init_args.tasks", "model.init_args.distill",
                *(f"data.init_args.{k}" for k in ("backend", "memo_mb", "num_workers", "flow_cache_dir", "flow_cache_max_gb")))
"""What a bench sets itself (λ, seed, steps, trainer) or what does not change what is learned (decoder, caches)."""


def recipe_differences(searched: dict[str, Any], benched: dict[str, Any]) -> list[str]:
    """Where the recipe a search trained differs from the benched one (``NOT_COMPARED`` aside), as
    ``"<dotted key>: <there> there, <here> here"``."""
    from evovideo.dotted import flatten_dotted

    there, here = flatten_dotted(searched), flatten_dotted(benched)
    keys = [k for k in dict.fromkeys([*there, *here]) if not any(f"{k}.".startswith(f"{n}.") for n in NOT_COMPARED)]
    return [f"{k}: {there.get(k)} there, {here.get(k)} here" for k in keys if there.get(k) != here.get(k)]


def searched_recipe(path: str | Path) -> dict[str, Any] | None:
    """The pretrain recipe (as its candidates trained it) of the search a results file or summary is
    from; None for files written before they recorded it."""
    return _search_meta(path).get("pretrain")


def check_sources(args: argparse.Namespace, cfg: dict[str, Any]) -> dict[str, list[str]]:
    """``{"evolved" | "random": differences}`` between the recipe each given search trained and the benched
    ``cfg``; a difference is refused unless ``--allow-other-recipe`` (then it is returned, for the table)."""
    out = {}
    for arm in ("evolved", "random"):
        path = getattr(args, arm, None)
        if arm not in args.arms or path is None:
            continue
        searched = searched_recipe(path)
        if searched is None:
            print(f"--{arm} {path} does not record the recipe its search trained: not checked against the benched one")
            continue
        differ = recipe_differences(searched, cfg)
        if differ and not getattr(args, "allow_other_recipe", False):
            raise ValueError(f"--{arm} {path} was searched on another pretrain recipe than the benched {args.recipe} "
                             f"({'; '.join(differ)}): bench its search's recipe (--search / --recipe, or --set the "
                             "differences), or pass --allow-other-recipe to test its λ here on purpose")
        out[arm] = differ
    return out
