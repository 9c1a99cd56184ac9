"""One small generic registry, used by every plug-in kind.

Each plug-in kind (encoders, self-supervised tasks, datasets, fitness functions, ...) owns one
``Registry``.  Plug-ins register with a decorator, are created by name, listed with a glob
pattern, and an unknown name raises an error that lists the known ones::

    TASKS = Registry("task")

    @TASKS.register("arrow_of_time")
    class ArrowOfTime(Task): ...

    TASKS.create("arrow_of_time", hidden=128)
    TASKS.list("*time*")   # ['arrow_of_time']

A user registers their own plug-in the same way, in their own code, without editing evovideo.
"""
from __future__ import annotations

import difflib
import fnmatch
from typing import Any, Callable, Generic, Iterator, TypeVar

T = TypeVar("T", bound=Callable[..., Any])


class UnknownNameError(KeyError):
    """Raised for a name that is not registered; the message lists the known names."""

    def __str__(self) -> str:  # KeyError quotes its message; show it plainly
        return str(self.args[0]) if self.args else ""


class Registry(Generic[T]):
    """A name -> factory mapping for one plug-in kind, with optional metadata per name."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}
        self._meta: dict[str, dict[str, Any]] = {}

    def register(self, name: str | None = None, **meta: Any) -> Callable[[T], T]:
        """Decorator: register ``fn`` under ``name`` (default: ``fn.__name__``).

        Keyword arguments are stored as metadata (e.g. the input a model expects) and are
        returned by :meth:`meta`.  Registering a name twice is an error.
        """

        def decorator(fn: T) -> T:
            key = name or getattr(fn, "__name__", None)
            if not key:
                raise ValueError(f"cannot infer a {self.kind} name for {fn!r}; pass name=")
            if key in self._entries:
                raise ValueError(
                    f"{self.kind} '{key}' is already registered (by {self._entries[key]!r}); "
                    "choose another name"
                )
            self._entries[key] = fn
            self._meta[key] = dict(meta)
            return fn

        return decorator

    def get(self, name: str) -> T:
        """The factory registered under ``name``; unknown names list the known ones."""
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownNameError(self._unknown_message(name)) from None

    def create(self, name: str, **kwargs: Any) -> Any:
        """Call the factory registered under ``name`` with ``kwargs``."""
        return self.get(name)(**kwargs)

    def meta(self, name: str) -> dict[str, Any]:
        self.get(name)  # raise the helpful error for an unknown name
        return self._meta[name]

    def list(self, pattern: str = "*") -> list[str]:
        """Sorted registered names matching a shell-style ``pattern`` (``"r2plus1d*"``)."""
        return sorted(n for n in self._entries if fnmatch.fnmatchcase(n, pattern))

    def _unknown_message(self, name: str) -> str:
        known = ", ".join(sorted(self._entries)) or "(none registered)"
        close = difflib.get_close_matches(name, self._entries, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return f"unknown {self.kind} '{name}'{hint}; known: {known}"

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {len(self)} entries)"
