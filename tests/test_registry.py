"""The generic plug-in registry (used by models, tasks, datasets, fitness functions)."""
from __future__ import annotations

import pytest

from evovideo.registry import Registry, UnknownNameError


@pytest.fixture
def tasks() -> Registry:
    reg = Registry("task")

    @reg.register("arrow_of_time", needs=("rgb",))
    def arrow_of_time(hidden: int = 8) -> tuple[str, int]:
        return ("arrow", hidden)

    @reg.register()
    def temporal_order(hidden: int = 4) -> tuple[str, int]:
        return ("order", hidden)

    @reg.register("reconstruction")
    class Reconstruction:
        def __init__(self, weight: float = 1.0) -> None:
            self.weight = weight

    return reg


def test_register_create_and_meta(tasks: Registry):
    assert tasks.create("arrow_of_time", hidden=32) == ("arrow", 32)
    assert tasks.create("temporal_order") == ("order", 4)  # name inferred from the function
    assert tasks.create("reconstruction", weight=0.5).weight == 0.5
    assert tasks.meta("arrow_of_time") == {"needs": ("rgb",)}
    assert tasks.meta("temporal_order") == {}
    assert "arrow_of_time" in tasks and "nope" not in tasks
    assert len(tasks) == 3 and list(tasks) == ["arrow_of_time", "reconstruction", "temporal_order"]


def test_list_with_pattern(tasks: Registry):
    assert tasks.list() == ["arrow_of_time", "reconstruction", "temporal_order"]
    assert tasks.list("*time*") == ["arrow_of_time"]
    assert tasks.list("temporal_*") == ["temporal_order"]
    assert tasks.list("zzz*") == []


def test_duplicate_is_refused(tasks: Registry):
    with pytest.raises(ValueError, match="task 'arrow_of_time' is already registered"):
        tasks.register("arrow_of_time")(lambda: None)
    assert tasks.create("arrow_of_time") == ("arrow", 8)  # the first registration still wins


def test_unknown_name_lists_known_names_and_suggests(tasks: Registry):
    with pytest.raises(UnknownNameError) as info:
        tasks.create("arow_of_time")
    message = str(info.value)
    assert "unknown task 'arow_of_time'" in message
    assert "did you mean 'arrow_of_time'" in message
    assert "arrow_of_time, reconstruction, temporal_order" in message
    assert isinstance(info.value, KeyError)  # callers may catch KeyError
    with pytest.raises(UnknownNameError, match="known: arrow_of_time"):
        tasks.meta("xyz")
    with pytest.raises(UnknownNameError) as info:
        tasks.get("qqqqqq")
    assert "did you mean" not in str(info.value)


def test_empty_registry_says_so():
    with pytest.raises(UnknownNameError, match=r"\(none registered\)"):
        Registry("fitness").get("zipf")


def test_unnamed_object_needs_a_name():
    reg = Registry("dataset")

    class NoName:
        __name__ = ""

        def __call__(self) -> None: ...

    with pytest.raises(ValueError, match="pass name="):
        reg.register()(NoName())


def test_model_registry_uses_the_same_errors():
    from evovideo.factory import create_model

    with pytest.raises(UnknownNameError, match="did you mean 'r2plus1d_18'.*known: .*x3d_s"):
        create_model("r2plus1d_81")
