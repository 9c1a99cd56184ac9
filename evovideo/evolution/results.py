"""The results file: every finished candidate, written the moment it finishes, atomically.

JSON Lines.  Line 1 is a header (``{"kind": "header", ...}``: the search settings, so a rerun with
different settings is refused instead of mixing two searches); each further line is one finished
candidate (``{"kind": "candidate", "id", "generation", "lambdas", "score", "metrics", "budget",
"seed", "time_s", "finished_at", ...}``).

Each append writes the whole file to a temporary file beside it, fsyncs it and ``os.replace``s it
over the old one (then fsyncs the folder): a kill at any instant leaves either the old or the new
file, never a torn line.  Only the driver process writes; runners hand results back to it.  The
file stays small (one line per candidate), so rewriting it costs nothing next to training.
"""
from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class ResultsFile:
    def __init__(self, path: str | os.PathLike, header: dict[str, Any]) -> None:
        """Open (or create) ``path``; an existing file must have been written with the same ``header``."""
        self.path = Path(path)
        self.header = json.loads(json.dumps({"kind": "header", **header}, sort_keys=True))
        self._lines: list[str] = []
        self.records: list[dict[str, Any]] = []
        if self.path.exists():
            self._load()
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lines = [json.dumps(self.header, sort_keys=True)]
            self._write()

    def _load(self) -> None:
        lines = [ln for ln in self.path.read_text().splitlines() if ln.strip()]
        if not lines:
            raise ValueError(f"results file {self.path} is empty; delete it to start a new search")
        try:
            rows = [json.loads(ln) for ln in lines]
        except json.JSONDecodeError as err:
            raise ValueError(f"results file {self.path} is not valid JSON Lines ({err}); it was not written by evovideo") from None
        old = rows[0]
        if old.get("kind") != "header" or old != self.header:
            diff = sorted(k for k in set(old) | set(self.header) if old.get(k) != self.header.get(k))
            raise ValueError(
                f"results file {self.path} belongs to a search with different settings ({', '.join(diff)}); "
                "use another --out folder, or restore the settings to continue it"
            )
        self._lines = lines
        self.records = rows[1:]
        log.info("resuming: %d finished candidates in %s", len(self.records), self.path)

    def append(self, record: dict[str, Any]) -> None:
        record = {"kind": "candidate", **record}
        self._lines.append(json.dumps(record, sort_keys=True))
        self.records.append(json.loads(self._lines[-1]))
        self._write()

    def _write(self) -> None:
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w") as f:
                f.write("\n".join(self._lines) + "\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
