"""The unsupervised Zipf fitness of ELo (Piergiovanni et al., CVPR 2020, Sec. 3.3).

Class frequencies of real video datasets (Kinetics, UCF101, HMDB51, AVA) follow a power law, so a
good representation should cluster unlabeled clips into groups whose sizes do too::

    k-means (k clusters) on the features
    p(c | x) = softmax_c(-|x - mu_c|^2 / tau)          soft assignment
    p(c)     = mean_x p(c | x), sorted descending       cluster masses
    q(i)     = i^-s / H_{k,s}                           Zipf prior, H_{k,s} = sum_i i^-s
    fitness  = KL(p || q)                               lower is better

Choices the paper leaves open, and what we do:

* ``normalize=True``: features are L2-normalised first (cosine geometry), so the score does not
  depend on the arbitrary scale of an encoder's features.
* ``temperature=None`` (default): tau = mean squared distance of a point to its nearest centroid
  (inertia / N).  The soft assignment is then measured in units of the clusters' own spread: it is
  nearly hard for well-separated clusters and soft for clusters that overlap, whatever the feature
  scale.  A number sets tau absolutely (``temperature=1.0`` is the paper's formula verbatim).
* A collapsed representation (fewer distinct points than k) gets fewer clusters; the missing
  ones have mass 0, so the sorted masses are one-hot and KL = log H_{k,s}, the worst possible score.

Cost: the soft assignment reuses the distance matrix of k-means' final float32 pass, so the
fitness costs k-means plus one softmax over (N, k); see :mod:`evovideo.evolution.kmeans`.

Known values: all mass in one cluster -> log H_{k,s}; masses equal to the prior -> 0; uniform
masses -> log H_{k,s} + (s/k) log k! - log k (0.678 for k=100, s=1).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from evovideo.evolution.fitness import FITNESS, FitnessResult
from evovideo.evolution.kmeans import _chunks, check_precision, kmeans, row_norms_sq, squared_distances


@dataclass
class ZipfScore:
    kl: float  # KL(p || q), lower is better
    masses: torch.Tensor  # (k,) cluster masses p(c), sorted descending
    prior: torch.Tensor  # (k,) Zipf prior q(i)
    inertia: float
    temperature: float
    clusters_found: int  # < k when the features have fewer distinct points than k
    n_iter: int = 0  # Lloyd iterations k-means ran


def zipf_prior(k: int, s: float = 1.0) -> torch.Tensor:
    """q(i) = i^-s / H_{k,s} for ranks i = 1..k: (k,) float64."""
    ranks = torch.arange(1, k + 1, dtype=torch.float64)
    q = ranks.pow(-s)
    return q / q.sum()


def kl_to_zipf(masses: torch.Tensor, s: float = 1.0) -> float:
    """KL(p || q) of cluster masses (any order; sorted here) to the Zipf prior of the same length."""
    p = masses.detach().double().flatten().sort(descending=True).values
    p = p / p.sum()
    q = zipf_prior(p.numel(), s)
    nz = p > 0
    return float((p[nz] * (p[nz] / q[nz]).log()).sum())


def soft_cluster_masses(
    x: torch.Tensor, centroids: torch.Tensor, temperature: float, distances: torch.Tensor | None = None
) -> torch.Tensor:
    """p(c) = mean_x softmax_c(-|x - mu_c|^2 / tau): (N, D), (k, D) -> (k,), chunked over N.

    ``distances``: the (N, k) ``|c|^2 - 2 x.c`` that k-means kept from its final float32 pass
    (:attr:`KMeansResult.distances`); reusing it saves recomputing the distance matmul.
    It is overwritten.
    """
    x_sq = row_norms_sq(x)
    total = torch.zeros(centroids.shape[0], dtype=torch.float64, device=x.device)
    for sl in _chunks(x.shape[0], centroids.shape[0]):
        if distances is None:
            d = squared_distances(x[sl], centroids, x_sq[sl])
        else:  # the same expression as squared_distances, in place
            d = distances[sl].add_(x_sq[sl].unsqueeze(1)).clamp_min_(0.0)
        total += torch.softmax(d.mul_(-1.0 / temperature), dim=1).sum(0, dtype=torch.float64)
    return total / x.shape[0]


def zipf_fitness(
    features: torch.Tensor,
    k: int = 100,
    s: float = 1.0,
    iters: int = 20,
    temperature: float | None = None,
    normalize: bool = True,
    seed: int = 0,
    precision: str = "float32",
) -> ZipfScore:
    """Score features (N, D) against a Zipf prior over ``k`` clusters; see the module docstring.

    ``precision``: ``float32``, ``bfloat16`` or ``int8`` distance matmuls inside k-means (see
    :func:`evovideo.evolution.kmeans.kmeans`); the soft assignment is float32 in every precision.
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
    x = features.detach().float()
    if normalize:
        x = F.normalize(x, dim=1)
    km = kmeans(x, k=k, iters=iters, seed=seed, precision=precision, keep_distances=True)
    tau = temperature if temperature is not None else max(km.inertia / x.shape[0], 1e-12)
    masses = torch.zeros(k, dtype=torch.float64)
    found = km.centroids.shape[0]
    masses[:found] = soft_cluster_masses(x, km.centroids, tau, km.distances).cpu()
    masses = masses.sort(descending=True).values
    return ZipfScore(
        kl=kl_to_zipf(masses, s),
        masses=masses,
        prior=zipf_prior(k, s),
        inertia=km.inertia,
        temperature=float(tau),
        clusters_found=found,
        n_iter=km.n_iter,
    )


@FITNESS.register("zipf", requires_labels=False)
class ZipfFitness:
    """Unsupervised: KL between sorted soft k-means cluster masses and a Zipf prior (lower is better).

    k: clusters (about the number of classes you expect; must be <= the number of clips scored).
    s: Zipf exponent (1.0: the classic law; class counts of Kinetics/UCF101 fit s ~ 0.5-1).
    precision: float32 (default), bfloat16 or int8 k-means matmuls; int8 is the fastest on CPUs
      (see ``evovideo bench zipf``), bfloat16 on GPUs.
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
        precision: str = "float32",
    ) -> None:
        if k < 2:
            raise ValueError(f"zipf fitness needs k >= 2 clusters, got k={k}")
        self.k, self.s, self.iters = k, s, iters
        self.temperature, self.normalize, self.seed = temperature, normalize, seed
        self.precision = check_precision(precision)

    @property
    def min_samples(self) -> int:
        """Videos the fitness set must hold (k clusters need at least k points)."""
        return self.k

    def __call__(self, features: torch.Tensor, labels: torch.Tensor | None = None) -> FitnessResult:
        z = zipf_fitness(features, self.k, self.s, self.iters, self.temperature, self.normalize, self.seed,
                         self.precision)
        worst = math.log(float(zipf_prior(self.k, self.s)[0]) ** -1)
        return FitnessResult(
            score=z.kl,
            metrics={
                "zipf_kl": z.kl,
                "zipf_kl_worst": worst,
                "masses": [round(float(m), 6) for m in z.masses],
                "s": self.s,
                "inertia": z.inertia,
                "temperature": z.temperature,
                "clusters_found": z.clusters_found,
            },
        )
