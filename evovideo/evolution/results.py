"""The results file: every finished candidate, written the moment it finishes, atomically.

JSON Lines.  Line 1 is a header (``{"kind": "header", ...}``: the search settings, so a rerun with
different settings is refused instead of mixing two searches); each further line is one finished
candidate (``{"kind": "candidate", "id", "generation", "lambdas", "score", "metrics", "budget",
"seed", "time_s", "finished_at", ...}``).

Each append writes the whole file to a temporary file beside it, fsyncs it and ``os.replace``s it
over the old one (then fsyncs the folder): a kill at any instant leaves either the old or the new
file, never a torn line.  A torn last line can still come from elsewhere (a copy cut short, a
filesystem without atomic rename, a hand edit): it is set aside in ``results.jsonl.torn-line<N>-<time>``
with a warning naming the line, and the finished candidates before it are kept.  Only the driver process writes; runners hand results back to it.  The
file stays small (one line per candidate), so rewriting it costs nothing next to training.
"""
from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from evovideo.atomic import atomic_write

log = logging.getLogger(__name__)

RECORD_KEYS = ("id", "lambdas", "score")


class ResultsFile:
    def __init__(self, path: str | os.PathLike, header: dict[str, Any]) -> None:
        """Open (or create) ``path``; an existing file must have been written with the same ``header``
        (unless it holds no finished candidate yet: then it is simply started again)."""
        self.path = Path(path)
        self.header = json.loads(json.dumps({"kind": "header", **header}, sort_keys=True))
        self._lines: list[str] = []
        self.records: list[dict[str, Any]] = []
        self._torn = False
        rows = self._load() if self.path.exists() else []
        if not rows or (rows[0] != self.header and len(rows) == 1):
            if rows:
                log.info("results file %s holds no finished candidate; starting it again with the new settings",
                         self.path)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lines = [json.dumps(self.header, sort_keys=True)]
            self._write()
            return
        old = rows[0]
        if old != self.header:
            diff = sorted(k for k in set(old) | set(self.header) if old.get(k) != self.header.get(k))
            raise ValueError(
                f"results file {self.path} belongs to a search with different settings ({', '.join(diff)}); "
                "use another --out folder, or restore the settings to continue it"
            )
        self._lines = [json.dumps(r, sort_keys=True) for r in rows]
        self.records = rows[1:]
        if self._torn:
            self._write()  # the file without the torn line: one warning, not one per rerun
        log.info("resuming: %d finished candidates in %s", len(self.records), self.path)

    def _load(self) -> list[dict[str, Any]]:
        """The header and finished records; a torn last line (a write cut short) is set aside."""
        lines = self.path.read_bytes().decode("utf-8", errors="replace").split("\n")
        numbered = [(n, ln) for n, ln in enumerate(lines, 1) if ln.strip()]
        rows: list[dict[str, Any]] = []
        for i, (n, ln) in enumerate(numbered):
            try:
                row = json.loads(ln)
            except json.JSONDecodeError as err:
                if i == len(numbered) - 1:
                    self._set_aside(n, ln, len(rows))
                    break
                raise ValueError(f"results file {self.path}, line {n}: not valid JSON ({err.msg}, column {err.colno}); "
                                 "only the last line can be torn by a crash: fix or delete that line, "
                                 "or use another --out folder") from None
            kind = "header" if i == 0 else "candidate"
            if not isinstance(row, dict) or row.get("kind") != kind or (i and any(k not in row for k in RECORD_KEYS)):
                raise ValueError(f"results file {self.path}, line {n}: not a {kind} line of an evovideo results file "
                                 f"(a {kind} line has kind '{kind}'" + (f" and {', '.join(RECORD_KEYS)})" if i else ")")
                                 + "; use another --out folder")
            rows.append(row)
        return rows

    def _set_aside(self, line_no: int, text: str, kept: int) -> None:
        aside = self.path.with_name(f"{self.path.name}.torn-line{line_no}-{time.strftime('%Y%m%dT%H%M%S')}")
        aside.write_text(text + "\n")
        self._torn = True
        log.warning("results file %s: line %d is torn (a write cut short by a crash); set aside in %s. "
                    "The %d finished candidate(s) before it are kept; that candidate runs again.",
                    self.path, line_no, aside, max(kept - 1, 0))

    def append(self, record: dict[str, Any]) -> None:
        record = {"kind": "candidate", **record}
        self._lines.append(json.dumps(record, sort_keys=True))
        self.records.append(json.loads(self._lines[-1]))
        self._write()

    def _write(self) -> None:
        data = ("\n".join(self._lines) + "\n").encode()
        atomic_write(self.path, lambda f: f.write(data))


def read_results(path: str | os.PathLike) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(header, candidate records) of a results file, read only (for reports and benchmarks)."""
    rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    if not rows:
        raise ValueError(f"{path} is empty: not the results.jsonl of an evolution")
    return rows[0], rows[1:]
