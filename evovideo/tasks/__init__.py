"""Self-supervised tasks of ELo as plug-ins, their pure losses, and distillation terms.

``TASKS`` is the one task registry.  Importing this package registers the seven ELo tasks:
reconstruction, future_prediction, cross_modal_transfer, temporal_order, arrow_of_time,
cross_modal_embedding, temporal_alignment.  See :mod:`evovideo.tasks.base` for the interface
and the term names used in recipes.
"""
from evovideo.tasks.base import (
    TASKS,
    Features,
    RecipeError,
    Task,
    TaskInputs,
    TermSpec,
    check_weight,
    parse_task_term,
    time_dim,
)
from evovideo.tasks.distill import Distiller, DistillSpec, parse_distill_term
from evovideo.tasks.gather import ddp_mean_gradient, gather_with_grad

# Importing a task module registers its tasks.
from evovideo.tasks import contrastive, generative, temporal  # noqa: E402,F401  isort: skip

__all__ = [
    "TASKS",
    "DistillSpec",
    "Distiller",
    "Features",
    "RecipeError",
    "Task",
    "TaskInputs",
    "TermSpec",
    "check_weight",
    "ddp_mean_gradient",
    "gather_with_grad",
    "parse_distill_term",
    "parse_task_term",
    "time_dim",
]
