"""Keep the frameworks' chatter out of a run's output: one place for the filters, used by the CLI and
by every process it spawns (candidate workers start with Python's default filters)."""
from __future__ import annotations

import logging


def quiet_frameworks() -> None:
    """Keep the frameworks' chatter out of a run's output: a user should see their run."""
    import warnings

    for pattern in (
        r".*LightningCLI's args parameter is intended to run from within Python.*",
        r".*LeafSpec.*",
        r".*You defined a `validation_step` but have no `val_dataloader`.*",
        r".*val_dataloader.*but.*validation_step.*",
        r".*does not have many workers which may be a bottleneck.*",
        # a successive-halving survivor continues its rung checkpoint in the next rung's folder, by design
        r".*The dirpath has changed from.*",
    ):
        warnings.filterwarnings("ignore", message=pattern)
    for name in ("lightning.pytorch.utilities.rank_zero", "pytorch_lightning.utilities.rank_zero"):
        logging.getLogger(name).addFilter(_no_tips)  # its other lines (devices, DDP ranks) stay


def _no_tips(record: logging.LogRecord) -> bool:
    """Drop Lightning's advertising ("Tip: ... try installing litlogger / litmodels")."""
    return "Tip:" not in str(record.msg)
