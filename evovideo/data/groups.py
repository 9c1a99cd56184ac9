"""Which clips come from the same source video, and a validation fold carved from a training list by it.

UCF101 cuts each source video into several clips of one group: ``v_<Class>_g08_c03`` is clip 3 of
group 8 (25 groups per class; the official splits hold out whole groups).  HMDB51 names a clip
``<source title>_<class>_<body>_<camera>_np<N>_<view>_<quality>_<k>``: clips of one source title
(often a film, used in several classes) share a scene.  Two clips of one group must never sit on
both sides of a train/validation split, nor be the support and the query of one few-shot episode.

    video_group("UCF-101/ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi")        # "g08"
    video_group("brush_hair/April_09_brush_hair_u_nm_np1_ba_goo_0.avi", "brush_hair")  # "April_09"
    train, val = carve_validation(records, fraction=0.15, seed=0)          # group-disjoint
"""
from __future__ import annotations

import logging
import random
import re
from collections import Counter
from pathlib import Path
from typing import Sequence

from evovideo.data.splits import VideoRecord

log = logging.getLogger(__name__)

UCF101_NAME = re.compile(r"^v_.+_(g\d+)_c\d+$")
HMDB51_TAGS = r"_[a-z]+_[a-z]+_np\d+_[a-z]+_[a-z]+_\d+$"  # body, camera motion, people, view, quality, clip


def video_group(path: str, class_name: str = "") -> str | None:
    """The source-video group of one clip from its file name, or None when the name does not say.

    UCF101 names give ``gXX`` (the group number, as the official splits use it); HMDB51 names give
    the source title (the part before ``_<class_name>_`` and the annotation tags)."""
    stem = Path(path).stem
    m = UCF101_NAME.match(stem)
    if m:
        return m.group(1)
    if class_name:
        m = re.match(rf"^(?P<src>.+)_{re.escape(class_name)}{HMDB51_TAGS}", stem)
        if m:
            return m.group("src")
    return None


def video_groups(names: Sequence[str], class_names: Sequence[str] | None = None) -> list[str]:
    """One group id per clip: :func:`video_group`, else the clip itself (a group of one; logged)."""
    class_names = class_names or [Path(n).parent.name for n in names]
    groups, alone = [], 0
    for name, cls in zip(names, class_names):
        group = video_group(name, cls)
        if group is None:
            alone += 1
            group = f"clip:{name}"
        groups.append(group)
    if alone:
        log.info("%d of %d clip names name no source video (UCF101 gXX / HMDB51 title); each is its own group",
                 alone, len(names))
    return groups


def holdout_mask(groups: Sequence[str], fraction: float, seed: int = 0) -> list[bool]:
    """True for the samples of a seeded choice of whole groups holding about ``fraction`` of them."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {fraction}; 0 means no validation fold")
    order = sorted(set(groups))
    if len(order) < 2:
        raise ValueError(f"cannot hold out validation clips: all {len(groups)} training clips come from one "
                         "source-video group; pass val_fraction=0 (no validation: the last epoch is tested)")
    random.Random(seed).shuffle(order)
    counts, held, size = Counter(groups), set(), 0
    for g in order[:-1]:  # always leave one group to train on
        if size >= fraction * len(groups):
            break
        held.add(g)
        size += counts[g]
    return [g in held for g in groups]


def carve_validation(records: Sequence[VideoRecord], fraction: float, seed: int = 0
                     ) -> tuple[list[VideoRecord], list[VideoRecord]]:
    """Split a training list into (train, val) by :func:`holdout_mask` over source-video groups, so
    no group is on both sides.  The test list is never read."""
    groups = video_groups([r.path for r in records], [r.class_name for r in records])
    mask = holdout_mask(groups, fraction, seed)
    train = [r for r, m in zip(records, mask) if not m]
    val = [r for r, m in zip(records, mask) if m]
    log.info("validation: %d of %d training clips (%d of %d source groups, seed %d)", len(val), len(records),
             len({g for g, m in zip(groups, mask) if m}), len(set(groups)), seed)
    return train, val
