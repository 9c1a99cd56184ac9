"""Evolve the loss weights lambda (ELo): tournament selection, each candidate pretrained briefly
and scored by a fitness (default: the unsupervised Zipf fitness), the best written as a recipe.

Examples:
  evovideo evolve -c recipes/evolve/demo_synthetic.yaml
  evovideo evolve -c recipes/evolve/elo_r2plus1d_50_k400.yaml --runner ray --address auto
  evovideo evolve -c recipes/evolve/demo_synthetic.yaml --generations 2 --population 4 --budget 10

Every finished candidate is appended to <out>/results.jsonl at once (atomically).  Kill the run
at any moment and run the same command again: it continues, and nothing finished is retrained.
Outputs in <out>: results.jsonl, plots/*.png (fitness per generation, lambdas of the best,
Zipf rank-size), candidates/<id>/ (training logs), and the best lambdas as a pretrain recipe
(`best_recipe`, default <out>/best_pretrain.yaml): `evovideo fit -c <that file>` trains it fully.

Advice: the search is only as good as the fitness is cheap and stable.  Keep the fitness data
fixed (a held-out set, fold val), the budget the same for every candidate (it is), and check in
fitness_per_generation.png that the best-so-far curve is still falling before adding generations.
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib
import inspect
import sys
import time
from pathlib import Path

from evovideo.commands.common import add_backend_argument


def add_arguments(parser: argparse.ArgumentParser) -> None:
    p = parser.add_argument
    p("-c", "--config", required=True, help="evolve recipe, e.g. recipes/evolve/demo_synthetic.yaml")
    p("--out", help="output folder (default: the recipe's `out`)")
    p("--runner", choices=["local", "ray"], help="where candidates run (default: the recipe's runner.name)")
    p("--workers", type=int, help="local runner: candidates trained at once in worker processes")
    p("--address", help="ray runner: cluster address ('auto', 'ray://head:10001'); none starts a local Ray")
    p("--num-cpus", type=int, help="ray runner without --address: CPUs of the local Ray instance")
    p("--gpus-per-candidate", type=float, help="ray runner: GPUs each candidate asks for")
    p("--generations", type=int, help="override the recipe's generations")
    p("--population", type=int, help="override the recipe's population")
    p("--tournament", type=int, help="override the recipe's tournament size (at most the population)")
    p("--budget", type=int, help="override the recipe's training steps per candidate")
    p("--seed", type=int, help="override the recipe's seed")
    p("--candidate-seeds", type=int, help="override the recipe's candidate_seeds (training seeds per candidate)")
    p("--best-recipe", help="where to write the best lambdas as a pretrain recipe")
    p("--no-plots", action="store_true", help="skip the PNG plots")
    add_backend_argument(parser)


def _with_backend(spec: dict, backend: str) -> dict:
    """A ``{class_path, init_args}`` data spec decoding with ``backend`` (file DataModules only)."""
    if backend == "auto" or not isinstance(spec, dict) or "class_path" not in spec:
        return spec
    module, _, name = str(spec["class_path"]).rpartition(".")
    try:
        takes = "backend" in inspect.signature(getattr(importlib.import_module(module), name)).parameters
    except (ImportError, AttributeError, ValueError, TypeError):
        return spec  # resolved (and refused if bad) where the data is built
    return {**spec, "init_args": {**(spec.get("init_args") or {}), "backend": backend}} if takes else spec


def run(args: argparse.Namespace) -> int:
    from evovideo.evolution.candidate import PretrainEvaluator
    from evovideo.evolution.checks import check_settings
    from evovideo.evolution.genome import SearchSpace
    from evovideo.evolution.loop import run_evolution, search_header
    from evovideo.evolution.recipe import EvolveRecipe, trainable, write_pretrain_recipe
    from evovideo.evolution.results import ResultsFile
    from evovideo.evolution.runners import make_runner
    from evovideo.evolution.search import TournamentSearch
    from evovideo.lightning.evolve import check_recipe, fitness_datamodule, pretrain_with_lightning
    from evovideo.tasks.lambdas import nest_lambdas

    recipe = EvolveRecipe.from_yaml(args.config)
    overrides = {k: getattr(args, k) for k in ("generations", "population", "tournament", "budget", "seed", "candidate_seeds",
                                               "out", "best_recipe")}
    recipe = dataclasses.replace(recipe, **{k: v for k, v in overrides.items() if v is not None})
    runner_cfg = dict(recipe.runner)
    for key, flag in (("name", "runner"), ("workers", "workers"), ("address", "address"),
                      ("num_cpus", "num_cpus"), ("gpus_per_candidate", "gpus_per_candidate")):
        if getattr(args, flag) is not None:
            runner_cfg[key] = getattr(args, flag)
    recipe = dataclasses.replace(recipe, runner=runner_cfg)

    check_settings(recipe)  # every setting checked before a file is read, written or trained on
    base = recipe.base_recipe()
    check_recipe(recipe, base)
    candidate_base = recipe.candidate_recipe(base)  # what each candidate trains (the written recipe keeps `base`)
    if "data" in candidate_base:
        candidate_base["data"] = _with_backend(candidate_base["data"], args.backend)
    groups = recipe.space(base)  # {tasks: [...], distill: [...]}
    names = recipe.space_names(base)
    initial = recipe.starting_lambdas(base)
    space = SearchSpace(names, **recipe.mutation)
    search = TournamentSearch(space, population=recipe.population, tournament=recipe.tournament,
                              generations=recipe.generations, elite=recipe.elite, seed=recipe.seed, initial=initial,
                              valid=trainable(candidate_base, groups))
    fit = dict(recipe.fitness)
    fit["data"] = _with_backend(fit["data"], args.backend)
    out = Path(recipe.out)
    rungs, keep = recipe.halving_rungs()
    extra = {"halving": {"rungs": rungs, "keep": keep}} if rungs else {}
    if recipe.candidate_seeds > 1:  # in the header only then: results files of one-seed searches stay valid
        extra["candidate_seeds"] = recipe.candidate_seeds
    header = search_header(search, budget=recipe.budget, **extra, space=groups, pretrain=candidate_base, fitness={k: fit[k] for k in ("name", "args")},
                           fitness_data=fit["data"], fitness_fold=fit["fold"])
    results = ResultsFile(out / "results.jsonl", header)
    evaluate = PretrainEvaluator(recipe=candidate_base, budget=recipe.budget, trainer=pretrain_with_lightning,
                                 datamodule=fitness_datamodule, space=groups, fitness=fit["name"], fitness_args=fit["args"],
                                 fitness_data=fit["data"], fitness_fold=fit["fold"], seed=recipe.seed,
                                 seeds=recipe.candidate_seeds,
                                 workdir=str((out / "candidates").resolve()))
    runner = make_runner(runner_cfg["name"], workers=runner_cfg["workers"], address=runner_cfg["address"],
                         num_cpus=runner_cfg["num_cpus"], gpus_per_candidate=runner_cfg["gpus_per_candidate"])
    total = recipe.population * recipe.generations

    def finished() -> int:  # candidates with their last score (successive halving also saves rung scores)
        return sum(1 for r in results.records if r.get("final", True))
    steps = f"{recipe.budget} steps each" if not rungs else f"successive halving at {rungs} steps, keeping {keep:.0%}"
    print(f"evolving {len(names)} lambdas: {recipe.generations} generations x {recipe.population} candidates, "
          f"{steps}, fitness '{fit['name']}', runner '{runner_cfg['name']}'; results: {results.path}")
    if results.records:
        print(f"continuing: {finished()} of {total} candidates already finished")

    def progress(rec: dict) -> None:
        done = finished()
        at = f" at {rec['steps']} steps" if "steps" in rec else ""
        knn = f"  kNN {rec['metrics']['knn_accuracy']:.3f}" if "knn_accuracy" in rec["metrics"] else ""
        print(f"[{done}/{total}] {rec['id']}  score {rec['score']:.4f}{at}{knn}  ({rec['time_s']:.1f} s)", flush=True)

    started = time.perf_counter()
    try:
        run_evolution(search, runner, evaluate, results, budget=recipe.budget, seed=recipe.seed, on_result=progress,
                      rungs=rungs, keep=keep)
    except KeyboardInterrupt:
        print(f"\ninterrupted: {finished()} of {total} candidates finished and are kept in {results.path}; "
              "run the same command again to continue where it stopped", file=sys.stderr)
        return 130
    finally:
        runner.close()
    best = search.best()
    target = Path(recipe.best_recipe) if recipe.best_recipe else out / "best_pretrain.yaml"
    note = (f"ELo lambdas evolved by `evovideo evolve -c {args.config}`: candidate {best.candidate.id} of "
            f"{finished()}, fitness '{fit['name']}' {fit['args']} score {best.score:.4f} (lower is better) "
            f"after {recipe.budget} steps.\nResults: {results.path}")
    write_pretrain_recipe(base, nest_lambdas(best.candidate.lambdas, groups), target, note, max_steps=recipe.final_max_steps)
    from evovideo.evolution.summary import run_summary, write_summary

    command = f"evovideo evolve -c {args.config}" + "".join(
        f" --{k.replace('_', '-')} {v}" for k, v in overrides.items() if v is not None and k != "out")
    stats = run_summary(results.records, results.header, command=command, wall_s=time.perf_counter() - started)
    summary = write_summary(stats, out / "summary.json")
    print(f"best: {best.candidate.id}  score {best.score:.4f}")
    for name, value in best.candidate.lambdas.items():
        print(f"  {name:<40} {value:.3f}")
    from evovideo.evolution.summary import format_seed_agreement, format_validity

    for group, v in stats["validity"].items():  # computed once, by the summary
        print(format_validity(group, v))
    for group, v in stats["seed_agreement"].items():
        print(format_seed_agreement(group, v))
    if not args.no_plots:
        from evovideo.evolution.plots import plot_evolution

        for path in plot_evolution(results.records, out / "plots"):
            print(f"plot: {path}")
    print(f"summary: {summary}")
    print(f"best recipe: {target}   train it fully: evovideo fit -c {target}")
    return 0
