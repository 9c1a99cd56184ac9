"""From the recipe's named weights to what a pretraining step builds and runs (no Lightning).

:func:`make_plan` validates every name and weight *before* anything is built or read, and
works out: the active terms (λ > 0), the encoders to build, the towers to run each step, the
layers to tap, the batch keys the data must produce and the encoders that get no gradient.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Mapping

from evovideo.clip import BatchKeys
from evovideo.models import MODELS
from evovideo.models.base import MODALITIES, Encoder
from evovideo.tasks.base import TASKS, RecipeError, TermSpec, check_weight, parse_task_term
from evovideo.tasks.distill import DistillSpec, parse_distill_term

log = logging.getLogger(__name__)

TOWER_MODALITIES = tuple(m for m in MODALITIES if m != "rgb")


@dataclass
class TermPlan:
    weights: dict[str, float]  # active term -> λ (> 0)
    tasks: list[TermSpec]
    distill: list[DistillSpec]
    encoder_names: dict[str, str]  # modality -> registered encoder ("rgb" is the student)
    feature_modalities: tuple[str, ...]  # towers the step runs once (a task may run others itself)
    taps: dict[str, tuple[str, ...]]  # modality -> layers tapped for distillation and the tasks' decoders
    batch_keys: tuple[str, ...]
    frozen: tuple[str, ...]  # encoders no active term sends a gradient to
    task_args: dict[str, dict[str, Any]] = field(default_factory=dict)

    def check_layers(self, encoders: Mapping[str, Encoder]) -> None:
        for m, layers in self.taps.items():
            unknown = [layer for layer in layers if layer not in encoders[m].feature_layers]
            if unknown and not any(d.modality == m or m == "rgb" for d in self.distill):
                raise RecipeError(f"task_args: {self.encoder_names[m]} has no layer '{unknown[0]}' to decode from (skip=); "
                                  f"known: {', '.join(encoders[m].feature_layers)}")
        for d in self.distill:
            for m, layer in ((d.modality, d.tower_layer), ("rgb", d.student_layer)):
                known = encoders[m].feature_layers
                if layer not in known:
                    raise RecipeError(
                        f"distill['{d.key}']: {self.encoder_names[m]} has no layer '{layer}'; known: {', '.join(known)}"
                    )

    def check_teachers(self, teachers: Mapping[str, str]) -> None:
        """Refuse distillation from a frozen tower at random init: no active task trains it and no
        pretrained teacher is given, so the student would be pulled towards random features.
        (The evolution's "zero" mutation makes such candidates by itself; they score +inf.)"""
        unknown = [m for m in teachers if m not in self.encoder_names or m == "rgb"]
        if unknown:
            raise RecipeError(f"teachers: {', '.join(unknown)} is no tower of this recipe's active terms; towers: "
                              f"{', '.join(m for m in self.encoder_names if m != 'rgb') or '(none)'}")
        random_teachers = [d for d in self.distill if d.modality in self.frozen and d.modality not in teachers]
        if random_teachers:
            d = random_teachers[0]
            raise RecipeError(
                f"distill['{d.key}']: the {d.modality} tower is trained by no active task, so it stays at its random "
                f"initialisation and this term would distil random features into the student. Give it a task "
                f"(e.g. '{d.modality}/{'temporal_order' if d.modality != 'flow' else 'arrow_of_time'}' or "
                f"'{d.modality}-rgb/cross_modal_embedding' > 0), load a pretrained teacher "
                f"(teachers: {{{d.modality}: local-dir:/path/to/{d.modality}_tower}}), or set the weight to 0"
            )

    def check_data(self, datamodule: Any) -> None:
        """Raise if the data module does not produce every batch key the active terms read."""
        produced = produced_keys(datamodule)
        if produced is None:
            return
        missing = [k for k in self.batch_keys if k not in produced]
        if missing:
            users = [s.key for s in self.tasks if set(TASKS.get(s.task).batch_keys(s.modalities)) & set(missing)]
            users += [d.key for d in self.distill if d.modality in missing]
            raise RecipeError(
                f"data.init_args: {type(datamodule).__name__} does not produce {', '.join(missing)} "
                f"(needed by {', '.join(users) or 'the student'}); it produces {', '.join(sorted(produced))}. "
                "Add the modality to data.init_args.modalities (rgb_future needs future_frames > 0, "
                "audio_shifted needs audio_shift > 0) or set the term's weight to 0."
            )


def produced_keys(datamodule: Any) -> set[str] | None:
    """The batch keys a data module produces: its ``batch_keys`` if it has them, else derived
    from ``modalities`` / ``future_frames`` / ``audio_shift``; None if it says nothing."""
    keys = getattr(datamodule, "batch_keys", None)
    if keys is not None:
        return set(keys() if callable(keys) else keys)
    modalities = getattr(datamodule, "modalities", None)
    if modalities is None:
        return None
    out = set(modalities)
    if (getattr(datamodule, "future_frames", 0) or 0) > 0 and "rgb" in out:
        out.add(BatchKeys.RGB_FUTURE)
    if getattr(datamodule, "audio_shift", 0) and "audio" in out:
        out.add(BatchKeys.AUDIO_SHIFTED)
    return out


def _check_encoder(field_name: str, name: str, modality: str) -> None:
    if name not in MODELS:
        raise RecipeError(f"{field_name}: {MODELS._unknown_message(name)}")
    got = MODELS.meta(name)["input_config"].modality
    if got != modality:
        from evovideo.models import list_models

        raise RecipeError(f"{field_name}: '{name}' is a {got} encoder, not {modality}; "
                         f"{modality} encoders: {', '.join(list_models(modality=modality))}")


def make_plan(
    student: str,
    towers: Mapping[str, str],
    tasks: Mapping[str, float],
    distill: Mapping[str, float],
    task_args: Mapping[str, Mapping[str, Any]],
) -> TermPlan:
    _check_encoder("student", student, "rgb")
    for m, name in towers.items():
        if m not in TOWER_MODALITIES:
            raise RecipeError(f"towers: unknown modality '{m}'; known: {', '.join(TOWER_MODALITIES)} (rgb is the student)")
        _check_encoder(f"towers['{m}']", name, m)
    specs = [(parse_task_term(k), check_weight("tasks", k, w)) for k, w in tasks.items()]
    dspecs = [(parse_distill_term(k), check_weight("distill", k, w)) for k, w in distill.items()]
    for key in task_args:
        if key not in tasks:
            raise RecipeError(f"task_args['{key}']: no such term in tasks; terms: {', '.join(tasks) or '(none)'}")
    active = [s for s, w in specs if w > 0]
    active_d = [d for d, w in dspecs if w > 0]
    if not active and not active_d:
        raise RecipeError("tasks / distill: every weight is 0, nothing to train; give at least one term a weight > 0")
    weights = {s.key: w for s, w in specs if w > 0} | {d.key: w for d, w in dspecs if w > 0}

    feature_mods: list[str] = []  # towers the step runs (once) for the terms
    own_mods: list[str] = []  # towers a task runs itself
    keys: list[str] = []
    grad_mods: set[str] = set()
    for s in active:
        cls = TASKS.get(s.task)
        fm, own = cls.feature_modalities(s.modalities), cls.own_forward_modalities(s.modalities)
        feature_mods += fm
        own_mods += own
        grad_mods |= set(fm) | set(own)
        keys += cls.batch_keys(s.modalities)
    taps: dict[str, list[str]] = {}
    for s in active:
        for m, layers in TASKS.get(s.task).taps(s.modalities, task_args.get(s.key, {})).items():
            taps.setdefault(m, []).extend(layers)
    for d in active_d:
        feature_mods += ["rgb", d.modality]
        grad_mods.add("rgb")
        keys += ["rgb", d.modality]
        taps.setdefault("rgb", []).append(d.student_layer)
        taps.setdefault(d.modality, []).append(d.tower_layer)
    for s, w in specs + dspecs:
        mods = s.modalities if isinstance(s, TermSpec) else (s.modality,)
        field_name = "tasks" if isinstance(s, TermSpec) else "distill"
        for m in mods:
            if w > 0 and m != "rgb" and m in feature_mods + own_mods and m not in towers:
                raise RecipeError(f"{field_name}['{s.key}'] needs a {m} tower; add it to towers, e.g. "
                                 f"towers: {{{m}: {_example(m)[0]}}} ({m} encoders: {', '.join(_example(m))})")
    feature_modalities = tuple(dict.fromkeys(m for m in MODALITIES if m in feature_mods))
    built = tuple(m for m in MODALITIES if m in feature_mods + own_mods)
    unused = [m for m in towers if m not in built]
    if unused:
        log.warning("towers %s: no task or distill term with a weight > 0 reads %s, so %s not built or run "
                    "(give such a term a weight > 0, or remove the tower)",
                    ", ".join(f"{m}: {towers[m]}" for m in unused), " / ".join(unused),
                    "it is" if len(unused) == 1 else "they are")
    encoder_names = {"rgb": student} | {m: towers[m] for m in built if m != "rgb"}
    frozen = tuple(m for m in encoder_names if m not in grad_mods)
    return TermPlan(
        weights=weights,
        tasks=active,
        distill=active_d,
        encoder_names=encoder_names,
        feature_modalities=feature_modalities,
        taps={m: tuple(dict.fromkeys(v)) for m, v in taps.items()},
        batch_keys=tuple(dict.fromkeys(keys)),
        frozen=frozen,
        task_args={k: dict(v) for k, v in task_args.items() if k in weights},
    )


def _example(modality: str) -> list[str]:
    from evovideo.models import list_models

    return list_models(modality=modality) or ["<encoder>"]
