"""Optical flow of whole videos on a fixed frame grid, stored once on disk (one file per video).

A video's flow is computed at the grid times ``k * step`` (``step = stride / frame_rate``
seconds, the clip's own frame spacing), between the frame shown at each grid time and the frame
after it, on frames resized to short side ``resize``, before any crop.  Train and eval clips
start on the grid (``SampleBuilder.align``), so a clip's flow is the slice ``[k0, k0 + T)`` of
its video's entry: the key is (file identity, step, resize, flow settings), never the clip's
start time.  ``evovideo flow precompute`` fills the cache for a whole dataset up front; a video
that training meets first is computed whole and stored then.

Storage: ``<root>/<key[:2]>/<key>.npy``, int8 ``(N, 2, h, w)`` (grid point, dx/dy, pixels);
``value / 127 * bound`` is the flow in pixels at the resized frame size (``bound`` is part of the
key).  Read with ``mmap``: a clip reads only its own slice.  Kinetics-400 (10 s clips, stride 4
at 25 fps, short side 256): 63 grid points x 2 x 256 x 340 bytes = 11 MB per video.

The cache never fails a run: a folder that cannot be created or written (read-only, HOME
read-only, disk full) is named once in a warning and bypassed (flow is computed per clip); an
empty or torn file is named, recomputed and rewritten; a full cache (``max_bytes``) stores no
more and says so once.  Writes go to a temp file that is fsync'ed, given the usual permissions
(0666 minus the umask) and then renamed, so readers never see a partial file and several loader
workers (or precompute processes) can share one folder.  ``hits`` / ``misses`` live in shared
memory: the numbers read in the main process include every DataLoader worker.
"""
from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing as mp
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from evovideo.modalities.flow import FlowSettings

log = logging.getLogger(__name__)

QUANT = 127.0  # flow in [-1, 1] (already divided by the bound) <-> int8 steps


@dataclass(frozen=True)
class FlowGrid:
    """Where a video's flow is sampled: every ``step`` seconds, frames resized to short side ``resize``."""

    step: float
    resize: int

    def __post_init__(self) -> None:
        if self.step <= 0 or self.resize <= 0:
            raise ValueError(f"flow grid needs step > 0 and resize > 0, got step={self.step}, resize={self.resize}")

    def length(self, duration: float) -> int:
        """Grid points whose time lies inside a video of ``duration`` seconds (at least 1)."""
        return max(1, int(np.ceil(duration / self.step - 1e-6)))

    def index(self, t: float) -> int | None:
        """The grid index of time ``t``, or None when ``t`` is not on the grid."""
        k = int(round(t / self.step))
        return k if abs(k * self.step - t) < 1e-6 * max(1.0, self.step) + 1e-9 else None


def quantize(flow: torch.Tensor) -> np.ndarray:
    """Flow in [-1, 1] (any shape) -> int8 steps of 1/127."""
    return np.round(flow.numpy() * QUANT).astype(np.int8)


def dequantize(q: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.asarray(q, dtype=np.float32) / QUANT)


class FlowCache:
    """Whole-video flow entries under ``root`` (see the module docstring).

    Args:
        root: the cache folder (created on first write).
        max_bytes: stop storing new entries once the folder holds this many bytes (None: no limit).
            Each process (loader worker, precompute worker) scans the folder's size once, at its
            first store, and adds what it writes: with several writers the limit is approximate.
    """

    def __init__(self, root: str | Path, max_bytes: int | None = None) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        self._counts = mp.get_context().Array("q", 2, lock=True)  # hits, misses: shared with workers
        self._write_error: str | None = None
        self._used: int | None = None  # bytes in the folder (this process's view), scanned on first store
        self._warned_full = False

    # -- counters -------------------------------------------------------------------------------
    @property
    def hits(self) -> int:
        return int(self._counts[0])

    @property
    def misses(self) -> int:
        return int(self._counts[1])

    def _count(self, i: int) -> None:
        with self._counts.get_lock():
            self._counts[i] += 1

    def count_hit(self) -> None:
        self._count(0)

    def count_miss(self) -> None:
        self._count(1)

    # -- keys -----------------------------------------------------------------------------------
    @staticmethod
    def key(source: str, grid: FlowGrid, settings: FlowSettings) -> str:
        """File identity (absolute path, size, mtime) or the in-memory name, grid and settings."""
        ident: dict = {"source": source}
        path = Path(source)
        if path.is_file():
            st = path.stat()
            ident = {"source": str(path.resolve()), "bytes": st.st_size, "mtime_ns": st.st_mtime_ns}
        ident.update(step=round(float(grid.step), 6), resize=int(grid.resize), settings=settings.key_dict(), layout=2)
        return hashlib.sha1(json.dumps(ident, sort_keys=True, default=str).encode()).hexdigest()

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.npy"

    # -- read -----------------------------------------------------------------------------------
    def contains(self, key: str) -> bool:
        return self._open(key) is not None

    def _open(self, key: str) -> np.ndarray | None:
        p = self.path(key)
        try:
            arr = np.load(p, mmap_mode="r")
        except FileNotFoundError:
            return None
        except (OSError, ValueError, EOFError) as err:  # empty, torn or not an array: recompute
            log.warning("flow cache file %s is damaged (%s); recomputing it", p, err)
            return None
        if arr.dtype != np.int8 or arr.ndim != 4 or arr.shape[1] != 2:
            log.warning("flow cache file %s holds %s %s, not int8 (N, 2, h, w); recomputing it", p, arr.dtype, arr.shape)
            return None
        return arr

    def load(self, key: str, first: int, count: int) -> torch.Tensor | None:
        """Grid points ``[first, first + count)`` as ``(2, count, h, w)`` float32 in [-1, 1], or None
        (absent or damaged).  Points past the video's end are zero flow (the reader holds the last
        frame there).  Counts nothing: the caller counts hits and misses."""
        arr = self._open(key)
        if arr is None:
            return None
        return slice_entry(arr, first, count)

    # -- write ----------------------------------------------------------------------------------
    @property
    def writable(self) -> bool:
        """False once a write failed or the size limit was reached (then nothing more is stored)."""
        return self._write_error is None and not self._warned_full

    def store(self, key: str, flow: np.ndarray) -> bool:
        """Store int8 ``(N, 2, h, w)`` atomically and durably; False (and one warning) if it cannot."""
        if not self.writable:
            return False
        if self.max_bytes is not None:
            if self._used is None:
                self._used = folder_bytes(self.root)
            if self._used + flow.nbytes > self.max_bytes:
                self._warned_full = True
                log.warning("flow cache %s holds %.2f GB, at its limit of %.2f GB: storing no more flow "
                            "(raise the limit or point the cache at a bigger disk)", self.root, self._used / 1e9,
                            self.max_bytes / 1e9)
                return False
        p = self.path(key)
        tmp = None
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{key[:8]}", suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                np.save(fh, np.ascontiguousarray(flow, dtype=np.int8))
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, p)
        except OSError as err:
            self._write_error = str(err)
            log.warning("cannot write to the flow cache %s (%s): flow is computed per clip and not stored; "
                        "pass a writable flow_cache_dir (or None to turn the cache off)", self.root, err)
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
            return False
        if self._used is not None:
            self._used += p.stat().st_size
        return True


def slice_entry(arr: np.ndarray, first: int, count: int) -> torch.Tensor:
    """``(N, 2, h, w)`` int8 -> grid points ``[first, first + count)`` as ``(2, count, h, w)`` float32."""
    part = np.asarray(arr[first:first + count])
    if part.shape[0] < count:  # past the last frame: no motion
        pad = np.zeros((count - part.shape[0], *arr.shape[1:]), np.int8)
        part = np.concatenate([part, pad]) if part.size else pad
    return dequantize(part).permute(1, 0, 2, 3)


def folder_bytes(root: Path) -> int:
    total = 0
    for dirpath, _, names in os.walk(root):
        for name in names:
            try:
                total += os.stat(os.path.join(dirpath, name)).st_size
            except OSError:
                pass
    return total


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
