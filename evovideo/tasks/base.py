"""The task interface, the TASKS registry and the names of loss terms in a recipe.

A *term* of the ELo loss is written ``"<modalities>/<task>"`` with a weight λ in [0, 1]:

    "rgb/reconstruction"              one modality          (arity "single")
    "rgb->flow/cross_modal_transfer"  from A, predict B     (arity "directed")
    "audio-rgb/temporal_alignment"    a pair of modalities  (arity "pair")

A task is an ``nn.Module`` that owns its heads/decoders.  Each step the module runs every
tower a term reads (``feature_modalities``) *once* and hands the task a :class:`TaskInputs` (the
batch, the features of each tower, the encoders for the extra forwards a task needs, e.g. on a
shuffled clip, and a generator seeded by the step so a resumed run draws the same shuffles).  A
tower a task only runs itself, on inputs of its own (``own_forward_modalities``), is built and
trained but not run by the step for it.  A user adds a task in their own
code::

    from evovideo.tasks import TASKS, Task

    @TASKS.register("my_task")
    class MyTask(Task):
        def forward(self, inputs):
            return inputs.features[self.modalities[0]].pooled.pow(2).mean()

and uses it in a recipe as ``"rgb/my_task": 0.5``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, ClassVar, Mapping, Sequence

import torch
from torch import nn

from evovideo.clip import BatchKeys
from evovideo.models.base import MODALITIES, Encoder
from evovideo.registry import Registry

TASKS: Registry = Registry("task")


class RecipeError(ValueError):
    """A recipe names an unknown task / modality / encoder / layer, or a weight outside [0, 1]."""

ARITIES = ("single", "directed", "pair")
VIDEO_MODALITIES = ("rgb", "flow", "gray")


@dataclass
class Features:
    """One tower's output for one step: last feature map, pooled vector, tapped layers."""

    fmap: torch.Tensor  # (B, D, t, h, w); audio (B, D, f, t)
    pooled: torch.Tensor  # (B, D)
    taps: dict[str, torch.Tensor] = field(default_factory=dict)


@dataclass
class TaskInputs:
    """Everything a task reads in one step."""

    batch: Mapping[str, torch.Tensor]
    features: Mapping[str, Features]
    encoders: Mapping[str, Encoder]
    generator: torch.Generator


class Task(nn.Module):
    """Base class of the self-supervised tasks.

    ``modalities`` are the term's modalities in order (``("rgb", "flow")`` for ``rgb->flow``).
    ``encoders`` are passed so heads can size themselves (``num_features``, ``input_config``);
    do not keep references to them (they are owned by the PretrainModule).
    """

    arity: ClassVar[str] = "single"

    def __init__(self, modalities: Sequence[str], encoders: Mapping[str, Encoder]) -> None:
        super().__init__()
        self.modalities = tuple(modalities)

    @classmethod
    def check_modalities(cls, modalities: Sequence[str]) -> None:
        """Raise ``ValueError`` if this task cannot run on ``modalities`` (called before building)."""

    @classmethod
    def feature_modalities(cls, modalities: Sequence[str]) -> tuple[str, ...]:
        """Towers whose features this task reads (they are built and run)."""
        return tuple(modalities)

    @classmethod
    def own_forward_modalities(cls, modalities: Sequence[str]) -> tuple[str, ...]:
        """Towers this task runs itself, on inputs of its own (built and trained for it, but the
        step does not run them on this task's behalf; e.g. temporal alignment's audio tower)."""
        return ()

    @classmethod
    def batch_keys(cls, modalities: Sequence[str]) -> tuple[str, ...]:
        """Batch keys this task reads (the data must produce them)."""
        return tuple(modalities)

    @classmethod
    def taps(cls, modalities: Sequence[str], args: Mapping[str, object]) -> dict[str, tuple[str, ...]]:
        """Intermediate layers this task reads (``Features.taps``), given its ``task_args``."""
        return {}

    def forward(self, inputs: TaskInputs) -> torch.Tensor:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass(frozen=True)
class TermSpec:
    """A parsed task term: ``"rgb->flow/cross_modal_transfer"`` -> task, modalities."""

    key: str
    task: str
    modalities: tuple[str, ...]


def parse_task_term(key: str, field_name: str = "tasks") -> TermSpec:
    """Parse and validate a task term name; errors name the field and the valid choices."""
    where = f"{field_name}['{key}']"
    if key.count("/") != 1:
        raise RecipeError(
            f"{where}: a task term is '<modalities>/<task>', e.g. 'rgb/reconstruction', "
            f"'rgb->flow/cross_modal_transfer', 'audio-rgb/temporal_alignment'; known tasks: {', '.join(TASKS)}"
        )
    mods, task = key.split("/")
    if task not in TASKS:
        raise RecipeError(f"{where}: {TASKS._unknown_message(task)}")
    cls = TASKS.get(task)
    arity = getattr(cls, "arity", "single")
    if "->" in mods:
        modalities, written = tuple(mods.split("->")), "directed"
    elif "-" in mods:
        modalities, written = tuple(mods.split("-")), "pair"
    else:
        modalities, written = (mods,), "single"
    examples = {"single": "rgb", "directed": "rgb->flow", "pair": "audio-rgb"}
    if written != arity or len(modalities) != (1 if arity == "single" else 2):
        raise RecipeError(
            f"{where}: task '{task}' takes {arity} modalities, written like "
            f"'{examples[arity]}/{task}', not '{mods}'"
        )
    for m in modalities:
        if m not in MODALITIES:
            raise RecipeError(f"{where}: unknown modality '{m}'; known: {', '.join(MODALITIES)}")
    if len(set(modalities)) != len(modalities):
        raise RecipeError(f"{where}: the two modalities must differ, got '{mods}'")
    check = getattr(cls, "check_modalities", None)
    if check is not None:
        try:
            check(modalities)
        except ValueError as err:
            raise RecipeError(f"{where}: {err}") from None
    return TermSpec(key=key, task=task, modalities=modalities)


def time_dim(modality: str) -> int:
    """The time axis of a batch tensor: video (B, C, T, H, W) -> 2, audio (B, 1, F, T) -> 3."""
    return 3 if modality == "audio" else 2


def check_weight(field_name: str, key: str, weight: float) -> float:
    weight = float(weight)
    if not 0.0 <= weight <= 1.0:
        raise RecipeError(f"{field_name}['{key}'] = {weight}: every weight λ must be in [0, 1] (0 removes the term)")
    return weight


def audio_mask(batch: Mapping[str, torch.Tensor], modalities: Sequence[str], n: int) -> torch.Tensor | None:
    """``(B,)`` bool of clips with an audio track when a term uses audio, else None (all kept)."""
    if "audio" not in modalities or BatchKeys.HAS_AUDIO not in batch:
        return None
    mask = torch.as_tensor(batch[BatchKeys.HAS_AUDIO], dtype=torch.bool).reshape(n)
    return None if mask.all() else mask


def masked_loss(loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], pred: torch.Tensor,
                target: torch.Tensor, keep: torch.Tensor | None, pairs: bool = False) -> torch.Tensor:
    """``loss(pred[keep], target[keep])``; ``pairs``: pred holds positives then negatives (2B rows),
    each kept with its clip.  No row kept: exactly 0 with the graph kept (the module counts such
    terms and warns when a whole step is masked)."""
    if keep is None:
        return loss(pred, target)
    if pairs:
        keep = torch.cat([keep, keep])
    keep = keep.to(pred.device)
    if not keep.any():
        return pred.sum() * 0.0
    return loss(pred[keep], target[keep])
