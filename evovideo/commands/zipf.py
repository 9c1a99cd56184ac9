"""Score any encoder without labels: the Zipf fitness of its features on a set of videos.

k-means (k clusters) on the encoder's L2-normalised pooled features, soft assignment, cluster
masses sorted, KL to a Zipf prior q(i) ~ i^-s, with the structure guard (random or collapsed
features move to the worst score; see evovideo.evolution.zipf).  Lower is better: 0 = masses
exactly Zipf; log H(k,s) = everything in one cluster (a collapsed encoder).  The videos must be
naturally long-tailed (as the paper assumes); for a class-balanced set use --fit-s or --s 0.  With labelled data, --knn also
prints the leave-one-out kNN accuracy, so the label-free score can be compared with a labelled one.

Examples:
  evovideo zipf --encoder local-dir:runs/demo/student --dataset synthetic
  evovideo zipf --encoder hf-hub:ORG/NAME --dataset folder --root /data/unlabeled_clips --k 100
  evovideo zipf --encoder r2plus1d_18 --dataset hmdb51 --root /data/HMDB51 --k 51 --knn

Datasets: synthetic (built in, no files), folder (every video under --root, recursive, unlabeled),
class-folders (root/<class>/<video>, labelled), ucf101 / hmdb51 (official layouts, every video of
the split's lists).  Videos are preprocessed as the encoder expects (its clip contract: frames,
stride, frame rate, resize, size, mean/std); one centre clip per video.
Choose k near the number of classes you expect and well below the number of videos.
"""
from __future__ import annotations

import argparse
import json
import math
import re
from pathlib import Path

from evovideo.commands.common import add_backend_argument, add_renamed

DATASETS = ("synthetic", "folder", "class-folders", "ucf101", "hmdb51")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    p = parser.add_argument
    p("--encoder", required=True, help="registry name (random init), hf-hub:ORG/NAME, local-dir:/path or arch.tag")
    p("--revision", help="Hub revision for hf-hub: encoders")
    p("--dataset", choices=DATASETS, default="synthetic",
      help="which videos (default: synthetic); folder: every video under --root, unlabeled; class-folders: "
           "root/<class>/<video>, labelled")
    add_renamed(parser, "--data", "--dataset")
    p("--root", help="dataset root folder (folder/class-folders/ucf101/hmdb51)")
    p("--split", type=int, default=1, help="ucf101/hmdb51: which official split's lists (default 1)")
    p("--videos-per-class", type=int, default=20, help="synthetic: videos rendered per class (default 20)")
    p("--k", type=int, help="clusters (default: the number of classes for labelled data, else 100)")
    p("--s", type=float, default=1.0,
      help="Zipf exponent (default 1.0).  The set must be naturally long-tailed: for a class-balanced one "
           "(e.g. Kinetics val) use --fit-s (labelled data) or --s 0")
    p("--fit-s", action="store_true", help="labelled data: fit s to the set's class counts (a balanced set gives 0)")
    p("--no-guard", action="store_true", help="score = the KL alone, without the structure guard")
    p("--paper", action="store_true", help="the paper's exact definition: tau=1, raw features, no guard")
    p("--iters", type=int, default=20, help="k-means iterations (default 20)")
    p("--temperature", type=float, help="soft-assignment temperature (default: automatic, inertia / N)")
    p("--seed", type=int, default=0, help="seeds k-means and the random initialisation of a registry-name encoder "
                                          "(so the same command gives the same score)")
    p("--precision", choices=("auto", "float32", "bfloat16", "int8"), default="auto",
      help="k-means matmul precision: auto (default: int8 only on CPUs with AVX512-VNNI/AMX, where it is the "
           "fastest; bfloat16 on GPUs and AVX512-BF16 CPUs; else float32: int8 measured 0.15x of scikit-learn "
           "on an AVX2-only CPU), or one of them; the soft assignment is float64 (see 'evovideo bench zipf')")
    p("--knn", action="store_true", help="also print leave-one-out kNN accuracy (labelled data only)")
    p("--frame-rate", type=float, default=None,
      help="nominal fps at which clips are sampled (default: the encoder's, from its weights' clip contract; "
           "25 for weights saved without one)")
    p("--batch-size", type=int, default=8)
    p("--loader-workers", type=int, default=0, help="DataLoader worker processes (default 0)")
    add_renamed(parser, "--workers", "--loader-workers")
    p("--device", default="cpu", help="cpu, cuda, ...")
    add_backend_argument(parser)
    p("--out", help="folder for zipf.json and rank_size.png (default runs/zipf/<encoder>-<data>)")


def _videos(args: argparse.Namespace, encoder):
    """(dataset, number of classes or None) preprocessed for ``encoder``."""
    from evovideo.data import ClipDataset, SampleBuilder
    from evovideo.data.splits import scan_folder
    from evovideo.eval.videos import labelled_videos

    if args.dataset == "folder":
        if not args.root:
            raise SystemExit("--dataset folder needs --root (a folder of video files, searched recursively)")
        builder = SampleBuilder.for_encoder(encoder.input_config, frame_rate=args.frame_rate)
        return ClipDataset(scan_folder(args.root), builder, train=False, backend=args.backend), None
    synthetic = None
    if args.dataset == "synthetic":
        from evovideo.data.synthetic import SyntheticVideos

        synthetic = SyntheticVideos(num_videos_per_class=args.videos_per_class)
    src = labelled_videos(args.dataset, encoder, root=args.root, split=args.split, frame_rate=args.frame_rate,
                          synthetic=synthetic, backend=args.backend)
    return src.dataset, len(src.class_names)


def run(args: argparse.Namespace) -> int:
    from torch.utils.data import DataLoader

    from evovideo.data import collate
    from evovideo.factory import load_encoder
    from evovideo.eval.features import extract_features
    from evovideo.evolution import knn_accuracy, zipf_fitness, zipf_prior
    from evovideo.evolution.zipf import PAPER, fit_zipf_exponent
    from evovideo.evolution.plots import plot_rank_size

    import torch

    if args.k is not None and args.k < 2:
        raise SystemExit(f"--k {args.k}: the Zipf fitness needs k >= 2 clusters")
    torch.manual_seed(args.seed)  # a registry name is a random initialisation: the same one every run
    encoder = load_encoder(args.encoder, revision=args.revision)
    dataset, classes = _videos(args, encoder)
    k = args.k or classes or 100
    videos = len(dataset.records)  # known before any feature is extracted
    if k > videos:
        raise SystemExit(f"--k {k}{'' if args.k else ' (the default)'} is more clusters than the {videos} videos of "
                         f"--dataset {args.dataset}; give --k at most {videos} (about the number of classes you expect)")
    loader = DataLoader(dataset, batch_size=args.batch_size, num_workers=args.loader_workers, collate_fn=collate)
    fs = extract_features(encoder, loader, modality=encoder.input_config.modality, device=args.device,
                          total=len(loader), desc="features")
    if args.fit_s:
        if classes is None or bool((fs.labels < 0).any()):
            raise SystemExit("--fit-s needs labelled data (ucf101, hmdb51, synthetic); else pass --s")
        args.s = fit_zipf_exponent(torch.bincount(fs.labels.long()))
    extra = dict(PAPER) if args.paper else {"temperature": args.temperature, "guard": not args.no_guard}
    z = zipf_fitness(fs.features, k=k, s=args.s, iters=args.iters, seed=args.seed, precision=args.precision, **extra)
    worst = -math.log(float(zipf_prior(k, args.s)[0]))
    print(f"{args.encoder} on {args.dataset}: {len(fs)} videos, features {fs.features.shape[1]}-d")
    print(f"Zipf fitness = {z.score:.4f}   (k={k}, s={args.s:g}; 0 = Zipf masses, {worst:.3f} = collapsed; lower is better)")
    print(f"  KL(p||q) = {z.kl:.4f}, structure g = {z.structure:.3f} (explained variance {z.explained:.3f}, "
          f"centroid effective rank {z.centroid_rank:.1f} of {k - 1})")
    print(f"cluster masses (sorted): {' '.join(f'{float(m):.3f}' for m in z.masses[:10])}{' ...' if k > 10 else ''}")
    report = {"encoder": args.encoder, "data": args.dataset, "videos": len(fs), "k": k, "s": args.s, "zipf_score": z.score, "zipf_kl": z.kl, "structure": z.structure,
              "zipf_kl_worst": worst, "masses": [float(m) for m in z.masses], "temperature": z.temperature,
              "clusters_found": z.clusters_found, "precision": args.precision}
    if args.knn:
        if classes is None or bool((fs.labels < 0).any()):
            raise SystemExit("--knn needs labelled data: use --data synthetic, ucf101 or hmdb51")
        acc = knn_accuracy(fs.features, fs.labels)
        report["knn_accuracy"] = acc
        print(f"leave-one-out kNN accuracy = {100 * acc:.1f}%   (labelled comparison; higher is better)")
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{args.encoder}-{args.dataset}").strip("_")[:80]
    out = Path(args.out or Path("runs") / "zipf" / slug)
    out.mkdir(parents=True, exist_ok=True)
    (out / "zipf.json").write_text(json.dumps(report, indent=2))
    png = plot_rank_size(z.masses.tolist(), args.s, out / "rank_size.png", title=args.encoder[-40:])
    print(f"results: {out / 'zipf.json'}   plot: {png}")
    return 0
