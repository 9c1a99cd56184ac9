"""ELo pretraining: an RGB student and flow / gray / audio towers trained with weighted tasks.

    L = Σ_m Σ_t λ_{m,t} L_{m,t} + Σ_d λ_d L_d,   every λ in [0, 1]

Terms are named in the recipe (see :mod:`evovideo.tasks.base` and :mod:`evovideo.tasks.distill`)::

    model:
      class_path: evovideo.lightning.PretrainModule
      init_args:
        student: test_r2plus1d
        towers: {flow: test_flow, audio: test_audio}
        tasks: {"rgb/reconstruction": 0.5, "flow/arrow_of_time": 1.0, "audio-rgb/temporal_alignment": 0.4}
        distill: {"flow:layer3": 0.5}

A term with λ = 0 is not built and not computed; a tower that no remaining term reads is not
built or run.  Each step runs every needed tower once on its input (tapping the layers that
distillation reads) and hands the features to every task.  After ``fit`` the student alone is
exported (safetensors) to ``export_dir`` (default: ``<log dir>/student``).
"""
from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any, Mapping

import pytorch_lightning as pl
import torch

from evovideo.clip import ClipSpec
from evovideo.factory import create_model
from evovideo.lightning.schedule import warmup_cosine_scheduler
from evovideo.models import Encoder, InputConfig
from evovideo.tasks.plan import TermPlan, make_plan
from evovideo.tasks import TASKS, Distiller, Features, RecipeError, TaskInputs, TermSpec
from evovideo.tasks.base import audio_mask
from evovideo.tasks.lambdas import pin_lambdas

log = logging.getLogger(__name__)


class PretrainModule(pl.LightningModule):
    """ELo pretraining of an RGB ``student`` with modality ``towers``.

    Args:
        student: registered RGB encoder (``evovideo list-models``), e.g. ``r2plus1d_50``.
        towers: modality -> registered encoder, e.g. ``{"flow": "flow_r2plus1d_18"}``.
        tasks: ``"<modalities>/<task>" -> λ`` (``"rgb/reconstruction"``, ``"rgb->flow/cross_modal_transfer"``,
            ``"audio-rgb/temporal_alignment"``).
        distill: ``"<tower modality>:<layer>[-><student layer>]" -> λ`` (``"flow:layer3"``).
        task_args: per-term keyword arguments for the task, e.g.
            ``{"flow-rgb/cross_modal_embedding": {"loss": "infonce"}}``.
        teachers: modality -> pretrained weights for that tower (``local-dir:/path``, ``hf-hub:ORG/NAME``,
            ``arch.tag``), loaded strictly.  A tower that is distilled from but trained by no active
            task is frozen: without a teacher it would distil its *random* initial features into the
            student, so that recipe is refused (give the tower a task, a teacher, or λ = 0).
        lr, weight_decay: AdamW.
        warmup_steps: linear warm-up, then cosine decay to 0 over the run.
        seed: seeds the per-step random draws of the tasks (shuffles), so resumed runs match.
        checkpointing: encoders whose layers are recomputed in backward instead of stored
            (activation checkpointing), by modality: ``[rgb]`` (the student), ``[flow, gray]``,
            ... Every forward of that encoder in the step is checkpointed, the tasks' extra
            forwards too.  Saves memory for about one more forward of compute; same results.
        export_dir: where the student is saved after ``fit`` (default ``<log dir>/student``).
    """

    def __init__(
        self,
        student: str = "test_r2plus1d",
        towers: dict[str, str] | None = None,
        tasks: dict[str, float] | None = None,
        distill: dict[str, float] | None = None,
        task_args: dict[str, dict[str, Any]] | None = None,
        teachers: dict[str, str] | None = None,
        lr: float = 1e-3,
        weight_decay: float = 0.05,
        warmup_steps: int = 0,
        seed: int = 0,
        export_dir: str | None = None,
        checkpointing: list[str] | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.plan: TermPlan = make_plan(student, towers or {}, tasks or {}, distill or {}, task_args or {})
        plan = self.plan
        teachers = dict(teachers or {})
        self.encoders = torch.nn.ModuleDict({m: load_tower(m, name, teachers.get(m) if m != "rgb" else None)
                                             for m, name in plan.encoder_names.items()})
        plan.check_layers(self.encoders)
        plan.check_teachers(teachers)
        self.tasks = torch.nn.ModuleDict({spec.key: self._build_task(spec) for spec in plan.tasks})
        self.distillers = torch.nn.ModuleDict({
            d.key: Distiller(self.encoders["rgb"].layer_channels(d.student_layer),
                             self.encoders[d.modality].layer_channels(d.tower_layer), d.modality == "audio")
            for d in plan.distill
        })
        for m in plan.frozen:
            self.encoders[m].requires_grad_(False)
            if m in teachers:
                log.warning("%s tower: frozen pretrained teacher %s (no active task trains it)", m, teachers[m])
        self._warned_all_masked = False
        self._plain_steps = 0  # training steps taken without a Trainer (a plain loop), see step_generator
        for m in checkpointing or ():
            if m not in self.encoders:
                raise RecipeError(f"checkpointing: no '{m}' encoder in this recipe; encoders: {', '.join(self.encoders)}")
            self.encoders[m].set_grad_checkpointing(True)
        if "rgb" in plan.frozen:
            log.warning("no active term reads the student (rgb): it will not change; terms: %s", ", ".join(plan.weights))
        log.info("pretraining %s with towers %s; terms: %s", student,
                 {m: n for m, n in plan.encoder_names.items() if m != "rgb"} or "none",
                 ", ".join(f"{k}={w}" for k, w in plan.weights.items()))

    def train(self, mode: bool = True) -> "PretrainModule":
        """Train mode, except the frozen towers: a frozen teacher runs in eval mode (BatchNorm with
        its running statistics, which are then not overwritten by the pretraining batches)."""
        super().train(mode)
        for m in self.plan.frozen:
            self.encoders[m].eval()
        return self

    def _build_task(self, spec: TermSpec) -> torch.nn.Module:
        kwargs = self.plan.task_args.get(spec.key, {})
        try:
            return TASKS.create(spec.task, modalities=spec.modalities, encoders=self.encoders, **kwargs)
        except (TypeError, ValueError) as err:
            raise RecipeError(f"task_args['{spec.key}'] = {kwargs}: {err}") from None

    @property
    def student(self) -> Encoder:
        return self.encoders["rgb"]

    @property
    def required_keys(self) -> tuple[str, ...]:
        """Batch keys the data must produce for the active terms (``evovideo.data.pipeline`` builds them)."""
        return self.plan.batch_keys

    def check_data(self, datamodule: Any) -> None:
        """Fail before reading data if ``datamodule`` does not produce the keys the terms need."""
        self.plan.check_data(datamodule)

    # -- the step -------------------------------------------------------------------------------
    def run_towers(self, batch: Mapping[str, torch.Tensor]) -> dict[str, Features]:
        """Run each needed tower once on its input, tapping the layers distillation reads."""
        out: dict[str, Features] = {}
        for m in self.plan.feature_modalities:
            encoder, taps, wanted = self.encoders[m], {}, self.plan.taps.get(m, ())
            x = batch[m]  # (B, C, T, H, W); audio (B, 1, F, T)
            for name, layer in encoder.named_layers():
                x = encoder.run_layer(layer, x)
                if name in wanted:
                    taps[name] = x
            out[m] = Features(fmap=x, pooled=encoder.pool(x), taps=taps)  # pooled: (B, D)
        return out

    def step_generator(self) -> torch.Generator:
        """The generator of this step's task randomness (temporal-order tuples), seeded by (seed, step,
        rank).  The step is the Trainer's ``global_step``; without a Trainer (a plain loop over
        ``compute_losses``, e.g. ``evovideo bench tasks``) ``global_step`` stays 0, so the step is
        the number of train-mode ``compute_losses`` calls so far: every step draws fresh tuples
        (the same ones each step let the head memorise a fixed walk per batch row)."""
        if self._trainer is not None:
            step, rank = self.global_step, self.trainer.global_rank
        else:
            step, rank = self._plain_steps, 0
            self._plain_steps += int(self.training)
        return torch.Generator().manual_seed(self.hparams.seed * 1_000_003 + step * 101 + rank)

    def compute_losses(self, batch: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """``{term: λ·L}`` for every active term of the recipe."""
        features = self.run_towers(batch)
        inputs = TaskInputs(batch=batch, features=features, encoders=self.encoders, generator=self.step_generator())
        weights = self.plan.weights
        terms = {key: weights[key] * task(inputs) for key, task in self.tasks.items()}
        for d in self.plan.distill:
            student_map = features["rgb"].taps[d.student_layer]
            tower_map = features[d.modality].taps[d.tower_layer]
            keep = audio_mask(batch, (d.modality,), student_map.shape[0])  # clips without audio are left out
            terms[d.key] = weights[d.key] * self.distillers[d.key](student_map, tower_map, keep)
        return terms

    def training_step(self, batch: Mapping[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        terms = self.compute_losses(batch)
        total = torch.stack(list(terms.values())).sum()
        batch_size = batch[self.plan.batch_keys[0]].shape[0]
        for key, value in terms.items():
            self.log(f"train/{key}", value.detach(), on_step=True, on_epoch=False, batch_size=batch_size)
        masked = [k for k, v in terms.items() if float(v.detach()) == 0.0]  # exactly 0: every clip left out
        self.log("train/masked_terms", float(len(masked)), on_step=True, on_epoch=False, batch_size=batch_size)
        if len(masked) == len(terms) and not self._warned_all_masked:
            self._warned_all_masked = True
            log.warning(
                "step %d: every active term (%s) was masked for the whole batch, so the loss is exactly 0 and "
                "nothing trains (e.g. terms that need audio on clips without an audio track: has_audio is "
                "False for all %d clips).  Check the data, or give a term that does not need audio a weight > 0. "
                "train/masked_terms counts the masked terms every step; this warning is shown once.",
                self.global_step, ", ".join(masked), batch_size)
        self.log("train/loss", total.detach(), on_step=True, on_epoch=False, prog_bar=True, batch_size=batch_size)
        return total

    # -- optimiser ------------------------------------------------------------------------------
    def configure_optimizers(self) -> Any:
        params = [p for p in self.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=self.hparams.lr, weight_decay=self.hparams.weight_decay)
        total = max(1, int(self.trainer.estimated_stepping_batches))
        warmup = self.hparams.warmup_steps
        if warmup >= total:
            log.warning("warmup_steps=%d >= the run's %d steps: the learning rate never reaches lr=%g; "
                        "lower warmup_steps (run_pretraining scales it with max_steps)", warmup, total, self.hparams.lr)
        scheduler = warmup_cosine_scheduler(optimizer, warmup, total)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    # -- export ---------------------------------------------------------------------------------
    def on_train_end(self) -> None:
        target = self.hparams.export_dir
        if target is None:
            root = self.trainer.log_dir or self.trainer.default_root_dir  # log_dir is collective: every rank
            target = str(Path(root) / "student")
        if not self.trainer.is_global_zero:
            return
        # the preprocessing the weights expect is what the data fed them, not the architecture default
        self.student.input_config = trained_input_config(self.student.input_config, self.trainer.datamodule)
        export_student(self.student, target, extra={"pretrain": dict(self.hparams)})
        log.info("student saved to %s", target)


def trained_input_config(base: InputConfig, datamodule: Any) -> InputConfig:
    """``base`` with the clip contract ``datamodule`` produced (``datamodule.clip``: frames, stride,
    frame rate, size, resize, and mean/std for an RGB student)."""
    clip = getattr(datamodule, "clip", None)
    if not isinstance(clip, ClipSpec):  # a user's own data module: keep the architecture's defaults
        return base
    fields = {k: getattr(clip, k) for k in ("num_frames", "stride", "frame_rate", "size", "resize")}
    if base.modality == "rgb":
        fields.update(mean=clip.mean, std=clip.std)
    return replace(base, **fields)


def export_student(student: Encoder, save_dir: str | Path, extra: dict[str, Any] | None = None) -> Path:
    """Save the student alone (no towers, no heads) with :func:`evovideo.hub.save_pretrained`."""
    from evovideo.hub import save_pretrained

    return Path(save_pretrained(student, save_dir, extra=extra) or save_dir)


def run_pretraining(
    config: str | Path | Mapping[str, Any],
    *,
    lambdas: Mapping[str, float] | None = None,
    max_steps: int | None = None,
    seed: int = 0,
    root_dir: str | Path = "runs/pretrain",
    datamodule: pl.LightningDataModule | None = None,
    trainer_overrides: Mapping[str, Any] | None = None,
    stop_at: int | None = None,
    resume_from: str | Path | None = None,
) -> Encoder:
    """Pretrain from a recipe and return the trained student (used by the evolution and the demo).

    Args:
        config: a pretrain recipe (YAML path, or the same content as a dict).
        lambdas: weights overriding the recipe's, nested like it: ``{"tasks": {...}, "distill": {...}}``
            (an evolution genome through ``evovideo.tasks.lambdas.nest_lambdas``); 0 removes a term.
        max_steps: overrides ``trainer.max_steps``.
        seed: ``seed_everything`` for the run.
        root_dir: the trainer's ``default_root_dir`` (logs, checkpoints, the exported student).
        datamodule: use this instead of the recipe's ``data``.
        trainer_overrides: extra Trainer arguments (e.g. ``{"enable_progress_bar": False}``).
        stop_at: stop after this many steps of a run *scheduled* for ``max_steps`` (the learning
            rate follows the full run's schedule) and save ``<root_dir>/stopped.ckpt``; successive
            halving scores a candidate there and continues the survivors from it.
        resume_from: a checkpoint to continue from (e.g. that ``stopped.ckpt``).

    Returns the student ``Encoder`` (CPU); ``student.pretrain_metrics`` holds the last logged values.
    """
    from evovideo.lightning.cli import build_cli

    cfg = load_recipe(config)
    if lambdas:
        cfg = pin_lambdas(cfg, lambdas)
    trainer = cfg.setdefault("trainer", {})
    trainer["default_root_dir"] = str(root_dir)
    if max_steps is not None:
        scale_warmup(cfg, int(max_steps))
        trainer["max_steps"] = int(max_steps)
    trainer.update(trainer_overrides or {})
    cfg["seed_everything"] = seed
    if datamodule is not None:
        cfg.pop("data", None)
    try:
        cli = build_cli(cfg, datamodule_required=datamodule is None)
    except ValueError as err:  # LightningCLI wraps the model's errors; a recipe error stays one
        if isinstance(err.__cause__, RecipeError):
            raise err.__cause__ from None
        raise
    dm = datamodule if datamodule is not None else cli.datamodule
    cli.model.check_data(dm)
    if not trainer.get("enable_progress_bar", True):  # e.g. evolution candidates: a few lines instead
        from evovideo.lightning.progress import ProgressLog

        cli.trainer.callbacks.append(ProgressLog(Path(root_dir).name))
    if stop_at is not None:
        cli.trainer.callbacks.append(StopAt(int(stop_at), Path(root_dir) / "stopped.ckpt"))
    cli.trainer.fit(cli.model, datamodule=dm, ckpt_path=str(resume_from) if resume_from else None)
    student = cli.model.student.cpu()
    student.pretrain_metrics = {k: float(v) for k, v in cli.trainer.callback_metrics.items()}
    return student


class StopAt(pl.Callback):
    """Save ``path`` and stop once ``trainer.global_step`` reaches ``step`` (the schedule stays the
    full run's).  Saved here, mid-epoch, as ``ModelCheckpoint(every_n_train_steps)`` does: a
    checkpoint saved after ``fit`` returns marks the epoch completed, and resuming from it would
    skip the rest of that epoch's batches."""

    def __init__(self, step: int, path: Path) -> None:
        self.step, self.path = step, path

    def on_train_batch_end(self, trainer: pl.Trainer, *args: Any) -> None:
        if trainer.global_step >= self.step and not trainer.should_stop:
            trainer.save_checkpoint(self.path)
            trainer.should_stop = True


def scale_warmup(cfg: dict[str, Any], max_steps: int) -> dict[str, Any]:
    """Scale the recipe's ``warmup_steps`` to a shortened run (in place): an evolution candidate
    trained ``max_steps`` of a recipe made for ``trainer.max_steps`` keeps the same *shape* of
    schedule (warm-up share, then cosine decay) instead of being scored mid-warm-up (the demo's
    budget 10 against warm-up 20).  Without ``trainer.max_steps`` the warm-up is capped at a
    tenth of ``max_steps``."""
    init = cfg.get("model", {}).get("init_args", {}) or {}
    warmup = int(init.get("warmup_steps") or 0)
    if warmup <= 0:
        return cfg
    full = int((cfg.get("trainer") or {}).get("max_steps") or -1)
    if full > 0 and max_steps < full:
        new = round(warmup * max_steps / full)
    elif full <= 0:
        new = min(warmup, max_steps // 10)
    else:
        return cfg
    if new != warmup:
        log.info("warmup_steps %d -> %d for a run of %d steps (recipe: %s)", warmup, new, max_steps,
                 f"{full} steps" if full > 0 else "no max_steps")
        init["warmup_steps"] = new
    return cfg


def load_tower(modality: str, name: str, teacher: str | None) -> Encoder:
    """The ``modality`` encoder ``name`` at random init, or the pretrained ``teacher`` weights."""
    if teacher is None:
        return create_model(name)
    from evovideo.factory import from_pretrained

    model = from_pretrained(teacher)
    got = model.input_config.modality
    if got != modality:
        raise RecipeError(f"teachers['{modality}'] = {teacher!r} is a {got} encoder, not {modality}")
    return model


def load_recipe(config: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    """A recipe as a plain (deep-copied) dict."""
    import copy

    import yaml

    if isinstance(config, Mapping):
        return copy.deepcopy(dict(config))
    path = Path(config)
    if not path.is_file():
        raise FileNotFoundError(f"recipe '{config}' not found; see recipes/pretrain/ for entries")
    return yaml.safe_load(path.read_text()) or {}
