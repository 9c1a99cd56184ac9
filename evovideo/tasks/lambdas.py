"""The λ of a recipe in one nested form: ``{"tasks": {term: λ}, "distill": {term: λ}}``.

Which group a term belongs to is said by where it is written (a recipe's ``model.init_args.tasks`` /
``distill``, an evolve recipe's ``search_space: {tasks: [...], distill: [...]}``), never guessed
from its name.  The evolution's genome is a flat ``{name: λ}`` vector; :func:`nest_lambdas` puts it
back into the nested form with the search space's groups.

    pin_lambdas(recipe, {"tasks": {"rgb/reconstruction": 0.5}, "distill": {"flow:layer3": 0.0}})
"""
from __future__ import annotations

import copy
from typing import Any, Mapping, Sequence

from evovideo.tasks.base import RecipeError

GROUPS = ("tasks", "distill")
Lambdas = dict[str, dict[str, float]]  # {"tasks": {...}, "distill": {...}}


def _flow(value: Any) -> str:
    """``value`` in YAML flow style, for messages that say what to write."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return str(value)


def guess_groups(names: Sequence[str]) -> dict[str, list[str]]:
    """The old flat form's rule ('tower:layer' is distillation), used only to word an error's advice."""
    return {"tasks": [n for n in names if ":" not in n], "distill": [n for n in names if ":" in n]}


def check_lambdas(lambdas: Any, where: str = "lambdas") -> Lambdas:
    """``lambdas`` in the nested form, numbers as floats; the old flat form is refused with the nested
    form to write instead."""
    ok = isinstance(lambdas, Mapping) and set(lambdas) <= set(GROUPS) and all(
        isinstance(v, Mapping) for v in lambdas.values())
    if not ok:
        if isinstance(lambdas, Mapping):
            advice = {g: {n: lambdas[n] for n in names} for g, names in guess_groups(list(lambdas)).items()}
            raise RecipeError(f"{where} = {_flow(lambdas)}: λ are nested by group now; write "
                              f"{_flow(advice)}")
        raise RecipeError(f"{where} = {lambdas!r}: must be {{tasks: {{term: λ}}, distill: {{term: λ}}}}")
    return {g: {str(n): float(v) for n, v in (lambdas.get(g) or {}).items()} for g in GROUPS}


def nest_lambdas(flat: Mapping[str, float], space: Mapping[str, Sequence[str]]) -> Lambdas:
    """A genome's flat ``{name: λ}`` in the nested form, grouped as the search ``space`` says."""
    group = {n: g for g in GROUPS for n in space.get(g, ())}
    out: Lambdas = {g: {} for g in GROUPS}
    for name, value in flat.items():
        if name not in group:
            raise ValueError(f"lambda '{name}' is in neither group of the search space {_flow(dict(space))}")
        out[group[name]][name] = float(value)
    return out


def pin_lambdas(recipe: Mapping[str, Any], lambdas: Mapping[str, Any], *, ndigits: int | None = None) -> dict[str, Any]:
    """A copy of the pretrain ``recipe`` with ``lambdas`` (nested) over its ``model.init_args.tasks`` /
    ``distill``; a weight of 0 removes the term.  ``ndigits``: round the pinned values."""
    nested = check_lambdas(lambdas)
    cfg = copy.deepcopy(dict(recipe))
    init = cfg.setdefault("model", {}).setdefault("init_args", {})
    for g in GROUPS:
        pinned = {n: (round(v, ndigits) if ndigits is not None else v) for n, v in nested[g].items()}
        init[g] = {**(init.get(g) or {}), **pinned}
    return cfg


__all__ = ["GROUPS", "Lambdas", "check_lambdas", "guess_groups", "nest_lambdas", "pin_lambdas"]
