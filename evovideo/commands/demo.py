"""Run evovideo end to end on its built-in synthetic video set: no dataset, no network, a laptop CPU.

Stages (each timed and reported):
  render    draw held-out synthetic clips in memory (10 classes that differ only by motion; tone audio)
  write     encode them as real video files in the UCF101 layout (--container avi|mp4)
  decode    read every file back through the same decoder real datasets use
  pretrain  a short ELo pretraining of the tiny student (recipes/pretrain/demo_synthetic.yaml) on
            *other* synthetic clips, never the ones evaluated; the student is saved (safetensors)
  evolve    the real search over the pretraining recipe's λ (recipes/evolve/demo_synthetic.yaml: 16
            candidates x 2 seeds, agreement fitness; 18 min on 2 cores, so its packaged result is shown, with the
            command that reproduces it and how its pick, which the recipe pins, was tested); --evolve-generations N
            also runs a tiny evolution (4 candidates x 5 steps: the hand-set lambdas and each task
            alone) that shows the loop, its files and plots
  evaluate  features of the written files (the real loader, the student's preprocessing) for
            (a) the randomly initialised student and (b) the pretrained one: 5-way 1/5-shot
            episodes (prototypes, logistic regression; mean ± 95% CI), kNN and a linear probe on
            UCF101-style split 1
Then the table, the plot (<out>/fewshot.png), results.json, and the commands for the next step.

Examples:
  evovideo demo
  evovideo demo --pretrain-steps 300 --episodes 1000      # longer, tighter intervals
  evovideo demo --evolve-generations 1                     # also run a tiny evolution (the machinery)
"""
from __future__ import annotations

import argparse
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import torch

from evovideo.commands.common import add_backend_argument
from evovideo.data.decode import DecodedVideo, decode_video
from evovideo.data.synthetic import SyntheticVideos, write_ucf101_layout

DEMO_RECIPE = "pretrain/demo_synthetic.yaml"
EVOLVE_RECIPE = "evolve/demo_synthetic.yaml"
PINNED_SEARCH = "evolve/demo_synthetic.summary.json"  # packaged result of the search over the demo recipe's λ


def add_arguments(parser: argparse.ArgumentParser) -> None:
    p = parser.add_argument
    p("--out", type=Path, default=Path("runs/demo"), help="output folder: videos, student, plot, results (default runs/demo)")
    p("--videos-per-class", type=int, default=16, help="held-out clips per class to evaluate on (default 16)")
    p("--num-classes", type=int, default=10, help="motion classes, 5..10 (default 10)")
    p("--num-frames", type=int, default=32, help="frames per clip (default 32, 2 s at 16 fps)")
    p("--size", type=int, default=48, help="frame height and width in pixels (even; default 48, as pretraining)")
    p("--seed", type=int, default=0, help="seeds rendering (held-out clips use seed+1), init and episodes")
    p("--container", choices=["avi", "mp4"], default="avi",
      help="avi: MPEG-4 + MP3 (like UCF101); mp4: H.264 + AAC (like Kinetics)")
    p("--recipe", type=Path, default=None, help=f"pretraining recipe (default recipes/{DEMO_RECIPE})")
    p("--pretrain-steps", type=int, default=None, help="override the recipe's trainer.max_steps")
    p("--evolve-generations", type=int, default=0,
      help="also run a tiny evolution of this many generations (4 candidates x 5 steps: the machinery, not a "
           "search; default 0: only show the packaged result of the real search)")
    p("--shot", type=int, nargs="+", default=[1, 5], help="shots per class (default 1 5)")
    p("--query", type=int, default=10, help="query clips per class and episode (default 10)")
    p("--episodes", type=int, default=300, help="episodes per shot (default 300)")
    p("--batch-size", type=int, default=16, help="clips per encoder forward pass")
    add_backend_argument(parser)
    p("--threads", type=int, default=1,
      help="torch CPU threads (default 1: float sums then add up in the same order on every machine, so the "
           "numbers reproduce; with 2 threads the 450-step student measured 24.3%% instead of 31.3%% 1-shot)")


@dataclass
class Report:
    """What each stage did and how long it took, printed as it goes and as a table at the end."""

    rows: list[tuple[str, float, str]] = field(default_factory=list)

    @contextmanager
    def stage(self, name: str) -> Iterator[list[str]]:
        note: list[str] = []
        print(f"[{name}] ...", flush=True)
        start = time.perf_counter()
        yield note
        seconds = time.perf_counter() - start
        self.rows.append((name, seconds, " ".join(note)))
        print(f"[{name}] {seconds:.2f} s  {' '.join(note)}", flush=True)

    def table(self) -> str:
        lines = [f"{'stage':<9} {'seconds':>8}  what"]
        lines += [f"{name:<9} {sec:>8.2f}  {what}" for name, sec, what in self.rows]
        lines.append(f"{'total':<9} {sum(r[1] for r in self.rows):>8.2f}")
        return "\n".join(lines)


def find_recipe(relative: str) -> Path:
    """``recipes/<relative>`` from the package data (installed) or the source checkout."""
    here = Path(__file__).resolve()
    for base in (here.parents[1] / "recipes", here.parents[2] / "recipes"):
        if (base / relative).is_file():
            return base / relative
    raise FileNotFoundError(f"recipe 'recipes/{relative}' not found beside the package; pass --recipe PATH")


# -- stages: each a plain function --------------------------------------------------------------
def render(num_videos_per_class: int, num_classes: int, num_frames: int, size: int,
           seed: int) -> tuple[SyntheticVideos, list[DecodedVideo]]:
    dataset = SyntheticVideos(num_videos_per_class=num_videos_per_class, num_classes=num_classes,
                              num_frames=num_frames, size=size, fps=16, seed=seed)
    return dataset, [dataset[i][0] for i in range(len(dataset))]


def write(dataset: SyntheticVideos, rendered: list[DecodedVideo], root: Path, container: str) -> list[Path]:
    return write_ucf101_layout(root, dataset, container=container, videos=rendered)


def decode(paths: list[Path]) -> list[DecodedVideo]:
    return [decode_video(p) for p in paths]


def pretrain(recipe: Path, steps: int | None, out: Path, seed: int):
    """Short ELo pretraining; returns the student (also saved to ``out/student``)."""
    from evovideo.lightning.pretrain import load_recipe, run_pretraining

    cfg = load_recipe(recipe)
    cfg.setdefault("model", {}).setdefault("init_args", {})["export_dir"] = str(out / "student")
    return run_pretraining(cfg, max_steps=steps, seed=seed, root_dir=out / "pretrain",
                           trainer_overrides={"enable_model_summary": False})


def pinned_search() -> str:
    """The packaged summary of the real search over the demo recipe's λ, for the terminal."""
    import json

    from evovideo.evolution.summary import format_summary

    summary = json.loads(find_recipe(PINNED_SEARCH).read_text())
    previous = summary.get("previous") or {}
    tests = summary.get("benchmark") or []  # the tests of its pick on fresh seeds, newest first
    parts = [("tested", bench) for bench in (tests if isinstance(tests, list) else [tests])]
    parts.append((f"the previous search of this recipe ({previous.get('what')}), tested", previous.get("benchmark")))
    return format_summary(summary) + "".join(
        f"\n\n{title}:\n{bench['table']}\n(measured: {bench['command']})" for title, bench in parts if bench)


def evolve(generations: int, out: Path, seed: int) -> Path:
    """A tiny evolution (population 2, budget 5 steps, one process): shows the loop, the results file, the plots."""
    from evovideo.commands import evolve as evolve_command

    evo_out = out / "evolve"
    parser = argparse.ArgumentParser(prog="evovideo evolve")
    evolve_command.add_arguments(parser)
    code = evolve_command.run(parser.parse_args([
        "-c", str(find_recipe(EVOLVE_RECIPE)), "--generations", str(generations), "--population", "4",
        "--tournament", "2", "--budget", "5", "--seed", str(seed), "--workers", "1", "--out", str(evo_out)]))
    if code:
        raise RuntimeError(f"evovideo evolve exited with {code}")
    return evo_out


def evaluate(encoders: dict, root: Path, *, fps: float, shots: list[int], query: int, episodes: int,
             seed: int, batch_size: int, backend: str = "auto") -> dict:
    """Few-shot, kNN and linear-probe accuracy of each encoder on the written files."""
    from evovideo.eval.fewshot import evaluate_fewshot
    from evovideo.eval.pipeline import split_probes, split_test_names, video_features

    test_names = split_test_names("ucf101", root, 1)
    out = {}
    for label, encoder in encoders.items():
        fs = video_features(encoder, "ucf101", root=root, frame_rate=fps, batch_size=batch_size, cache_dir=None,
                            backend=backend)
        out[label] = {
            "fewshot": evaluate_fewshot(fs.features, fs.labels, way=5, shots=shots, query=query,
                                        episodes=episodes, seed=seed),
            **split_probes(fs, test_names, k=10),
            "videos": len(fs),
        }
    return out


def results_table(evals: dict) -> str:
    from evovideo.commands.fewshot import format_table

    lines = [format_table({k: v["fewshot"] for k, v in evals.items()}), ""]
    first = next(iter(evals.values()))
    width = max(len(k) for k in evals)
    lines.append(f"split 1 ({first['test_videos']} test clips)   " + f"{'kNN (k=10)':>12}  {'linear probe':>12}")
    for label, ev in evals.items():
        lines.append(f"{label:<{width}}" + " " * max(1, 23 - width) + f"{ev['knn']:>12.1f}  {ev['linear']:>12.1f}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from evovideo.commands.fewshot import write_results
    from evovideo.factory import create_model

    if not 5 <= args.num_classes <= 10:
        print("--num-classes must be 5..10 (5-way episodes, 10 synthetic motions)")
        return 2
    if args.videos_per_class < max(args.shot) + args.query:
        print(f"--videos-per-class {args.videos_per_class} is too few for {max(args.shot)}-shot episodes with "
              f"{args.query} queries; use at least {max(args.shot) + args.query}")
        return 2
    torch.set_num_threads(args.threads)
    recipe = args.recipe or find_recipe(DEMO_RECIPE)
    out, videos_root = args.out, args.out / "videos"
    report = Report()
    with report.stage("render") as note:
        ds, rendered = render(args.videos_per_class, args.num_classes, args.num_frames, args.size, args.seed + 1)
        note.append(f"{len(ds)} held-out clips ({ds.num_classes} motion classes x {args.videos_per_class}), "
                    f"{ds.num_frames} frames {ds.size}x{ds.size} @ {ds.fps} fps + {ds.sample_rate} Hz audio")
    with report.stage("write") as note:
        paths = write(ds, rendered, videos_root, args.container)
        size_kb = sum(p.stat().st_size for p in paths) / 1024
        codecs = {"avi": "MPEG-4 + MP3", "mp4": "H.264 + AAC"}[args.container]
        note.append(f"{len(paths)} .{args.container} files ({codecs}, {size_kb:.0f} KiB) in the UCF101 layout "
                    f"under {videos_root}")
    with report.stage("decode") as note:
        videos = decode(paths)
        note.append(f"{len(videos)} clips, {sum(v.num_frames for v in videos)} frames, "
                    f"audio track in {sum(v.audio is not None for v in videos)}/{len(videos)}")
    with report.stage("evolve") as note:
        print(f"\nthe real search over the pretraining recipe's λ ({Path(PINNED_SEARCH).name}):\n{pinned_search()}\n")
        note.append("the packaged result of the real search (above)")
        if args.evolve_generations > 0:
            evo_out = evolve(args.evolve_generations, out, args.seed)
            note.append(f"and {args.evolve_generations} generation(s) x 4 candidates x 5 steps (the machinery, "
                        f"not a search) -> {evo_out}")
    with report.stage("pretrain") as note:
        student = pretrain(recipe, args.pretrain_steps, out, args.seed)
        loss = student.pretrain_metrics.get("train/loss", float("nan"))
        note.append(f"{student.model_name} from {recipe} (final loss {loss:.3f}) -> {out / 'student'}")
    with report.stage("evaluate") as note:
        torch.manual_seed(args.seed)
        random_init = create_model(student.model_name)
        evals = evaluate({"random init": random_init, "pretrained (ELo)": student}, videos_root, fps=ds.fps,
                         shots=args.shot, query=args.query, episodes=args.episodes, seed=args.seed,
                         batch_size=args.batch_size, backend=args.backend)
        note.append(f"{len(evals)} encoders x {evals['random init']['videos']} clips, "
                    f"{args.episodes} episodes per shot")
    split1 = {k: {"knn": v["knn"], "linear": v["linear"], "test_videos": v["test_videos"]} for k, v in evals.items()}
    write_results(out, {k: v["fewshot"] for k, v in evals.items()}, config={k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
                  extra={"split1": split1, "stages": {name: round(sec, 2) for name, sec, _ in report.rows}})
    print()
    print(results_table(evals))
    print()
    print(report.table())
    print(f"\nplot: {out / 'fewshot.png'}   results: {out / 'results.json'}   student: {out / 'student'}")
    student_ref = f"local-dir:{out / 'student'}"
    print("\nnext steps:")
    print(f"  evovideo fewshot --encoder {student_ref} --dataset ucf101 --root /data/UCF101")
    print(f"  evovideo fit -c recipes/finetune/ucf101.yaml --data.root /data/UCF101 --model.encoder {student_ref}")
    print("  evovideo fit -c recipes/pretrain/all_modalities_synthetic.yaml   # all four towers, every term with a weight > 0")
    return 0
