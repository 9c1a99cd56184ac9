"""Does the label-free fitness rank an evolution's candidates as labels do?  Every candidate of a
finished run, re-scored on held-out clips, on a long-tailed set (the paper's premise) and a balanced one.

For every student an evolution saved (``<run>/candidates/<id>/steps<N>/.../student``, one per rung it
reached), the features of ``--videos-per-class`` clips per class rendered with ``--data-seed``
(default 1: clips no candidate trained or was scored on), or of every video of ``--dataset
class-folders|ucf101|hmdb51 --root DIR`` (e.g. a ``bench motion-set`` of footage the run never saw), then

  labelled   5-way 5-shot prototype accuracy (``--episodes`` episodes) and leave-one-out kNN accuracy,
             both on the balanced set; never seen by any fitness
  fitness    each variant of :func:`variants` (and the shipped score's parts, ``COMPONENTS``) on the long-tailed subset (class c keeps its first
             ``round(m (c + 1) ** -s)`` clips, s = ``--long-tail``; prior exponent s) and on the
             balanced set (prior exponent 0, matched), ``--restarts`` k-means seeds averaged

and, per rung (and over "all students": the last rung plus ``--also`` students, e.g. the full-length
runs of ``evovideo bench evolution``, which spread the labelled measure wider), Spearman's rho between -fitness and each labelled measure over the candidates (two-sided
permutation p).  The score the run selected with (``results.jsonl``) is correlated too.  Table to
stdout, figures to ``<run>/validity.json``, scatter plots to ``<run>/plots/validity.png`` (Zipf) and
``validity_agreement.png``.  The agreement fitness's reference is the flow of the same clips (``--flow-method``).

  evovideo bench validity --run runs/evolve/demo_synthetic
  evovideo bench validity --run runs/evolve/demo_synthetic --also runs/bench/evolution/runs/*
  evovideo bench validity --run runs/evolve/motion_folder --dataset class-folders --root data/motion/eval/UCF-101 --k 8
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from evovideo.bench import labelled

SETS = ("long-tailed", "balanced")
AGREEMENT = "agreement (ARI with the clusters of the clips' flow HOF)"  # the shipped search's fitness, plotted too


def add_arguments(parser: argparse.ArgumentParser) -> None:
    p = parser.add_argument
    p("--run", required=True, help="output folder of an `evovideo evolve` run (or, with --also only, where the "
                                   "figures go)")
    labelled.add_arguments(parser)
    p("--data-seed", type=int, default=1, help="synthetic: render seed of the held-out clips (default 1)")
    p("--videos-per-class", type=int, default=40, help="synthetic: clips per class of the balanced set (default 40)")
    p("--long-tail", type=float, default=1.0, help="Zipf exponent of the long-tailed subset (default 1)")
    p("--k", type=int, default=10, help="clusters of the Zipf fitness (default 10 = the classes)")
    p("--restarts", type=int, default=5, help="k-means seeds averaged per score (default 5)")
    p("--episodes", type=int, default=300, help="5-way 5-shot episodes per candidate (default 300)")
    p("--query", type=int, default=15, help="query clips per class and episode (default 15)")
    p("--flow-method", default="tvl1", choices=("tvl1", "farneback", "dis"),
      help="optical flow of the agreement fitness's reference (default tvl1, as the pretraining data's default)")
    p("--also", nargs="*", default=[], metavar="DIR",
      help="more students to rank with the candidates (e.g. the full-length runs of `evovideo bench evolution`: "
           "runs/bench/evolution/runs/*): each folder holding a .../student is one encoder, in group 'also'")


def variants(k: int, restarts: int) -> dict[str, Any]:
    """{name: (s -> fitness)}: the shipped Zipf fitness and what each of its choices does."""
    from evovideo.evolution import FITNESS
    from evovideo.evolution.zipf import PAPER

    def zipf(**kw: Any) -> Any:
        return lambda s: FITNESS.create("zipf", s=s, restarts=restarts, **{"k": k, **kw})

    return {
        "zipf (guarded, default)": zipf(),
        "zipf, k = 2x": zipf(k=2 * k),
        "zipf, KL alone (no guard)": zipf(guard=False),
        "zipf, paper (tau=1, raw, no guard)": zipf(**PAPER),
        "zipf, raw features (not L2-normalised)": zipf(normalize=False),
        "gap (explained variance over a same-spectrum null)": lambda s: FITNESS.create("gap", k=k, restarts=restarts),
        AGREEMENT: lambda s: FITNESS.create("agreement", k=k, restarts=restarts),
    }


def clip_reference(clips: Any, clip: Any, kind: str, flow_method: str = "tvl1") -> Any:
    """The ``kind`` reference descriptor (e.g. flow HOF) of every clip of a synthetic set, or of every video
    of a list of :class:`~evovideo.data.splits.VideoRecord` (in the order the features read them), at the
    students' clip contract, eval views (the features of :func:`evovideo.evolution.agreement.reference_features`)."""
    from torch.utils.data import DataLoader

    from evovideo.data import ClipDataset, InMemoryClipDataset, SampleBuilder, collate
    from evovideo.evolution.agreement import reference_features, reference_modality
    from evovideo.modalities import FlowSettings

    builder = SampleBuilder(clip, modalities=(reference_modality(kind),), train=False, flow=FlowSettings(flow_method))
    if isinstance(clips, list):
        ds = ClipDataset(clips, builder, train=False)
    else:
        ds = InMemoryClipDataset(clips, builder, labels=[clips.label(i) for i in range(len(clips))],
                                 names=[clips.name(i) for i in range(len(clips))], train=False)
    return reference_features(kind, DataLoader(ds, batch_size=16, collate_fn=collate))


# Parts of the shipped score (its guard), correlated on their own: which part carries the ranking.
# Stored negated, so that lower is better as for every fitness.
COMPONENTS = {"guard g alone (explained x spread)": "structure", "explained variance alone": "explained"}


def students(run: Path) -> list[tuple[str, int, Path]]:
    """(candidate id, steps, student folder) of every rung of every candidate of a run; a search with
    several training seeds per candidate (``candidate_seeds``) gives one student per seed, ``<id>/seed<s>``."""
    out = []
    for rung in sorted(Path(run, "candidates").glob("*/steps*")):
        if not rung.name[5:].isdigit():
            continue
        for sub in sorted(p for p in rung.glob("seed*") if p.is_dir()) or [rung]:
            found = sorted(sub.glob("**/student"))  # Lightning's logs/version_N/student
            if found:
                cid = rung.parent.name if sub == rung else f"{rung.parent.name}/{sub.name}"
                out.append((cid, int(rung.name[5:]), found[-1]))
    return out


def extra_students(folders: list[str]) -> list[tuple[str, str, Path]]:
    """(folder name, "also", student folder) for every given folder that holds a saved student."""
    out = []
    for folder in folders:
        found = sorted(Path(folder).glob("**/student"))
        if found:
            out.append((Path(folder).name, "also", found[-1]))
    return out


def run_scores(run: Path) -> dict[tuple[str, int], float]:
    """(id, steps) -> the fitness score the run selected with."""
    from evovideo.evolution.results import read_results

    path = Path(run, "results.jsonl")
    return {(r["id"], r["steps"]): r["score"] for r in read_results(path)[1]} if path.exists() else {}


def measure(run: Path, args: argparse.Namespace) -> list[dict[str, Any]]:
    import torch

    from evovideo.data import long_tailed
    from evovideo.data.synthetic import SyntheticVideos
    from evovideo.eval.fewshot import evaluate_fewshot
    from evovideo.eval.pipeline import video_features
    from evovideo.eval.videos import EVAL_DATASETS, dataset_records
    from evovideo.evolution.knn import knn_accuracy
    from evovideo.factory import load_encoder

    if args.dataset not in EVAL_DATASETS:
        raise ValueError(f"--dataset {args.dataset} is not a labelled set; choose from {', '.join(EVAL_DATASETS)}")
    if args.dataset == "synthetic":
        clips = SyntheticVideos(num_videos_per_class=args.videos_per_class, seed=args.data_seed, stream="eval")
    elif not args.root or not Path(args.root).is_dir():
        raise ValueError(f"--dataset {args.dataset} needs --root, an existing folder (got {args.root!r})")
    else:  # the videos in the order video_features reads them (the reference must cover the same clips)
        clips = dataset_records(args.dataset, args.root, args.split)[0]
    in_run = run_scores(run)
    fits = variants(args.k, args.restarts)
    rows, refs = [], {}
    for cid, steps, path in [*students(run), *extra_students(args.also)]:
        torch.manual_seed(0)
        encoder = load_encoder(f"local-dir:{path}")
        fs = video_features(encoder, args.dataset, root=args.root, split=args.split,
                            synthetic=None if isinstance(clips, list) else clips, cache_dir=None, progress=False)
        tail = torch.tensor(long_tailed(list(range(len(fs.labels))), fs.labels.tolist(), args.long_tail))
        sets = {"long-tailed": (tail, args.long_tail), "balanced": (torch.arange(len(fs.labels)), 0.0)}
        (shot5,) = evaluate_fewshot(fs.features, fs.labels, way=5, shots=(5,), query=args.query, episodes=args.episodes, seed=0,
                                    classifiers=("prototypes",))
        row = {"id": cid, "steps": steps, "run_score": in_run.get((cid.split("/")[0], steps)),  # a seed: its candidate's
               "fewshot5": shot5.summary["prototypes"].mean, "knn": 100 * knn_accuracy(fs.features, fs.labels),
               "fitness": {}}
        for name, make in fits.items():
            kind = getattr(make(0.0), "reference", None)
            if kind is not None and (kind, encoder.input_config.clip) not in refs:  # the same clips' other modality
                refs[kind, encoder.input_config.clip] = clip_reference(clips, encoder.input_config.clip, kind,
                                                                      args.flow_method)
            ref = refs[kind, encoder.input_config.clip] if kind is not None else None
            if ref is not None and ref.names != fs.names:
                raise RuntimeError(f"the '{kind}' reference and {cid}'s features cover different clips")
            ref = ref.features if ref is not None else None
            results = {s: make(sv)(fs.features[i], **({"reference": ref[i]} if kind else {}))
                       for s, (i, sv) in sets.items()}
            row["fitness"][name] = {s: r.score for s, r in results.items()}
            if name == "zipf (guarded, default)":
                for part, metric in COMPONENTS.items():
                    row["fitness"][part] = {s: -r.metrics[metric] for s, r in results.items()}
        rows.append(row)
        print(f"{cid} ({steps}): 5-shot {row['fewshot5']:.1f}  kNN {row['knn']:.1f}  "
              + "  ".join(f"{s} {row['fitness']['zipf (guarded, default)'][s]:.3f}" for s in SETS), flush=True)
    return rows


def student_groups(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """One group per rung of the run ("153 steps", ...); with extra students, "all students": the run's
    last rung and the extra students together."""
    rungs = sorted({r["steps"] for r in rows if r["steps"] != "also"})
    out = {f"{n} steps": [r for r in rows if r["steps"] == n] for n in rungs}
    if any(r["steps"] == "also" for r in rows):
        out["all students"] = [r for r in rows if r["steps"] in (rungs[-1] if rungs else None, "also")]
    return out


def correlations(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per group of students, fitness variant and set: Spearman of -fitness vs 5-shot and vs kNN accuracy."""
    from evovideo.evolution.validity import spearman

    out = []
    for group, members in student_groups(rows).items():
        scores = {("the run's own score", "its fitness set"): [r.get("run_score") for r in members]}
        for name in members[0]["fitness"]:
            for s in SETS:
                scores[(name, s)] = [r["fitness"][name][s] for r in members]
        for (name, s), vals in scores.items():
            if any(v is None for v in vals):
                continue
            neg = [-v for v in vals]
            (r5, p5) = spearman(neg, [r["fewshot5"] for r in members])
            (rk, pk) = spearman(neg, [r["knn"] for r in members])
            out.append({"students": group, "fitness": name, "set": s, "n": len(members),
                        "rho_fewshot5": r5, "p_fewshot5": p5, "rho_knn": rk, "p_knn": pk})
    return out


def format_table(corr: list[dict[str, Any]]) -> str:
    lines = ["| students | fitness | scored on | ρ vs 5-shot (p) | ρ vs kNN (p) | n |", "|---|---|---|---|---|---|"]
    for c in corr:
        lines.append(f"| {c['students']} | {c['fitness']} | {c['set']} | {c['rho_fewshot5']:+.2f} ({c['p_fewshot5']:.3f}) "
                     f"| {c['rho_knn']:+.2f} ({c['p_knn']:.3f}) | {c['n']} |")
    return "\n".join(lines)


def plot(rows: list[dict[str, Any]], corr: list[dict[str, Any]], path: Path, name: str = "zipf (guarded, default)") -> Any:
    from evovideo.evolution.plots import _save, plt

    fig, axes = plt.subplots(1, len(SETS), figsize=(10, 4), sharey=True)
    for ax, s in zip(axes, SETS):
        for group, members in student_groups(rows).items():
            c = next(c for c in corr if c["students"] == group and c["fitness"] == name and c["set"] == s)
            ax.scatter([r["fitness"][name][s] for r in members], [r["fewshot5"] for r in members], s=16,
                       label=f"{group}: ρ={c['rho_fewshot5']:+.2f} (p={c['p_fewshot5']:.2f}, n={c['n']})")
        ax.set_xlabel(f"{name.split(' (')[0]} fitness on the {s} set (lower is better)")
        ax.legend(fontsize=7)
    axes[0].set_ylabel("5-way 5-shot accuracy % (balanced held-out set)")
    fig.suptitle("fitness validity: every candidate of the run")
    return _save(fig, path)


def run(args: argparse.Namespace) -> int:
    run_dir = Path(args.run)
    if not students(run_dir) and not extra_students(args.also):
        raise SystemExit(f"{run_dir} has no candidate students (candidates/<id>/steps<N>/.../student) and --also "
                         "names none: give the output folder of a finished `evovideo evolve` run, or students with "
                         "--also (the figures are then written to --run)")
    run_dir.mkdir(parents=True, exist_ok=True)
    rows = measure(run_dir, args)
    corr = correlations(rows)
    (run_dir / "validity.json").write_text(json.dumps({"settings": {k: v for k, v in vars(args).items() if not callable(v)},
                                                       "candidates": rows, "correlations": corr}, indent=2))
    print("\n" + format_table(corr))
    plots = [plot(rows, corr, run_dir / "plots" / "validity.png"),
             plot(rows, corr, run_dir / "plots" / "validity_agreement.png", AGREEMENT)]
    print(f"figures: {run_dir / 'validity.json'}   plots: {'  '.join(map(str, plots))}")
    return 0
