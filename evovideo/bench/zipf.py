"""Zipf fitness speed: evovideo's torch k-means + KL vs scikit-learn and faiss-cpu k-means + the same KL.

All sides get the same L2-normalised float32 features (a Gaussian mixture with power-law cluster
sizes, like the features the fitness is meant for), the same k and the same iteration count
(``max_iter=iters, n_init=1, tol=0``: both stop early only if no label changes), and both finish
with the same float64 soft assignment, KL to the Zipf prior and structure guard
(:func:`evovideo.evolution.zipf.score_clustering`).  Inertia is compared to check that the speed is
not bought with a worse clustering.  faiss (``pip install faiss-cpu``; in the ``bench`` extra) is the
well-kept fast baseline: it initialises at random, not with k-means++, and is given all points
(``max_points_per_centroid`` = N).  ``auto`` is the precision the fitness picks on this machine
(int8 only with AVX512-VNNI/AMX).

Example:
  OMP_NUM_THREADS=1 evovideo bench zipf --n 50000 --dim 512 --k 100 --iters 20
"""
from __future__ import annotations

import argparse
import os
import time


def add_arguments(parser: argparse.ArgumentParser) -> None:
    p = parser.add_argument
    p("--n", type=int, default=50_000, help="feature vectors (default 50,000)")
    p("--dim", type=int, default=512, help="feature dimension (default 512)")
    p("--k", type=int, default=100, help="clusters (default 100)")
    p("--iters", type=int, default=20, help="Lloyd iterations, both sides (default 20)")
    p("--s", type=float, default=1.0, help="Zipf exponent (default 1.0)")
    p("--seed", type=int, default=0)
    p("--repeats", type=int, default=1, help="timed runs per side; the fastest is reported (default 1)")
    p("--device", default="cpu", help="torch device for evovideo's side (cpu, cuda)")
    p("--precision", nargs="+", default=["float32", "bfloat16", "int8"],
      help="evovideo's k-means matmul precisions to time: auto float32 bfloat16 int8 (default: the last "
           "three; int8 is CPU-only and fast only with AVX512-VNNI/AMX: 'auto' picks by the CPU's flags)")
    p("--no-sklearn", action="store_true", help="skip scikit-learn (e.g. to time a GPU alone)")
    p("--no-faiss", action="store_true", help="skip faiss-cpu")


def mixture(n: int, dim: int, clusters: int, seed: int):
    """(n, dim) float32 L2-normalised features: ``clusters`` Gaussian blobs, sizes ~ rank^-1."""
    import torch
    import torch.nn.functional as F

    g = torch.Generator().manual_seed(seed)
    sizes = torch.arange(1, clusters + 1, dtype=torch.float64).pow(-1.0)
    sizes = (sizes / sizes.sum() * n).floor().long()
    sizes[0] += n - int(sizes.sum())
    centres = torch.randn(clusters, dim, generator=g)
    labels = torch.repeat_interleave(torch.arange(clusters), sizes)
    return F.normalize(centres[labels] + 0.8 * torch.randn(n, dim, generator=g), dim=1)


def _best(fn, repeats: int):
    """Fastest (wall seconds, CPU seconds of this process) over ``repeats`` runs, and the output."""
    best, cpu, out = float("inf"), float("inf"), None
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        best, cpu = min(best, time.perf_counter() - t), min(cpu, time.process_time() - c)
    return (best, cpu), out


def run(args: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from evovideo.evolution.kmeans import PRECISION_CHOICES, auto_precision
    from evovideo.evolution.zipf import score_clustering, zipf_fitness

    bad = [p for p in args.precision if p not in PRECISION_CHOICES]
    if bad:
        raise SystemExit(f"--precision {' '.join(bad)}: choose from {' '.join(PRECISION_CHOICES)}")

    x = mixture(args.n, args.dim, args.k, args.seed)
    rows = []
    for precision in args.precision:
        xd = x.to(args.device)

        def ours(xd=xd, precision=precision):
            z = zipf_fitness(xd, k=args.k, s=args.s, iters=args.iters, normalize=False, seed=args.seed,
                             precision=precision)
            if xd.is_cuda:
                torch.cuda.synchronize()
            return z

        secs, z = _best(ours, args.repeats)
        shown = f"auto = {auto_precision(args.device)}" if precision == "auto" else precision
        rows.append((f"evovideo torch k-means, {shown} matmuls ({args.device})", secs, z.inertia, z.kl, z.n_iter))
    x64 = x.double() - x.double().mean(0)  # the fitness centres the features; inertia does not change
    if not args.no_sklearn:
        try:
            from sklearn.cluster import KMeans
        except ImportError:
            print("scikit-learn is not installed: pip install 'evovideo[bench]'")
            return 1
        xn = x.numpy()

        def theirs():
            km = KMeans(n_clusters=args.k, max_iter=args.iters, n_init=1, tol=0.0, random_state=args.seed,
                        algorithm="lloyd").fit(xn)
            c = torch.from_numpy(km.cluster_centers_).double() - x.double().mean(0)
            return km, score_clustering(x64, c, torch.from_numpy(km.labels_).long(), args.k, args.s).kl

        secs, (km, kl) = _best(theirs, args.repeats)
        rows.append(("scikit-learn KMeans (lloyd) + same KL", secs, float(km.inertia_), kl, int(km.n_iter_)))
    if not args.no_faiss:
        try:
            import faiss
        except ImportError:
            print("faiss-cpu is not installed: pip install 'evovideo[bench]'")
            return 1
        xn = np.ascontiguousarray(x.numpy())

        def faiss_side():
            km = faiss.Kmeans(args.dim, args.k, niter=args.iters, seed=args.seed + 1, max_points_per_centroid=len(xn),
                              verbose=False)
            km.train(xn)
            dist, labels = km.index.search(xn, 1)
            c = torch.from_numpy(km.centroids).double() - x.double().mean(0)
            return float(dist.sum()), score_clustering(x64, c, torch.from_numpy(labels[:, 0]).long(), args.k, args.s).kl

        secs, (inertia, kl) = _best(faiss_side, args.repeats)
        rows.append((f"faiss-cpu Kmeans {faiss.__version__} (random init) + same KL", secs, inertia, kl, args.iters))
    sk = [r for r in rows if r[0].startswith("scikit-learn")]
    ref = sk[0] if sk else rows[0]
    threads = f"torch threads {torch.get_num_threads()}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}"
    print(f"Zipf fitness: {args.n:,} x {args.dim} features, k={args.k}, {args.iters} iterations, s={args.s}; {threads}")
    print("(CPU seconds: time this process spent on a core; on a shared machine the fairer comparison)")
    print("| method | wall s | CPU s | speed-up (wall / CPU) | iterations | inertia | inertia vs ref | KL to Zipf |")
    print("|---|---|---|---|---|---|---|---|")
    for name, (secs, cpu), inertia, kl, n_iter in rows:
        print(f"| {name} | {secs:.2f} | {cpu:.2f} | {ref[1][0] / secs:.1f}x / {ref[1][1] / cpu:.1f}x | {n_iter} "
              f"| {inertia:.1f} | {100 * (inertia / ref[2] - 1):+.2f}% | {kl:.4f} |")
    return 0
