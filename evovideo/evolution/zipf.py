"""The unsupervised Zipf fitness of ELo (Piergiovanni et al., CVPR 2020, Sec. 3.3), guarded.

Class frequencies of real video datasets (Kinetics, UCF101, HMDB51, AVA) follow a power law, so a
good representation should cluster unlabeled clips into groups whose sizes do too::

    k-means (k clusters) on the features
    p(c | x) = softmax_c(-|x - mu_c|^2 / tau)          soft assignment
    p(c)     = mean_x p(c | x), sorted descending       cluster masses
    q(i)     = i^-s / H_{k,s}                           Zipf prior, H_{k,s} = sum_i i^-s
    KL       = KL(p || q)                               the paper's fitness, lower is better

**The fitness set must be naturally long-tailed unlabeled video**, as the paper assumes.  On a
class-balanced set with s = 1 the prior is simply wrong, and KL alone cannot reward class
structure: measured (``evovideo bench fitness``), perfectly separated balanced classes and random
Gaussian features get the same KL, and rank-2 (dimensionally collapsed) features a better one.
Match ``s`` to the set: :func:`fit_zipf_exponent` on its class counts if you know them
(``class_counts=`` below; a balanced set gives s = 0).

The **structure guard** (``guard=True``, default) makes the score reward structure, not collapse::

    explained = 1 - inertia / total variance          share of the variance the k clusters explain
    spread    = min(1, erank(centroids) / (k - 1))     the centroids span k - 1 dimensions, not 2
    g         = explained * spread                      in [0, 1]
    score     = g * KL + (1 - g) * log H_{k,s}          log H_{k,s} = the KL of total collapse

With well-separated clusters in general position g is near 1 and the score is the paper's KL; random
features (k-means explains little variance) and rank-2 or collapsed features (centroids on a plane
or a point) move towards the worst score.  ``erank`` is the entropy effective rank
exp(H(eigenvalues / their sum)) of the centred centroids' scatter.

Choices the paper leaves open, and what we do:

* ``normalize=True``: features are L2-normalised (cosine geometry), then centred (the clustering
  does not change; the float32 k-means distances lose far less to cancellation).
* ``temperature=None`` (default): tau = mean squared distance of a point to its nearest centroid
  (inertia / N), floored at ``TAU_FLOOR`` x mean |x|^2 (below it float32 features carry no
  information).  ``temperature=1.0``, ``normalize=False``, ``guard=False`` is the paper's formula
  verbatim (:data:`PAPER`).
* The final distances and the soft assignment are computed in float64 from the centred features:
  with float32 ``|c|^2 - 2 x.c`` and tau ~ 4e-7 (near-collapsed features) the assignment was
  float32 rounding noise and scored better than random features.
* Features with no spread (total variance below the float32 noise floor) are collapsed: the
  worst score, whatever k-means finds in the noise.
* ``restarts``: the score is averaged over that many k-means seeds (the spread across seeds is
  reported): at the demo's size one encoder's KL ranged 0.085-0.176 across seeds.

Known values: all mass in one cluster -> log H_{k,s}; masses equal to the prior -> 0; uniform
masses -> log H_{k,s} + (s/k) log k! - log k (0.678 for k=100, s=1).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import torch
import torch.nn.functional as F

from evovideo.evolution.fitness import FITNESS, FitnessResult
from evovideo.evolution.kmeans import DUPLICATE_TOL, _chunks, check_precision, kmeans, row_norms_sq, squared_distances

TAU_FLOOR = 1e-6  # relative to mean |x|^2, as kmeans.DUPLICATE_TOL
PAPER = {"temperature": 1.0, "normalize": False, "guard": False}  # the paper's exact definition


@dataclass
class ZipfScore:
    score: float  # the fitness: g * kl + (1 - g) * worst with the guard, else kl; lower is better
    kl: float  # KL(p || q) of the soft cluster masses (the paper's quantity)
    masses: torch.Tensor  # (k,) cluster masses p(c), sorted descending
    prior: torch.Tensor  # (k,) Zipf prior q(i)
    inertia: float
    temperature: float
    clusters_found: int  # < k when the features have fewer distinct points than k
    n_iter: int = 0  # Lloyd iterations k-means ran
    explained: float = 1.0  # 1 - inertia / total variance
    centroid_rank: float = 0.0  # entropy effective rank of the centred centroids
    structure: float = 1.0  # g = explained * min(1, centroid_rank / (k - 1)); 1 without the guard
    worst: float = 0.0  # log H_{k,s}
    collapsed: bool = False


def zipf_prior(k: int, s: float = 1.0) -> torch.Tensor:
    """q(i) = i^-s / H_{k,s} for ranks i = 1..k: (k,) float64."""
    ranks = torch.arange(1, k + 1, dtype=torch.float64)
    q = ranks.pow(-s)
    return q / q.sum()


def worst_kl(k: int, s: float = 1.0) -> float:
    """log H_{k,s}: the KL of all mass in one cluster (total collapse), the largest possible."""
    return -math.log(float(zipf_prior(k, s)[0]))


def kl_to_zipf(masses: torch.Tensor, s: float = 1.0) -> float:
    """KL(p || q) of cluster masses (any order; sorted here) to the Zipf prior of the same length."""
    p = masses.detach().double().flatten().sort(descending=True).values
    p = p / p.sum()
    q = zipf_prior(p.numel(), s)
    nz = p > 0
    return float((p[nz] * (p[nz] / q[nz]).log()).sum())


def fit_zipf_exponent(counts: Sequence[int] | torch.Tensor, max_s: float = 4.0) -> float:
    """Maximum-likelihood Zipf exponent s of class counts (any order): the s whose prior q best
    explains them, sum_i n_(i) log q_i(s) maximal over s in [0, max_s].  A balanced set gives 0.

    Use it to match the fitness prior to a fitness set whose class counts you know (or estimate
    from a labelled sample of the same source)."""
    n = torch.as_tensor(counts, dtype=torch.float64).flatten().sort(descending=True).values
    if n.numel() < 2 or bool((n < 0).any()) or float(n.sum()) <= 0:
        raise ValueError(f"fit_zipf_exponent needs >= 2 non-negative class counts, got {n.tolist()[:10]}")
    log_ranks = torch.arange(1, n.numel() + 1, dtype=torch.float64).log()

    def loglik(s: float) -> float:  # sum_i n_i (-s log i - log H_{k,s})
        return float(-(s * (n * log_ranks).sum()) - n.sum() * torch.logsumexp(-s * log_ranks, 0))

    lo, hi = 0.0, max_s  # the log-likelihood is concave in s: golden-section search
    ratio = (math.sqrt(5) - 1) / 2
    for _ in range(60):
        a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        if loglik(a) < loglik(b):
            lo = a
        else:
            hi = b
    return round((lo + hi) / 2, 4)


def soft_cluster_masses(
    x: torch.Tensor, centroids: torch.Tensor, temperature: float, distances: torch.Tensor | None = None
) -> torch.Tensor:
    """p(c) = mean_x softmax_c(-|x - mu_c|^2 / tau): (N, D), (k, D) -> (k,) float64, chunked over N.

    Distances are computed in x's dtype (pass float64 for the fitness).  ``distances``: the
    (N, k) ``|c|^2 - 2 x.c`` that k-means kept from its final float32 pass, reused instead of a
    second matmul (only for taus well above float32's noise); it is overwritten.
    """
    x_sq = row_norms_sq(x)
    centroids = centroids.to(x.dtype)
    total = torch.zeros(centroids.shape[0], dtype=torch.float64, device=x.device)
    for sl in _chunks(x.shape[0], centroids.shape[0]):
        if distances is None:
            d = squared_distances(x[sl], centroids, x_sq[sl])
        else:  # the same expression as squared_distances, in place
            d = distances[sl].add_(x_sq[sl].unsqueeze(1)).clamp_min_(0.0)
        total += torch.softmax(d.mul_(-1.0 / temperature), dim=1).sum(0, dtype=torch.float64)
    return total / x.shape[0]


def effective_rank(points: torch.Tensor) -> float:
    """Entropy effective rank exp(H(lambda / sum lambda)) of the centred points' scatter (k, D)."""
    c = points.double() - points.double().mean(0)
    ev = torch.linalg.eigvalsh(c @ c.t()).clamp_min(0.0)  # (k,) nonzero eigenvalues = the scatter's
    if float(ev.sum()) <= 0:
        return 0.0
    p = ev / ev.sum()
    p = p[p > 0]
    return float(torch.exp(-(p * p.log()).sum()))


def centred_features(features: torch.Tensor, normalize: bool = True) -> tuple[torch.Tensor, float, bool]:
    """(N, D) features -> (centred float64 features, mean |x|^2 before centring, collapsed): L2-normalised
    first if ``normalize``; collapsed when the spread is below float32 noise (``DUPLICATE_TOL``)."""
    x = features.detach().float()
    if normalize:
        x = F.normalize(x, dim=1)
    scale = float(row_norms_sq(x).mean())  # mean |x|^2 before centring: the float32 noise reference
    x64 = x.double()
    x64 = x64 - x64.mean(0)
    return x64, scale, float(row_norms_sq(x64).sum()) <= DUPLICATE_TOL * scale * x.shape[0]


def zipf_fitness(
    features: torch.Tensor,
    k: int = 100,
    s: float = 1.0,
    iters: int = 20,
    temperature: float | None = None,
    normalize: bool = True,
    seed: int = 0,
    precision: str = "float32",
    guard: bool = True,
) -> ZipfScore:
    """Score features (N, D) against a Zipf prior over ``k`` clusters; see the module docstring.

    ``precision``: ``float32``, ``bfloat16``, ``int8`` or ``auto`` (by the CPU's instructions)
    distance matmuls inside k-means (see :func:`evovideo.evolution.kmeans.kmeans`); the soft
    assignment and the guard are float64 in every precision.
    """
    if features.ndim != 2:
        raise ValueError(f"zipf_fitness expects features of shape (N, D), got {tuple(features.shape)}")
    if features.shape[0] < k:
        raise ValueError(
            f"zipf_fitness with k={k} clusters needs at least {k} feature vectors, got {features.shape[0]}; "
            "lower k or score more clips"
        )
    if temperature is not None and temperature <= 0:
        raise ValueError(f"temperature must be > 0 (or None for automatic), got {temperature}")
    x64, scale, collapsed = centred_features(features, normalize)
    x = x64.float()  # centred: k-means, distances and the soft assignment do not change
    worst = worst_kl(k, s)
    if collapsed:
        masses = torch.zeros(k, dtype=torch.float64)
        masses[0] = 1.0
        return ZipfScore(score=worst, kl=worst, masses=masses, prior=zipf_prior(k, s), inertia=0.0,
                         temperature=float(temperature or 0.0), clusters_found=1, explained=0.0, structure=0.0,
                         worst=worst, collapsed=True)
    km = kmeans(x, k=k, iters=iters, seed=seed, precision=precision)
    z = score_clustering(x64, km.centroids, km.labels, k, s, temperature, guard, scale)
    z.n_iter = km.n_iter
    return z


def score_clustering(
    x64: torch.Tensor, centroids: torch.Tensor, labels: torch.Tensor, k: int, s: float = 1.0,
    temperature: float | None = None, guard: bool = True, scale: float | None = None,
) -> ZipfScore:
    """The fitness of a given clustering (any k-means): centred float64 features (N, D), centroids
    (k', D) and labels (N,) -> :class:`ZipfScore`.  ``scale``: mean |x|^2 before centring (the
    float32 noise reference for the tau floor; default: from x64)."""
    scale = float(row_norms_sq(x64).mean()) if scale is None else scale
    worst = worst_kl(k, s)
    found = centroids.shape[0]
    centroids = centroids.double()
    inertia = float((x64 - centroids[labels]).pow(2).sum())  # float64, from the labels
    total = float((x64 - x64.mean(0)).pow(2).sum())
    tau = temperature if temperature is not None else max(inertia / x64.shape[0], TAU_FLOOR * scale)
    masses = torch.zeros(k, dtype=torch.float64)
    masses[:found] = soft_cluster_masses(x64, centroids, tau).cpu()
    masses = masses.sort(descending=True).values
    kl = kl_to_zipf(masses, s)
    explained = max(0.0, 1.0 - inertia / total) if total > 0 else 0.0
    rank = effective_rank(centroids)
    g = explained * min(1.0, rank / (k - 1)) if guard else 1.0
    return ZipfScore(
        score=g * kl + (1.0 - g) * worst,
        kl=kl,
        masses=masses,
        prior=zipf_prior(k, s),
        inertia=inertia,
        temperature=float(tau),
        clusters_found=found,
        explained=explained,
        centroid_rank=rank,
        structure=g,
        worst=worst,
    )


@FITNESS.register("zipf", requires_labels=False)
class ZipfFitness:
    """Unsupervised: Zipf fitness with the structure guard (lower is better; see
    :mod:`evovideo.evolution.zipf`).  The fitness set must be naturally long-tailed unlabeled video.

    k: clusters (about the number of classes you expect; must be <= the number of clips scored).
    s: Zipf exponent (1.0: the classic law); ``class_counts``: fit s to these counts instead
      (:func:`fit_zipf_exponent`; a balanced set gives s = 0).
    precision: k-means matmuls: ``auto`` (default: int8 on CPUs with AVX512-VNNI/AMX, bfloat16 on
      CPUs with AVX512-BF16 and on GPUs, else float32), float32, bfloat16 or int8.
    guard: the structure guard (default on); ``temperature=1.0, normalize=False, guard=False`` is
      the paper's exact definition.
    restarts: k-means seeds ``seed .. seed + restarts - 1`` whose scores are averaged.
    """

    requires_labels = False

    def __init__(
        self,
        k: int = 100,
        s: float = 1.0,
        iters: int = 20,
        temperature: float | None = None,
        normalize: bool = True,
        seed: int = 0,
        precision: str = "auto",
        guard: bool = True,
        restarts: int = 1,
        class_counts: Sequence[int] | None = None,
    ) -> None:
        if k < 2:
            raise ValueError(f"zipf fitness needs k >= 2 clusters, got k={k}")
        if restarts < 1:
            raise ValueError(f"restarts must be >= 1, got {restarts}")
        self.k, self.iters = k, iters
        self.s = fit_zipf_exponent(class_counts) if class_counts is not None else s
        self.temperature, self.normalize, self.seed = temperature, normalize, seed
        self.precision = check_precision(precision)
        self.guard, self.restarts = guard, restarts

    @property
    def min_samples(self) -> int:
        """Videos the fitness set must hold (k clusters need at least k points)."""
        return self.k

    def __call__(self, features: torch.Tensor, labels: torch.Tensor | None = None) -> FitnessResult:
        runs = [zipf_fitness(features, self.k, self.s, self.iters, self.temperature, self.normalize, self.seed + r,
                             self.precision, self.guard) for r in range(self.restarts)]
        scores = torch.tensor([z.score for z in runs], dtype=torch.float64)
        z = runs[0]
        return FitnessResult(
            score=float(scores.mean()),
            metrics={
                "zipf_score": float(scores.mean()),
                "zipf_score_std": float(scores.std()) if len(runs) > 1 else 0.0,
                "zipf_kl": sum(r.kl for r in runs) / len(runs),
                "zipf_kl_worst": z.worst,
                "structure": sum(r.structure for r in runs) / len(runs),
                "explained": sum(r.explained for r in runs) / len(runs),
                "centroid_rank": sum(r.centroid_rank for r in runs) / len(runs),
                "masses": [round(float(m), 6) for m in z.masses],
                "s": self.s,
                "inertia": z.inertia,
                "temperature": z.temperature,
                "clusters_found": z.clusters_found,
                "collapsed": z.collapsed,
            },
        )
