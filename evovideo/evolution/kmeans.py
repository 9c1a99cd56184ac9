"""k-means in torch: greedy k-means++ init, then Lloyd iterations with matmul distances.

    result = kmeans(features, k=100, iters=20, seed=0)     # features: (N, D)
    result.centroids   # (k', D)   k' < k only when the data has fewer than k distinct points
    result.labels      # (N,)      index of the nearest centroid
    result.inertia     # sum of squared distances to the nearest centroid

Semantics match scikit-learn's ``KMeans(n_clusters=k, max_iter=iters, n_init=1, tol=0)``: at most
``iters`` Lloyd iterations, stopping early only when no label changes.  Each iteration is one
matmul (``|x|^2 - 2 x.c + |c|^2``, chunked over N), a row-wise min and an ``index_add``.
(Hamerly's distance bounds were tried: on 512-d features about half the points still needed
their distances recomputed in late iterations, so the bookkeeping cost more than it saved.)

Points closer than the float32 noise floor of the expanded distance (``1e-6 * mean |x|^2``) count
as duplicates: data with fewer distinct points than ``k`` (a collapsed representation) yields fewer
centroids instead of k copies of the same point.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

DUPLICATE_TOL = 1e-6  # relative to mean |x|^2: below this a squared distance is float32 noise
_CHUNK_ELEMENTS = 1 << 24  # distance-matrix chunk: 16M entries (64 MB in float32)


@dataclass
class KMeansResult:
    centroids: torch.Tensor  # (k', D)
    labels: torch.Tensor  # (N,) int64
    inertia: float
    n_iter: int


def squared_distances(x: torch.Tensor, c: torch.Tensor, x_sq: torch.Tensor | None = None) -> torch.Tensor:
    """(N, D), (K, D) -> (N, K) squared Euclidean distances via one matmul, clamped at 0."""
    x_sq = (x * x).sum(1) if x_sq is None else x_sq
    d = torch.addmm((c * c).sum(1).unsqueeze(0), x, c.t(), alpha=-2.0)  # |c|^2 - 2 x.c
    return d.add_(x_sq.unsqueeze(1)).clamp_min_(0.0)


def _chunks(n: int, k: int) -> list[slice]:
    step = max(1, _CHUNK_ELEMENTS // max(k, 1))
    return [slice(i, min(i + step, n)) for i in range(0, n, step)]


def _nearest(
    x: torch.Tensor, x_sq: torch.Tensor, c: torch.Tensor, x_low: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Label of and squared distance to the nearest centroid for every row of x, chunked.

    ``x_low``: a bfloat16 copy of x; the distance matmul then runs in bfloat16 (float32
    accumulation, bfloat16 result: ~3 significant digits), about 2x faster per iteration on CPUs
    with AVX512-BF16/AMX and on GPUs; only points almost exactly on a cluster boundary can flip.
    ``dmin`` is then approximate too: callers that report it recompute it in float32.
    """
    n, k = x.shape[0], c.shape[0]
    labels = torch.empty(n, dtype=torch.long, device=x.device)
    dmin = torch.empty(n, dtype=x.dtype, device=x.device)
    c_sq = (c * c).sum(1).unsqueeze(0)  # (1, k)
    c_t = c.t().to(x_low.dtype) if x_low is not None else c.t()
    c_sq_low = c_sq.to(x_low.dtype) if x_low is not None else None
    for sl in _chunks(n, k):
        if x_low is not None:  # |c|^2 - 2 x.c in one bf16 addmm (float32 accumulation, bf16 result)
            d = torch.addmm(c_sq_low, x_low[sl], c_t, alpha=-2.0)
        else:
            d = torch.addmm(c_sq, x[sl], c_t, alpha=-2.0)
        dmin[sl], labels[sl] = d.min(1)  # (chunk, k) -> (chunk,); |x|^2 is added after the min
    return labels, dmin.add_(x_sq).clamp_min_(0.0)


def kmeans_plus_plus(x: torch.Tensor, k: int, generator: torch.Generator, x_sq: torch.Tensor,
                     trials: int | None = None) -> torch.Tensor:
    """Greedy k-means++ (``trials`` candidates per step, default 2 + ln k as scikit-learn): (N, D) -> (k', D)."""
    n = x.shape[0]
    tol = DUPLICATE_TOL * float(x_sq.mean())
    trials = 2 + int(math.log(k)) if trials is None else trials
    first = int(torch.randint(n, (1,), generator=generator, device=x.device))
    idx = [first]
    closest = squared_distances(x, x[first : first + 1], x_sq).squeeze(1)
    closest = torch.where(closest > tol, closest, torch.zeros_like(closest))
    for _ in range(1, k):
        if float(closest.sum()) <= 0.0:  # every point coincides with a chosen centroid
            break
        cand = torch.multinomial(closest, trials, replacement=True, generator=generator)
        d = squared_distances(x, x[cand], x_sq)  # (N, trials)
        d = torch.where(d > tol, d, torch.zeros_like(d))
        new_closest = torch.minimum(closest.unsqueeze(1), d)
        best = int(new_closest.sum(0).argmin())
        idx.append(int(cand[best]))
        closest = new_closest[:, best].contiguous()
    return x[torch.tensor(idx, device=x.device)].clone()


def _update(x: torch.Tensor, labels: torch.Tensor, old: torch.Tensor) -> torch.Tensor:
    """Centroid = mean of its points; an empty cluster keeps its previous centroid."""
    k = old.shape[0]
    sums = torch.zeros_like(old).index_add_(0, labels, x)
    counts = torch.bincount(labels, minlength=k).to(x.dtype).unsqueeze(1)
    return torch.where(counts > 0, sums / counts.clamp_min(1), old)


def kmeans(
    x: torch.Tensor,
    k: int,
    iters: int = 20,
    seed: int = 0,
    init_sample: int | None = None,
    fast: bool = False,
) -> KMeansResult:
    """Cluster ``x`` (N, D) into ``k`` clusters; see the module docstring.

    ``init_sample``: k-means++ runs on a random subset of this many points (default ``None``:
    ``max(10_000, 64 * k)``).  It reads the data once per centroid, so on large N a subset makes
    it several times cheaper; the Lloyd iterations on all points refine it.  Measured on 50,000
    x 512: with k = 400 a 10,000-point subset gave 1.3% worse inertia than scikit-learn, 64 * k
    points matched it (+0.01%).  ``fast``: bfloat16 distance matmuls in the Lloyd
    iterations (the final assignment and the inertia stay float32).  bfloat16 keeps ~3 digits of
    |c|^2 - 2 x.c, so use it on L2-normalised (as the Zipf fitness does) or centred features.
    """
    if x.ndim != 2:
        raise ValueError(f"kmeans expects features of shape (N, D), got {tuple(x.shape)}")
    if not 1 <= k <= x.shape[0]:
        raise ValueError(f"k={k} clusters needs 1 <= k <= N={x.shape[0]} points; lower k or use more samples")
    x = x.detach().float() if x.dtype not in (torch.float32, torch.float64) else x.detach()
    gen = torch.Generator(device=x.device).manual_seed(seed)
    x_sq = (x * x).sum(1)
    init_x, init_sq = x, x_sq
    init_sample = max(10_000, 64 * k) if init_sample is None else max(init_sample, k)
    if init_sample < x.shape[0]:
        sub = torch.randperm(x.shape[0], generator=gen, device=x.device)[:init_sample]
        init_x, init_sq = x[sub], x_sq[sub]
    c = kmeans_plus_plus(init_x, k, gen, init_sq)

    x_low = x.to(torch.bfloat16) if fast else None
    labels, _ = _nearest(x, x_sq, c, x_low)
    n_iter = 0
    for n_iter in range(1, iters + 1):
        c = _update(x, labels, c)
        new_labels, dmin = _nearest(x, x_sq, c, x_low)
        changed = bool((new_labels != labels).any())
        labels = new_labels
        if not changed:
            break
    if fast:  # the reported assignment is always float32
        labels, dmin = _nearest(x, x_sq, c)
    return KMeansResult(centroids=c, labels=labels, inertia=float(dmin.sum()), n_iter=n_iter)
