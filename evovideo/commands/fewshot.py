"""N-way K-shot evaluation of an encoder's frozen features: prototypes and logistic regression.

Features of every video of the meta-test classes are extracted once (progress bar), cached on
disk (keyed by encoder, weights, data and preprocessing) and reused for every shot and episode.
Each shot's episodes are drawn with --seed: the same seed gives the same episodes and numbers.

Examples:
  evovideo fewshot --encoder hf-hub:ORG/NAME --dataset hmdb51 --root /data/HMDB51 --way 5 --shot 1 5
  evovideo fewshot --encoder local-dir:runs/demo/student --dataset synthetic
  evovideo fewshot --encoder r2plus1d_18 --dataset ucf101 --root /data/UCF101 --classes test_classes.txt

--protocol NAME evaluates on a published few-shot split (evovideo/eval/protocols/README.md):
hmdb51-arn, ucf101-arn, kinetics100-cmn, ssv2-100-cmn and ssv2-100-otam ship their meta-test and
meta-val video lists (copied from TRX, provenance and sha256 in that README); --protocol-part
meta_val evaluates on meta-val (choose settings there, report meta-test), --video-list FILE
replaces the shipped list. Listed videos missing under --root are reported by name. A protocol
draws 10,000 episodes unless --episodes says otherwise.
  evovideo fewshot --encoder hf-hub:ORG/NAME --protocol hmdb51-arn --root /data/HMDB51
  evovideo fewshot --encoder hf-hub:ORG/NAME --protocol kinetics100-cmn --root /data/kinetics100 --protocol-part meta_val

Support and query of an episode never come from one source video (UCF101 group, HMDB51 title).

--probes adds kNN and linear-probe accuracy on the official split (train list -> test list, all
classes), from features extracted and cached the same way.

Meta-test classes: --classes FILE (one class name per line), or a seeded random choice of
--num-classes (default: 10 for HMDB51 and 21 for UCF101, the sizes of the usual few-shot test
splits; every class for class-folders/synthetic).  Results: a table (mean accuracy ± 95% CI over
episodes), results.json and fewshot.png in --out.
"""
from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from evovideo.commands.common import add_backend_argument, add_renamed, renamed_values

DEFAULT_TEST_CLASSES = {"hmdb51": 10, "ucf101": 21}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from evovideo.eval.videos import EVAL_DATASETS

    p = parser.add_argument
    p("--encoder", required=True,
      help="registry name (random init), hf-hub:ORG/NAME, local-dir:/path or a zoo entry arch.tag")
    p("--revision", help="Hub revision (branch, tag or commit) for hf-hub: encoders")
    p("--dataset", choices=EVAL_DATASETS, default=None, type=renamed_values({"folder": "class-folders"}, "--dataset"),
      help="hmdb51/ucf101: official layouts; class-folders: root/<class>/<videos>; synthetic: built-in "
           "(default; with --protocol: the protocol's dataset)")
    p("--root", help="dataset root folder (not needed for synthetic)")
    p("--videos-per-class", type=int, default=20, help="synthetic only: videos rendered per class (default 20)")
    p("--data-seed", type=int, default=0,
      help="synthetic only: the seed that renders the videos (default 0), from the set's evaluation seed stream: "
           "never a clip any pretraining run rendered, whatever its seed")
    p("--split", type=int, default=1, help="official split whose class list is read (ucf101/hmdb51)")
    p("--way", type=int, default=5, help="classes per episode (default 5)")
    p("--shot", type=int, nargs="+", default=[1, 5], help="support videos per class; several allowed (default 1 5)")
    p("--query", type=int, default=15, help="query videos per class and episode (default 15)")
    p("--episodes", type=int, default=None,
      help="episodes per shot (default 1000, 95%% CI ~ ±1 point; with --protocol 10000)")
    p("--seed", type=int, default=0, help="seeds the episodes and the random class split")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--classes", help="file with the meta-test class names, one per line")
    group.add_argument("--num-classes", type=int, help="seeded random choice of this many meta-test classes")
    group.add_argument("--protocol", help="a published split: hmdb51-arn, ucf101-arn, kinetics100-cmn, ssv2-100-cmn, "
                                          "ssv2-100-otam (classes and videos; see evovideo/eval/protocols/README.md)")
    p("--protocol-part", choices=("meta_test", "meta_val"), default="meta_test",
      help="with --protocol: the shipped list evaluated (default meta_test; choose settings on meta_val)")
    p("--video-list", help="with --protocol: a '<class>/<video>' list replacing the shipped one (e.g. a newer "
                           "published file); listed videos missing under --root are reported by name")
    p("--clips", type=int, default=1, help="temporal clips per video, features averaged (default 1)")
    p("--crops", type=int, default=1, help="spatial crops per clip, features averaged (default 1)")
    p("--frame-rate", type=float, default=None,
      help="nominal fps at which clips are sampled (default: the encoder's, from its weights' clip contract; "
           "25 for weights saved without one)")
    p("--batch-size", type=int, default=8)
    p("--loader-workers", type=int, default=0, help="DataLoader worker processes for decoding (default 0)")
    add_renamed(parser, "--workers", "--loader-workers")
    p("--device", default="cpu", help="cpu, cuda, cuda:1 ...")
    add_backend_argument(parser)
    p("--cache-dir", default=None, help="feature cache folder (default ~/.cache/evovideo/features)")
    p("--no-cache", action="store_true", help="always extract features, never read or write the cache")
    p("--probes", action="store_true",
      help="also kNN (cosine, k=20, T=0.07) and a linear probe: train list -> test list of --split, all classes; "
           "the probe's C is chosen on 20%% of the train list (whole source videos), never on test")
    p("--out", help="output folder (default runs/fewshot/<encoder>-<dataset>)")


def run(args: argparse.Namespace) -> int:
    import torch

    from evovideo.factory import load_encoder
    from evovideo.eval.episodes import random_class_split, read_class_split
    from evovideo.eval.features import DEFAULT_CACHE_DIR
    from evovideo.eval.pipeline import fewshot_eval, probe_eval
    from evovideo.eval.videos import dataset_classes

    selection = _protocol(args)  # also resolves args.dataset and args.episodes
    torch.manual_seed(args.seed)  # a registry name is a random init: same seed, same weights, same numbers
    encoder = load_encoder(args.encoder, revision=args.revision)
    names = dataset_classes(args.dataset, args.root, args.split)
    if selection is not None:
        test_classes, source = selection.classes, f"protocol {args.protocol} {selection.part}: {selection.video_list}"
    elif args.classes:
        test_classes = read_class_split(args.classes, names)
        source = f"from {args.classes}"
    else:
        n = args.num_classes or DEFAULT_TEST_CLASSES.get(args.dataset, len(names))
        test_classes = random_class_split(names, min(n, len(names)), seed=args.seed) if n < len(names) else list(names)
        source = f"seeded random split (seed {args.seed})" if n < len(names) else "all classes"
    cache_dir = None if args.no_cache else (args.cache_dir or DEFAULT_CACHE_DIR)
    out = Path(args.out or Path("runs") / "fewshot" / f"{_slug(args.encoder)}-{args.dataset}")
    print(f"meta-test classes: {len(test_classes)} of {len(names)} ({source})")
    results, fs = fewshot_eval(
        encoder, args.dataset, root=args.root, split=args.split, classes=test_classes, way=args.way,
        shots=args.shot, query=args.query, episodes=args.episodes, seed=args.seed, clips=args.clips,
        crops=args.crops, frame_rate=args.frame_rate, batch_size=args.batch_size, workers=args.loader_workers,
        device=args.device, cache_dir=cache_dir, synthetic=_synthetic(args), backend=args.backend,
        video_keys=selection.video_keys if selection else None,
    )
    print(format_table({args.encoder: results}))
    extra = {"protocol": selection.describe()} if selection else {}
    if args.probes:
        probes = extra["probes"] = probe_eval(encoder, args.dataset, root=args.root, split=args.split, clips=args.clips,
                            crops=args.crops, frame_rate=args.frame_rate, batch_size=args.batch_size,
                            workers=args.loader_workers, device=args.device, cache_dir=cache_dir, synthetic=_synthetic(args),
                            backend=args.backend)
        print(f"split {args.split}: {probes['train_videos']} train -> {probes['test_videos']} test videos, "
              f"all classes:  kNN {probes['knn']:.2f}   linear probe {probes['linear']:.2f} (C={probes['C']:g}, "
              "chosen on held-out train videos)")
    write_results(out, {args.encoder: results}, features=fs,
                  config=vars(args) | {"test_classes": test_classes}, extra=extra)
    print(f"results: {out / 'results.json'}   plot: {out / 'fewshot.png'}")
    return 0


def format_table(runs: dict) -> str:
    """One row per (run, shot): mean accuracy ± 95% CI of each classifier."""
    first = next(iter(runs.values()))[0]
    classifiers = list(first.accuracies)
    width = max(len("encoder"), *(len(k) for k in runs))
    lines = [f"{first.way}-way, {first.query} queries/class, {first.episodes} episodes, seed {first.seed}",
             f"{'encoder':<{width}}  shot  " + "  ".join(f"{c:>14}" for c in classifiers)]
    for label, results in runs.items():
        for r in results:
            cells = "  ".join(f"{str(r.summary[c]):>14}" for c in classifiers)
            lines.append(f"{label:<{width}}  {r.shot:>4}  {cells}")
    return "\n".join(lines)


def write_results(out: Path, runs: dict, *, features=None, config: dict | None = None,
                  extra: dict | None = None) -> None:
    """results.json (per run and shot: mean, ci95; plus ``extra``) and fewshot.png in ``out``."""
    from evovideo.eval.plots import plot_accuracy_vs_shots

    out.mkdir(parents=True, exist_ok=True)
    payload = {"config": config or {}, "results": {k: [r.to_dict() for r in v] for k, v in runs.items()}}
    if features is not None:
        payload["features"] = {"videos": len(features), "dim": int(features.features.shape[1]),
                               **{k: v for k, v in features.meta.items() if k != "views"}}
    payload.update(extra or {})
    (out / "results.json").write_text(json.dumps(payload, indent=2, default=str))
    plot_accuracy_vs_shots(runs, out / "fewshot.png")


def _protocol(args: argparse.Namespace):
    """The protocol's classes and videos (None without --protocol); fills in --dataset and --episodes."""
    if args.protocol is None:
        if args.video_list or args.protocol_part != "meta_test":
            raise ValueError("--video-list and --protocol-part need --protocol (the published split they belong to)")
        args.dataset, args.episodes = args.dataset or "synthetic", args.episodes or 1000
        return None
    from evovideo.eval.protocols import PROTOCOL_EPISODES, PROTOCOLS, select_protocol
    from evovideo.eval.videos import dataset_records

    if args.protocol not in PROTOCOLS:
        raise ValueError(f"--protocol '{args.protocol}': unknown; known: {', '.join(PROTOCOLS)}")
    want = PROTOCOLS[args.protocol].dataset
    if args.dataset not in (None, want):
        raise ValueError(f"--protocol {args.protocol} reads --dataset {want}, not '{args.dataset}'")
    if not args.root:
        raise ValueError(f"--protocol {args.protocol} needs --root (the {want} dataset folder)")
    args.dataset, args.episodes = want, args.episodes or PROTOCOL_EPISODES
    selection = select_protocol(args.protocol, dataset_records(want, args.root, args.split, every_clip=True)[0],
                                video_list=args.video_list, part=args.protocol_part)
    if selection.missing:
        shown = ", ".join(selection.missing[:20])
        print(f"missing: {len(selection.missing)} listed video(s) are not under {args.root}: {shown}"
              f"{' ...' if len(selection.missing) > 20 else ''} (all in results.json)")
    return selection


def _synthetic(args: argparse.Namespace):
    if args.dataset != "synthetic":
        return None
    from evovideo.data.synthetic import SyntheticVideos

    return SyntheticVideos(num_videos_per_class=args.videos_per_class, seed=args.data_seed, stream="eval")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")[:80]
