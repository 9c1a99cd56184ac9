"""``evovideo fit|validate|test|predict``: LightningCLI over any LightningModule and DataModule.

A recipe picks the classes by ``class_path`` (subclass mode), so pretraining
(:class:`~evovideo.lightning.PretrainModule`) and fine-tuning recipes share one command::

    evovideo fit -c recipes/pretrain/demo_synthetic.yaml
    evovideo fit -c recipes/pretrain/demo_synthetic.yaml --trainer.max_steps 20 --model.init_args.lr 3e-4
    evovideo fit --help                      # every argument of the Trainer
    evovideo fit -c <recipe> --print_config  # the resolved recipe

Each run writes its resolved config (``config.yaml``) beside its logs: a CSV logger always,
and a TensorBoard logger too when ``tensorboard`` is installed, under ``trainer.default_root_dir``.
Before ``fit`` the module checks the data produces every batch key its terms read (a module
with a ``check_data(datamodule)`` method), so a bad recipe fails before any data is read.
"""
from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any, Mapping

from pytorch_lightning import LightningDataModule, LightningModule, Trainer
from pytorch_lightning.callbacks import ModelCheckpoint
from pytorch_lightning.cli import LightningCLI
from pytorch_lightning.loggers import CSVLogger, Logger



def default_loggers(root: str) -> list[Logger]:
    """CSV always; TensorBoard as well when it is installed."""
    loggers: list[Logger] = [CSVLogger(root, name="logs")]
    if importlib.util.find_spec("tensorboard") is not None:
        from pytorch_lightning.loggers import TensorBoardLogger

        loggers.append(TensorBoardLogger(root, name="logs", version=loggers[0].version))
    return loggers


class EvovideoCLI(LightningCLI):
    """LightningCLI with evovideo's defaults: loggers, saved config, data check before fit."""

    def before_instantiate_classes(self) -> None:
        """A ``--ckpt_path`` that names no file fails here, before a run folder is made."""
        config = self.config.get(self.subcommand, {}) if self.subcommand else self.config
        ckpt = config.get("ckpt_path") if hasattr(config, "get") else None
        if ckpt and ckpt not in ("last", "best", "hpc", "registry") and "://" not in str(ckpt) \
                and not Path(ckpt).is_file():
            raise FileNotFoundError(f"--ckpt_path {ckpt}: no such checkpoint file. Runs save one as "
                                    "<default_root_dir>/logs/version_N/checkpoints/last.ckpt")

    def instantiate_trainer(self, **kwargs: Any) -> Trainer:
        trainer_cfg = self._get(self.config_init, "trainer", default={}) or {}
        if trainer_cfg.get("logger") in (None, True) and "logger" not in kwargs:
            kwargs["logger"] = default_loggers(trainer_cfg.get("default_root_dir") or os.getcwd())
        callbacks = [*(trainer_cfg.get("callbacks") or []), *(kwargs.get("callbacks") or [])]
        if trainer_cfg.get("enable_checkpointing", True) is not False and not any(
                isinstance(cb, ModelCheckpoint) for cb in callbacks):
            # Lightning's default checkpoint, plus last.ckpt: the file to resume from, in every run
            kwargs["callbacks"] = [*callbacks, ModelCheckpoint(save_last=True)]
        return super().instantiate_trainer(**kwargs)

    def before_fit(self) -> None:
        check = getattr(self.model, "check_data", None)
        if callable(check) and self.datamodule is not None:
            check(self.datamodule)

    before_validate = before_test = before_fit  # a checkpoint's head and clips follow the same data check

    def after_fit(self) -> None:
        """Say which files were skipped as undecodable (each was also named once when it happened)."""
        if self.trainer.is_global_zero:
            summary = skipped_summary(self.datamodule)
            if summary:
                print(summary, file=sys.stderr)


def skipped_summary(datamodule: Any, show: int = 10) -> str | None:
    """"skipped N undecodable files: a, b, ..." for a data module with ``skipped_files``; None if none."""
    files = list(getattr(datamodule, "skipped_files", None) or [])
    if not files:
        return None
    more = f" ... and {len(files) - show} more" if len(files) > show else ""
    return (f"skipped {len(files)} undecodable file{'s' if len(files) != 1 else ''} (each replaced by another "
            f"video's clip): {', '.join(files[:show])}{more}")


def build_cli(args: list[str] | Mapping[str, Any] | None, *, run: bool = False,
              datamodule_required: bool = True) -> EvovideoCLI:
    """Parse ``args`` (argv list, or a recipe dict when ``run=False``) and instantiate the classes."""
    return EvovideoCLI(
        LightningModule,
        LightningDataModule if datamodule_required else None,
        subclass_mode_model=True,
        subclass_mode_data=True,
        args=dict(args) if isinstance(args, Mapping) else args,
        run=run,
        save_config_kwargs={"overwrite": True},
        auto_configure_optimizers=False,
    )


def run_lightning_cli(argv: list[str]) -> int:
    """Entry point of ``evovideo fit|validate|test|predict``; returns the exit code.

    Errors propagate: ``evovideo.cli.main`` shows recipe and data mistakes as one line (rc 2).
    """
    # From the command line let LightningCLI read sys.argv itself: DDP's launcher re-runs that
    # command line for the other ranks.  From Python (tests, notebooks) pass the list.
    args = None if list(argv) == sys.argv[1:] else list(argv)
    build_cli(args, run=True)
    return 0
