"""A label-free fitness that asks whether the student's clusters are the clips' *motion* clusters.

    agreement = ARI( k-means(student features), k-means(HOF of the same clips' optical flow) )
    score     = -agreement                                        lower is better

The student sees RGB only.  The reference is a fixed, training-free descriptor of the other modality
of the same unlabelled clips: a histogram of optical-flow orientations weighted by magnitude
(HOF; Laptev et al. 2008) in 2 x 2 spatial cells and 2 temporal halves (:class:`FlowHistogram`,
64 numbers per clip).  Agreement is the adjusted Rand index (ARI) of the two k-means partitions,
chance-corrected: 0 for unrelated partitions, 1 for identical ones, so a student that clusters by
appearance (colour, texture: what reconstruction learns) scores ~0 however tight its clusters, and
a collapsed student scores the worst value, -1.  The premise is the cross-modal one of ELo and of
cross-modal deep clustering (Alwassel et al. 2020): what a video is about shows in more than one
modality, what it merely looks like shows in one.  It is a premise, not a guarantee: on a set whose
classes do not differ in motion the flow clusters carry no class either.

Why it exists, measured (``evovideo bench validity``, BENCHMARKS.md#fitness-validity): the cluster
gap (:mod:`evovideo.evolution.gap`) rewards any cluster structure, and the shipped search picked
"reconstruction alone" with it, at chance on held-out few-shot.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from evovideo.evolution.fitness import FITNESS, FitnessResult
from evovideo.evolution.kmeans import check_precision, kmeans
from evovideo.evolution.zipf import centred_features


class FlowHistogram(nn.Module):
    """HOF of a flow clip (B, 2, T, H, W) (dx, dy): orientation histograms in ``bins`` sectors,
    each flow vector voting its magnitude, averaged over ``cells`` x ``cells`` spatial cells and
    ``segments`` temporal segments -> (B, bins * segments * cells**2).  No parameters: the same
    descriptor for every candidate.  Follows the encoder interface of
    :func:`evovideo.eval.features.extract_features` (``forward_features``, ``forward_head``), so
    the reference is computed and averaged per video exactly as the student's features are."""

    def __init__(self, bins: int = 8, cells: int = 2, segments: int = 2) -> None:
        super().__init__()
        if min(bins, cells, segments) < 1:
            raise ValueError(f"FlowHistogram needs bins, cells, segments >= 1, got {bins}, {cells}, {segments}")
        self.bins, self.cells, self.segments = bins, cells, segments

    def forward_features(self, flow: torch.Tensor) -> torch.Tensor:
        if flow.ndim != 5 or flow.shape[1] != 2:
            raise ValueError(f"FlowHistogram takes flow clips (B, 2, T, H, W), got {tuple(flow.shape)}")
        flow = flow.float()
        dx, dy = flow[:, 0], flow[:, 1]
        magnitude = torch.hypot(dx, dy)  # (B, T, H, W)
        sector = ((torch.atan2(dy, dx) + math.pi) / (2 * math.pi) * self.bins).long().clamp_(0, self.bins - 1)
        votes = torch.zeros(flow.shape[0], self.bins, *flow.shape[2:], dtype=flow.dtype, device=flow.device)
        votes.scatter_(1, sector.unsqueeze(1), magnitude.unsqueeze(1))  # (B, bins, T, H, W)
        return nn.functional.adaptive_avg_pool3d(votes, (self.segments, self.cells, self.cells))

    def forward_head(self, fmap: torch.Tensor, pre_logits: bool = True) -> torch.Tensor:
        return fmap.flatten(1)


REFERENCES = {"flow_hof": ("flow", FlowHistogram)}  # name -> (modality it reads, descriptor)


def reference_modality(kind: str) -> str:
    if kind not in REFERENCES:
        raise ValueError(f"unknown reference '{kind}'; choose from {', '.join(REFERENCES)}")
    return REFERENCES[kind][0]


def reference_features(kind: str, batches):
    """The ``kind`` descriptor of every video of ``batches`` (a loader yielding the reference's modality),
    averaged over its views: a :class:`evovideo.eval.features.FeatureSet` in video order."""
    from evovideo.eval.features import extract_features

    modality = reference_modality(kind)
    return extract_features(REFERENCES[kind][1](), batches, modality=modality, progress=False,
                            desc=f"reference {kind}")


def adjusted_rand_index(a: torch.Tensor, b: torch.Tensor) -> float:
    """Hubert and Arabie's adjusted Rand index of two partitions (label vectors of equal length):
    1 for identical partitions (up to renaming), ~0 in expectation for independent ones.  0 when
    either partition is a single cluster (it tells nothing)."""
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"adjusted_rand_index needs two label vectors of one length, got {tuple(a.shape)}, "
                         f"{tuple(b.shape)}")
    _, a = torch.unique(a, return_inverse=True)
    _, b = torch.unique(b, return_inverse=True)
    ka, kb = int(a.max()) + 1, int(b.max()) + 1
    table = torch.bincount(a * kb + b, minlength=ka * kb).reshape(ka, kb).double()
    pairs = lambda t: (t * (t - 1) / 2).sum()  # noqa: E731
    n = float(a.numel())
    index, rows, cols = pairs(table), pairs(table.sum(1)), pairs(table.sum(0))
    expected = rows * cols / (n * (n - 1) / 2)
    top = (rows + cols) / 2
    if ka == 1 or kb == 1 or float(top - expected) == 0.0:
        return 0.0
    return float((index - expected) / (top - expected))


@FITNESS.register("agreement", requires_labels=False)
class CrossModalAgreement:
    """Unsupervised: how far the student's k-means clusters agree with the k-means clusters of a
    fixed descriptor of the same clips' flow (score = -ARI, lower is better; see
    :mod:`evovideo.evolution.agreement`).  The evaluator passes ``reference=`` (N, R), the
    ``reference`` descriptor of the same N videos, read from the fitness data (the same data module
    with only the modality the descriptor reads).

    k: clusters (about the number of classes you expect); restarts: k-means seeds ``seed ..
    seed + restarts - 1``, one partition of each side per seed, ARIs averaged.
    """

    requires_labels = False

    def __init__(self, k: int = 10, seed: int = 0, iters: int = 20, restarts: int = 1, normalize: bool = True,
                 reference: str = "flow_hof", precision: str = "float32") -> None:
        if k < 2:
            raise ValueError(f"agreement fitness needs k >= 2 clusters, got k={k}")
        if restarts < 1:
            raise ValueError(f"restarts must be >= 1, got {restarts}")
        reference_modality(reference)
        self.k, self.seed, self.iters, self.restarts, self.normalize = k, seed, iters, restarts, normalize
        self.reference = reference
        self.precision = check_precision(precision)

    @property
    def min_samples(self) -> int:
        return self.k

    def partitions(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [kmeans(x.float(), k=self.k, iters=self.iters, seed=self.seed + r, precision=self.precision).labels
                for r in range(self.restarts)]

    def __call__(self, features: torch.Tensor, labels: torch.Tensor | None = None,
                 reference: torch.Tensor | None = None) -> FitnessResult:
        if reference is None:
            raise ValueError(f"the agreement fitness compares the features with the '{self.reference}' descriptor of the "
                             f"same clips: pass reference= (N, R), e.g. evovideo.evolution.agreement.reference_features("
                             f"'{self.reference}', <loader of their {reference_modality(self.reference)}>); a search "
                             "computes it from its fitness data")
        if features.ndim != 2 or reference.ndim != 2 or features.shape[0] != reference.shape[0] \
                or features.shape[0] < self.k:
            raise ValueError(f"agreement with k={self.k} needs features (N >= k, D) and a reference of the same N, got "
                             f"{tuple(features.shape)} and {tuple(reference.shape)}")
        ref, _, still = centred_features(reference, self.normalize)
        if still:
            raise ValueError(f"the '{self.reference}' reference has no spread: the fitness clips do not move")
        x, _, collapsed = centred_features(features, self.normalize)
        if collapsed:
            return FitnessResult(score=1.0, metrics={"agreement": -1.0, "agreement_std": 0.0, "collapsed": True,
                                                     "k": self.k})
        aris = torch.tensor([adjusted_rand_index(s, r) for s, r in zip(self.partitions(x), self.partitions(ref))],
                            dtype=torch.float64)
        return FitnessResult(score=-float(aris.mean()), metrics={
            "agreement": float(aris.mean()), "agreement_std": float(aris.std()) if len(aris) > 1 else 0.0,
            "collapsed": False, "k": self.k, "reference": self.reference,
        })
