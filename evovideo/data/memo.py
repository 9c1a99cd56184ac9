"""A process-wide memo of built samples, for runs that read the same samples again.

An evolution trains every candidate with the same seed (common random numbers), so candidate 2
asks for exactly the samples candidate 1 built: the same clip starts, crops and flow.  A sample
is a pure function of the data settings and its ``SampleKey`` (index, epoch, seed), so it can be
built once and handed out again::

    memo = SampleMemo.shared(settings_json, max_mb=1024)     # one per data settings, per process
    sample = memo.get_or_build(key, lambda: build(key))

Samples are kept until ``max_mb`` is reached; later ones are built every time (no eviction: the
first steps of a run are the ones every candidate shares).  The memo lives in the process that
builds the samples, so it helps with ``num_workers=0`` (loader workers would each keep their own
copy and lose it at the end of the epoch).  Tensors handed out are the stored ones: the collate
function stacks them into new batch tensors, nothing writes into a sample in place.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Hashable

import torch

log = logging.getLogger(__name__)


class SampleMemo:
    _shared: dict[str, "SampleMemo"] = {}

    def __init__(self, max_mb: float) -> None:
        if max_mb <= 0:
            raise ValueError(f"memo size must be > 0 MB, got {max_mb}")
        self.max_bytes = int(max_mb * 2**20)
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self._items: dict[Hashable, dict[str, Any]] = {}
        self._full_logged = False

    @classmethod
    def shared(cls, settings: str, max_mb: float) -> "SampleMemo":
        """The memo of these data ``settings`` in this process (created at the first call)."""
        if settings not in cls._shared:
            cls._shared[settings] = cls(max_mb)
        return cls._shared[settings]

    @classmethod
    def clear(cls) -> None:
        cls._shared.clear()

    def get_or_build(self, key: Hashable, build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        if key in self._items:
            self.hits += 1
            return self._items[key]
        self.misses += 1
        sample = build()
        size = sum(v.numel() * v.element_size() for v in sample.values() if isinstance(v, torch.Tensor))
        if self.bytes + size <= self.max_bytes:
            self._items[key] = sample
            self.bytes += size
        elif not self._full_logged:
            self._full_logged = True
            log.info("sample memo full (%.0f MB, %d samples): later samples are built every time",
                     self.bytes / 2**20, len(self._items))
        return sample

    def __len__(self) -> int:
        return len(self._items)
