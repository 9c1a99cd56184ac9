"""The λ of a recipe in one nested form, {tasks: {...}, distill: {...}}: which group a term belongs to
is said by where it is written, never guessed from a ':' in its name."""
from __future__ import annotations

import pytest
import yaml

from evovideo.evolution.recipe import EvolveRecipe, write_pretrain_recipe
from evovideo.tasks import RecipeError
from evovideo.tasks.lambdas import nest_lambdas, pin_lambdas

BASE = {"model": {"init_args": {"towers": {"flow": "test_flow"}, "tasks": {"rgb/reconstruction": 1.0},
                                "distill": {"flow:layer3": 0.5}}}}


def _evolve_recipe(tmp_path, search_space: str) -> EvolveRecipe:
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(BASE))
    (tmp_path / "e.yaml").write_text(f"pretrain: p.yaml\nsearch_space: {search_space}\ndistill_layers: [layer4]\n"
                                     "fitness: {data: {class_path: evovideo.lightning.SyntheticDataModule}}\n")
    return EvolveRecipe.from_yaml(tmp_path / "e.yaml")


def test_search_space_is_nested_and_groups_come_from_it(tmp_path) -> None:
    from evovideo.evolution.checks import check_settings

    r = _evolve_recipe(tmp_path, "{tasks: [rgb/reconstruction, rgb/arrow_of_time], distill: ['flow:layer3']}")
    check_settings(r)
    space = r.space(r.base_recipe())
    assert space == {"tasks": ["rgb/reconstruction", "rgb/arrow_of_time"], "distill": ["flow:layer3", "flow:layer4"]}
    assert r.space_names(r.base_recipe()) == ("rgb/reconstruction", "rgb/arrow_of_time", "flow:layer3", "flow:layer4")


def test_flat_search_space_is_refused_with_the_nested_form_to_write(tmp_path) -> None:
    with pytest.raises(RecipeError, match=r"search_space.*write it nested: search_space: "
                                          r"\{tasks: \[rgb/reconstruction\], distill: \[flow:layer3\]\}"):
        _evolve_recipe(tmp_path, "[rgb/reconstruction, 'flow:layer3']")


def test_genome_nests_by_the_space_not_by_the_name() -> None:
    space = {"tasks": ["a:b/odd_but_a_task"], "distill": ["flow:layer3"]}
    assert nest_lambdas({"a:b/odd_but_a_task": 0.25, "flow:layer3": 0.5}, space) == {
        "tasks": {"a:b/odd_but_a_task": 0.25}, "distill": {"flow:layer3": 0.5}}
    with pytest.raises(ValueError, match=r"'nowhere'.*neither"):
        nest_lambdas({"nowhere": 1.0}, space)


def test_run_pretraining_and_the_written_recipe_take_nested_lambdas(tmp_path) -> None:
    lambdas = {"tasks": {"rgb/reconstruction": 0.25}, "distill": {"flow:layer3": 0.0, "flow:layer4": 0.75}}
    init = pin_lambdas(BASE, lambdas)["model"]["init_args"]
    assert init["tasks"] == {"rgb/reconstruction": 0.25} and init["distill"] == {"flow:layer3": 0.0, "flow:layer4": 0.75}
    assert BASE["model"]["init_args"]["distill"] == {"flow:layer3": 0.5}  # the base is not changed
    path = write_pretrain_recipe(BASE, lambdas, tmp_path / "best.yaml", "note")
    assert yaml.safe_load(path.read_text())["model"]["init_args"]["distill"] == {"flow:layer3": 0.0, "flow:layer4": 0.75}
    flat = {"rgb/reconstruction": 0.25, "flow:layer3": 0.0}
    for call in (lambda: pin_lambdas(BASE, flat), lambda: write_pretrain_recipe(BASE, flat, tmp_path / "x.yaml", "")):
        with pytest.raises(RecipeError, match=r"lambdas.*nested.*\{tasks: \{rgb/reconstruction: 0.25\}, "
                                              r"distill: \{flow:layer3: 0.0\}\}"):
            call()
