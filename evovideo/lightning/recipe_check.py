"""Resolve the classes a recipe names before anything runs, the way ``evovideo fit`` does.

Every ``class_path`` in a recipe goes through LightningCLI's typed parser (jsonargparse) with the
base class its field expects: ``model`` a LightningModule, ``data`` a LightningDataModule,
``trainer.callbacks`` Callbacks, ...  A ``class_path`` that is not a subclass of that base
(``os.system``, ``subprocess.Popen``, ``builtins.eval``) is refused with one line naming the
field; nothing is instantiated, so nothing it names runs::

    parse_pretrain_recipe(cfg, where="recipes/pretrain/x.yaml")      # model, data, trainer
    dm = instantiate_data(spec, "fitness.data")                # a checked data module

Used by ``evovideo evolve`` (its base pretrain recipe and its fitness data) so a hostile or
mistyped recipe fails before the first candidate trains.
"""
from __future__ import annotations

import importlib
import warnings
from typing import Any, Mapping

from jsonargparse import ArgumentParser, Namespace
from pytorch_lightning import LightningDataModule, LightningModule

from evovideo.evolution.checks import one_line
from evovideo.lightning.cli import EvovideoCLI
from evovideo.lightning.pretrain import PretrainModule
from evovideo.tasks import RecipeError


class _ParseOnlyCLI(EvovideoCLI):
    """EvovideoCLI that parses and type-checks a recipe and instantiates nothing."""

    def _set_seed(self) -> None:
        pass

    def instantiate_classes(self) -> None:
        pass

    def after_instantiate_classes(self) -> None:
        pass


def parse_pretrain_recipe(cfg: Mapping[str, Any], where: str = "pretrain recipe") -> Namespace:
    """Type-check a pretrain/fit recipe dict (every class resolved against its base); instantiate nothing."""
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*LightningCLI's args parameter")  # args given as a dict
            cli = _ParseOnlyCLI(LightningModule, LightningDataModule, subclass_mode_model=True,
                                subclass_mode_data=True, args=dict(cfg), run=False, auto_configure_optimizers=False,
                                parser_kwargs={"exit_on_error": False})
    except (Exception, SystemExit) as err:  # noqa: BLE001 - jsonargparse raises ArgumentError / exits
        raise RecipeError(f"{where}: {one_line(err)}") from None
    return cli.config


def check_pretrain_recipe(cfg: Mapping[str, Any], where: str = "pretrain recipe") -> None:
    """:func:`parse_pretrain_recipe`, then the values: the data module is built (its constructor checks
    clip length, batch size, modalities, flow method; it reads no data) and a PretrainModule's terms
    are planned against it (names, weights, towers, the batch keys the data must produce)."""
    config = parse_pretrain_recipe(cfg, where)
    dm = None
    if config.get("data") is not None:
        dm = instantiate_data(config.data.as_dict(), "data", where)
    model = config.get("model")
    if model is not None and _resolved(model.class_path) is PretrainModule:  # already checked to be a LightningModule
        from evovideo.tasks.plan import make_plan

        a = model.init_args
        try:
            plan = make_plan(a.student, a.towers or {}, a.tasks or {}, a.distill or {}, a.task_args or {})
            if dm is not None:
                plan.check_data(dm)
        except RecipeError as err:
            field = "" if str(err).startswith("data.") else "model.init_args."
            raise RecipeError(f"{where}: {field}{err}") from None


def _resolved(class_path: str) -> Any:
    module, _, name = class_path.rpartition(".")
    return getattr(importlib.import_module(module), name, None)


def _data_parser() -> ArgumentParser:
    parser = ArgumentParser(exit_on_error=False)
    parser.add_subclass_arguments(LightningDataModule, "data", required=True)
    return parser


def _refuse(where: str, field: str, msg: str) -> RecipeError:
    """``"'data.init_args.x': why"`` or ``"data.init_args.x = v: why"`` -> ``"<where>: <field>.init_args.x ..."``."""
    if msg.startswith("'data"):
        name, _, why = msg[1:].partition("': ")
        msg = f"{field}{name[4:]}: {why}"
    elif msg.startswith("data."):
        msg = f"{field}{msg[4:]}"
    else:
        msg = f"{field}: {msg}"
    return RecipeError(f"{where}: {msg}" if where else msg)


def parse_data_spec(spec: Mapping[str, Any], field: str = "data", where: str = "") -> Namespace:
    """Check that ``{class_path, init_args}`` names a LightningDataModule with valid arguments."""
    if not isinstance(spec, Mapping) or "class_path" not in spec:
        raise _refuse(where, field, f"needs 'class_path' (e.g. evovideo.lightning.SyntheticDataModule), got {spec!r}")
    try:
        return _data_parser().parse_object({"data": dict(spec)})
    except Exception as err:  # noqa: BLE001 - jsonargparse's ArgumentError
        raise _refuse(where, field, one_line(err)) from None


def instantiate_data(spec: Mapping[str, Any], field: str = "data", where: str = "") -> LightningDataModule:
    """The data module a ``{class_path, init_args}`` spec names, checked first (see :func:`parse_data_spec`);
    its constructor's value checks (``RecipeError``) come out as one line too."""
    parser = _data_parser()
    cfg = parse_data_spec(spec, field, where)
    try:
        return parser.instantiate(cfg).data
    except ValueError as err:  # jsonargparse wraps what the constructor raised
        raise _refuse(where, field, one_line(err)) from None
