"""A DataModule's recipe values, checked before anything is read: one ``RecipeError`` line each."""
from __future__ import annotations

from typing import Any

from evovideo.tasks import RecipeError

FROM_ENCODER = ("num_frames", "stride", "frame_rate", "size", "resize", "mean", "std")  # None: the encoder's (use_clip_config)


def same_value(a: Any, b: Any) -> bool:
    if isinstance(a, tuple) or isinstance(b, tuple):
        return len(a) == len(b) and all(abs(float(x) - float(y)) < 1e-6 for x, y in zip(a, b))
    return a == b


def check_values(**values: Any) -> None:
    """Each clip / loader setting in its range, before anything is read: one RecipeError line naming
    ``data.init_args.<field>``, its value and what is allowed."""
    from evovideo.data.pipeline import MODALITIES
    from evovideo.modalities.flow import FLOW_METHODS

    def bad(name: str, rule: str) -> RecipeError:
        return RecipeError(f"data.init_args.{name} = {values[name]!r}: must be {rule}")

    def is_int(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)

    mods = values["modalities"]
    if mods is not None and (not mods or any(m not in MODALITIES for m in mods)):
        raise bad("modalities", f"a non-empty list of {', '.join(MODALITIES)}")
    for name, low in (("num_frames", 1), ("stride", 1), ("size", 1), ("batch_size", 1), ("num_workers", 0),
                      ("future_frames", 0), ("sample_rate", 1), ("n_mels", 1), ("val_clips", 1),
                      ("test_clips", 1), ("test_crops", 1)):
        if values[name] is None and name in FROM_ENCODER:
            continue
        if not is_int(values[name]) or values[name] < low:
            raise bad(name, f"an integer >= {low}")
    size = values["size"] or 1
    if values["resize"] is not None and (not is_int(values["resize"]) or values["resize"] < size):
        raise bad("resize", f"null or an integer >= size ({values['size']})")
    for name in ("frame_rate", "flow_bound"):
        if name == "frame_rate" and values[name] is None:
            continue
        if not isinstance(values[name], (int, float)) or not values[name] > 0:
            raise bad(name, "a number > 0")
    if not isinstance(values["audio_shift"], (int, float)) or values["audio_shift"] < 0:
        raise bad("audio_shift", "a number >= 0 (seconds)")
    if values["flow_method"] not in FLOW_METHODS:
        raise bad("flow_method", f"one of {', '.join(FLOW_METHODS)}")
    for name in ("mean", "std"):
        v = values[name]
        if v is None:
            continue
        if (not isinstance(v, (list, tuple)) or len(v) != 3 or not all(isinstance(x, (int, float)) for x in v)
                or (name == "std" and min(v) <= 0)):
            raise bad(name, "3 numbers (R, G, B)" + (", each > 0" if name == "std" else ""))


def check_synthetic(**values: int) -> None:
    """The synthetic set's rendering arguments (``SyntheticDataModule``), each an integer in range."""
    from evovideo.data.synthetic import MOTIONS

    limits = {"num_videos_per_class": (1, None), "num_classes": (1, len(MOTIONS)), "video_frames": (1, None),
              "video_size": (8, None), "fps": (1, None)}
    for name, value in values.items():
        low, high = limits[name]
        if not isinstance(value, int) or isinstance(value, bool) or value < low or (high and value > high):
            rule = f"an integer in [{low}, {high}]" if high else f"an integer >= {low}"
            raise RecipeError(f"data.init_args.{name} = {value!r}: must be {rule}")
