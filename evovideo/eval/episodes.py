"""N-way K-shot episodes drawn from class-labelled features, and meta-test class splits.

An episode picks ``way`` classes and, for each, ``shot`` support and ``query`` query samples with
no sample in both.  All episodes of one call are returned as stacked index tensors so that the
classifiers can process them in one batch::

    eps = sample_episodes(labels, way=5, shot=1, query=15, episodes=1000, seed=0)
    eps.support   # (E, way, shot)  indices into ``labels`` / the feature matrix
    eps.query     # (E, way, query)
    eps.classes   # (E, way)        original class ids; position n in an episode is label n

With ``groups`` (one source-video id per sample, see ``evovideo.data.groups``) no query of an
episode shares a group with a support sample of its class: UCF101 clips cut from one video
(same ``gXX``) are never support and query of one episode.

The same ``labels``, arguments and ``seed`` give the same episodes (a private
``torch.Generator``; the global RNG is neither used nor changed).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import torch

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Episodes:
    """A batch of ``E`` episodes as index tensors (see the module docstring for shapes)."""

    support: torch.Tensor  # (E, way, shot) int64
    query: torch.Tensor  # (E, way, query) int64
    classes: torch.Tensor  # (E, way) int64

    @property
    def num_episodes(self) -> int:
        return int(self.support.shape[0])

    @property
    def way(self) -> int:
        return int(self.support.shape[1])

    @property
    def shot(self) -> int:
        return int(self.support.shape[2])

    @property
    def num_query(self) -> int:
        return int(self.query.shape[2])

    def support_labels(self) -> torch.Tensor:
        # (E, way * shot): episode-local labels 0..way-1, class-major like support.flatten(1)
        return torch.arange(self.way).repeat_interleave(self.shot).expand(self.num_episodes, -1)

    def query_labels(self) -> torch.Tensor:
        # (E, way * query), class-major like query.flatten(1)
        return torch.arange(self.way).repeat_interleave(self.num_query).expand(self.num_episodes, -1)


def sample_episodes(
    labels: torch.Tensor | Sequence[int],
    *,
    way: int,
    shot: int,
    query: int,
    episodes: int,
    seed: int = 0,
    classes: Sequence[int] | None = None,
    groups: Sequence[str] | None = None,
) -> Episodes:
    """Sample ``episodes`` N-way K-shot episodes from samples labelled ``labels``.

    Only classes in ``classes`` (default: every label present, negatives excluded) with at least
    ``shot + query`` samples are eligible; the others are skipped with one log line.  Each class
    of an episode gets exactly ``shot`` support and ``query`` query samples (balanced), drawn
    without replacement so a query is never in the support.  With ``groups`` (one id per sample)
    the support is drawn first and the queries only from the class's other groups; a class needs
    at least two groups to be eligible.
    """
    if way < 1 or shot < 1 or query < 1 or episodes < 1:
        raise ValueError(
            f"way, shot, query and episodes must all be >= 1 (got way={way}, shot={shot}, "
            f"query={query}, episodes={episodes})"
        )
    labels = torch.as_tensor(labels, dtype=torch.long)
    pool = sorted({int(c) for c in (labels[labels >= 0].unique().tolist() if classes is None else classes)})
    per_class = {c: torch.nonzero(labels == c).flatten() for c in pool}
    need = shot + query
    group_ids = _group_ids(groups, len(labels))
    eligible = [c for c in pool if per_class[c].numel() >= need
                and (group_ids is None or group_ids[per_class[c]].unique().numel() >= 2)]
    if len(eligible) < len(pool):
        short = [c for c in pool if c not in eligible]
        log.info("skipping %d class(es) with fewer than shot+query=%d samples%s: %s", len(short), need,
                 " or a single source-video group" if group_ids is not None else "", short)
    if len(eligible) < way:
        raise ValueError(
            f"{way}-way {shot}-shot episodes with {query} queries per class need {way} classes with at "
            f"least {need} samples each; only {len(eligible)} of {len(pool)} classes have that many. "
            "Lower --way, --shot or --query, or use more videos per class."
        )
    gen = torch.Generator().manual_seed(seed)
    eligible_t = torch.tensor(eligible)
    support = torch.empty(episodes, way, shot, dtype=torch.long)
    query_idx = torch.empty(episodes, way, query, dtype=torch.long)
    chosen = torch.empty(episodes, way, dtype=torch.long)
    for e in range(episodes):
        picked = eligible_t[torch.randperm(len(eligible), generator=gen)[:way]]
        chosen[e] = picked
        for n, c in enumerate(picked.tolist()):
            members = per_class[c]
            if group_ids is None:
                order = members[torch.randperm(members.numel(), generator=gen)[:need]]
                support[e, n], query_idx[e, n] = order[:shot], order[shot:]
            else:
                support[e, n], query_idx[e, n] = _group_disjoint_draw(members, group_ids, shot, query, gen, c)
    return Episodes(support=support, query=query_idx, classes=chosen)


def _group_ids(groups: Sequence[str] | None, n: int) -> torch.Tensor | None:
    if groups is None:
        return None
    if len(groups) != n:
        raise ValueError(f"groups has {len(groups)} entries but labels has {n}; give one group id per sample")
    index: dict[str, int] = {}
    return torch.tensor([index.setdefault(g, len(index)) for g in groups], dtype=torch.long)


def _group_disjoint_draw(members: torch.Tensor, group_ids: torch.Tensor, shot: int, query: int,
                         gen: torch.Generator, cls: int, tries: int = 100) -> tuple[torch.Tensor, torch.Tensor]:
    """``shot`` support samples drawn uniformly, then ``query`` queries from the other groups only."""
    for _ in range(tries):
        order = members[torch.randperm(members.numel(), generator=gen)]
        sup = order[:shot]
        rest = order[shot:]
        rest = rest[~torch.isin(group_ids[rest], group_ids[sup])]
        if rest.numel() >= query:
            return sup, rest[:query]
    raise ValueError(f"class {cls}: {tries} draws of {shot} support clip(s) left fewer than {query} queries from "
                     "other source-video groups; lower --shot or --query")


def read_class_split(path: str | Path, class_names: Sequence[str]) -> list[str]:
    """Class names listed in ``path`` (one per line; blank lines and ``#`` comments ignored).

    Every listed name must be one of ``class_names`` (matching is exact, then case-insensitive).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"class split file '{path}' does not exist; pass a text file with one class per line")
    lookup = {n.lower(): n for n in class_names}
    wanted: list[str] = []
    unknown: list[str] = []
    for raw in path.read_text().splitlines():
        name = raw.split("#", 1)[0].strip()
        if not name:
            continue
        match = name if name in class_names else lookup.get(name.lower())
        (wanted if match else unknown).append(match or name)
    if unknown:
        raise ValueError(
            f"class split file '{path}' names {len(unknown)} class(es) not in the dataset: {unknown[:5]}; "
            f"known classes: {', '.join(sorted(class_names)[:20])}{' ...' if len(class_names) > 20 else ''}"
        )
    if not wanted:
        raise ValueError(f"class split file '{path}' lists no classes; write one class name per line")
    return list(dict.fromkeys(wanted))


def random_class_split(class_names: Sequence[str], num_classes: int, seed: int = 0) -> list[str]:
    """A seeded random choice of ``num_classes`` meta-test classes (sorted for readability)."""
    names = sorted(class_names)
    if not 1 <= num_classes <= len(names):
        raise ValueError(f"cannot choose {num_classes} test classes from {len(names)}; pick 1..{len(names)}")
    gen = torch.Generator().manual_seed(seed)
    picked = torch.randperm(len(names), generator=gen)[:num_classes].tolist()
    return sorted(names[i] for i in picked)
