"""Atomic, durable file writes with ordinary permissions.

    atomic_write(path, lambda f: f.write(data))      # f: a binary file object

The content goes to a temporary file beside ``path``, is flushed and fsynced, then
``os.replace``d over ``path``, and the folder is fsynced: a kill or power loss at any instant
leaves the old file or the new one, never a torn one.  ``tempfile.mkstemp`` creates mode 0600;
the file is given the mode ``open()`` would have given it (0666 minus the umask) so a shared
cache or results folder stays readable by the people it is shared with.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable


def default_mode() -> int:
    """0666 minus the process umask: the mode ``open(path, "w")`` creates files with."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], object]) -> Path:
    """Write ``path`` atomically and durably through ``write(f)``; returns the path."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, default_mode())
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return path


def fsync_dir(folder: str | os.PathLike) -> None:
    """Make a rename in ``folder`` durable (a no-op where folders cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
