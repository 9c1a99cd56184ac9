"""Few-shot evaluation cost: 1,000 episodes of 5-way 1/5-shot on cached features vs extracting them.

Extracts the features of every video once (timed, no cache), then times sampling and classifying
the episodes of each shot with each classifier (prototypes, batched logistic regression), and
the same logistic regression done the usual way (scikit-learn, one episode at a time) on a few
episodes, extrapolated.  Target: all episodes cost < 5% of the extraction.

  evovideo bench fewshot                                     # r2plus1d_18 on 200 synthetic videos
  evovideo bench fewshot --encoder test_r2plus1d --videos-per-class 20
  evovideo bench fewshot --dataset hmdb51 --root /data/HMDB51 --device cuda
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from evovideo.eval.videos import EVAL_DATASETS

    p = parser.add_argument
    p("--encoder", default="r2plus1d_18", help="registry name, hf-hub:, local-dir: or arch.tag (default r2plus1d_18)")
    p("--dataset", choices=EVAL_DATASETS, default="synthetic")
    p("--root", help="dataset root (not for synthetic)")
    p("--videos-per-class", type=int, default=20, help="synthetic: videos per class (default 20)")
    p("--num-classes", type=int, default=10, help="synthetic: motion classes (default 10)")
    p("--way", type=int, default=5)
    p("--shot", type=int, nargs="+", default=[1, 5])
    p("--query", type=int, default=15)
    p("--episodes", type=int, default=1000)
    p("--sklearn-episodes", type=int, default=50, help="episodes timed with scikit-learn (0: skip)")
    p("--batch-size", type=int, default=8)
    p("--loader-workers", type=int, default=0, help="DataLoader worker processes (default 0)")
    p("--device", default="cpu")
    p("--json", help="also write the figures to this JSON file")


def run(args: argparse.Namespace) -> int:
    import torch

    from evovideo.factory import load_encoder
    from evovideo.eval.episodes import sample_episodes
    from evovideo.eval.fewshot import classify_episodes
    from evovideo.eval.pipeline import video_features

    synthetic = None
    if args.dataset == "synthetic":
        from evovideo.data.synthetic import SyntheticVideos

        synthetic = SyntheticVideos(num_videos_per_class=args.videos_per_class, num_classes=args.num_classes)
    encoder = load_encoder(args.encoder)
    fs = video_features(encoder, args.dataset, root=args.root, batch_size=args.batch_size, workers=args.loader_workers,
                        device=args.device, cache_dir=None, synthetic=synthetic)
    extract = fs.meta["extract_seconds"]
    rows, total = [], 0.0
    for shot in args.shot:
        t0 = time.perf_counter()
        eps = sample_episodes(fs.labels, way=args.way, shot=shot, query=args.query, episodes=args.episodes, seed=0)
        sample_s = time.perf_counter() - t0
        total += sample_s
        rows.append((shot, "sampling", sample_s, None))
        for clf in ("prototypes", "logreg"):
            t0 = time.perf_counter()
            acc = classify_episodes(fs.features, eps, clf)
            sec = time.perf_counter() - t0
            total += sec
            rows.append((shot, clf, sec, acc.mean().item()))
        if args.sklearn_episodes:
            rows.append((shot, "logreg (scikit-learn, per episode)", _sklearn_seconds(fs.features, eps, args.sklearn_episodes)
                         * args.episodes / args.sklearn_episodes, None))
    device = torch.cuda.get_device_name() if args.device.startswith("cuda") else f"CPU, {torch.get_num_threads()} thread(s)"
    print(f"\nencoder {args.encoder}, {args.dataset}: {len(fs)} videos, {fs.features.shape[1]}-d features ({device})")
    print(f"feature extraction: {extract:8.2f} s  ({1000 * extract / len(fs):.1f} ms/video)")
    print(f"{'shot':>4}  {'step':<36} {'seconds':>8} {'% of extraction':>16}  acc")
    for shot, step, sec, acc in rows:
        print(f"{shot:>4}  {step:<36} {sec:8.3f} {100 * sec / extract:15.2f}%  {'' if acc is None else f'{acc:.1f}'}")
    ratio = 100 * total / extract
    print(f"all {args.episodes} x {len(args.shot)} shot settings (ours): {total:.2f} s = {ratio:.2f}% of extraction "
          f"-> target < 5%: {'met' if ratio < 5 else 'NOT met'}")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "encoder": args.encoder, "dataset": args.dataset, "videos": len(fs), "dim": int(fs.features.shape[1]),
            "device": device, "extract_seconds": extract, "episodes": args.episodes, "total_seconds": total,
            "percent_of_extraction": ratio,
            "rows": [{"shot": s, "step": st, "seconds": sec, "accuracy": a} for s, st, sec, a in rows],
        }, indent=2))
    return 0


def _sklearn_seconds(features, eps, n: int) -> float:
    """Seconds for ``n`` episodes of scikit-learn LogisticRegression, one episode at a time."""
    import torch.nn.functional as F
    from sklearn.linear_model import LogisticRegression

    x = F.normalize(features.float(), dim=-1).numpy()
    t0 = time.perf_counter()
    for e in range(min(n, eps.num_episodes)):
        sup, qry = eps.support[e].flatten().numpy(), eps.query[e].flatten().numpy()
        clf = LogisticRegression(C=1.0, max_iter=100).fit(x[sup], eps.support_labels()[e].numpy())
        clf.predict(x[qry])
    return time.perf_counter() - t0
