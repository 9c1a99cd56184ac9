"""Does the search pay?  Evolved lambdas vs each single term, the hand-set recipe, uniform lambdas
and random search, each pretrained at full length over several seeds, held-out few-shot.

Every arm trains the same pretrain recipe (``--recipe``, else ``--search``'s ``pretrain``, else the demo's;
same data, steps, optimiser) with only the lambdas changed, once per pretraining seed, then 5-way few-shot (prototypes, ``--episodes`` episodes) on
synthetic clips rendered with ``--data-seed`` (default 1: clips no pretraining saw), or on the labelled videos
of ``--dataset class-folders|ucf101|hmdb51 --root DIR`` (e.g. a ``bench motion-set`` of footage no pretraining saw).  The table
gives each arm's mean over seeds with a 95% CI (Student t over seeds; with one seed, the episodes'
CI of that seed, marked so).  Below the table: how reliably one seed ranks the arms' λ
(:func:`seed_reliability`) and, per loss term, how the step at which its loss started to fall
orders the runs' accuracy and each arm's accuracy against the first arm's at the same onset
(:mod:`evovideo.bench.onset`).  Arms:

  evolved   the best candidate of ``--evolved`` (an ``evovideo evolve`` results.jsonl, or its summary.json)
  random    the best candidate of ``--random`` (a results.jsonl of the same fitness and budget
            with one generation: ``evovideo evolve -c ... --generations 1 --population N``)
  hand      the hand-set lambdas: the recipe's own, or the --search recipe's ``hand_set_lambdas`` when the
            pretrain recipe pins that search's pick
  uniform   every term of the search space at ``--uniform-value``
  single    each term of the search space alone at 1 (one row each; a distillation from a tower
            no remaining term trains is refused and reported so)

  evovideo bench evolution --evolved runs/evolve/demo_synthetic/results.jsonl
  evovideo bench evolution --evolved R.jsonl --arms evolved hand single --seeds 0 --steps 450   # short
  evovideo bench evolution --merge runs/a/results.json runs/b/results.json --out runs/ab   # parallel parts -> one table
  evovideo bench evolution --recipe R.yaml --arms hand --set trainer.max_steps=450 data.init_args.batch_size=16
  evovideo bench evolution --compare runs/two/results.json runs/four/results.json --out runs/cmp   # across recipes
  evovideo bench evolution --search recipes/evolve/motion_folder.yaml --dataset class-folders \
      --root data/motion/eval/UCF-101 --out runs/bench/motion      # few-shot on real-footage clips

``--set`` edits the recipe every arm trains (a controlled comparison: one recipe on another's data) and
is a setting of ``--out``; ``--compare`` pairs, by seed, arms of benches that trained different recipes
but share the few-shot protocol.

A pick is tested on the recipe it was searched on (:mod:`evovideo.bench.picks`); one from another recipe is
refused unless ``--allow-other-recipe`` asks for that transfer test, and the table then names the differences.

Each run records the code that made it (``evovideo.provenance``): an arm whose runs came from
different code (parts merged from before and after a change) is marked in the table.
The statistics (t intervals, paired differences, seed reliability) are :mod:`evovideo.bench.arm_stats`.
``<out>/results.json`` is rewritten (atomically) after every run.  Running again into the same
``--out`` keeps its arms and seeds, trains only what is missing (a killed bench continues; more
seeds or arms add to the table), and refuses a folder of another recipe or other settings.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evovideo.bench import labelled
from evovideo.bench.picks import best_of, check_sources, is_summary, results_space
from evovideo.bench.arm_stats import HAND, SINGLE, format_reliability, format_table, seed_reliability
from evovideo.bench.onset import format_onset_adjusted, format_onsets, onset_adjusted, onset_vs_accuracy, run_onsets

if TYPE_CHECKING:
    from evovideo.evolution.recipe import EvolveRecipe

DEFAULT_RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "pretrain" / "demo_synthetic.yaml"
DEFAULT_SEARCH = Path(__file__).resolve().parents[2] / "recipes" / "evolve" / "demo_synthetic.yaml"  # pinned in it
ARMS = ("evolved", "random", "hand", "uniform", "single")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    p = parser.add_argument
    p("--recipe", help="pretrain recipe every arm trains (default: --search's pretrain recipe, else the demo's)")
    p("--search", help="an evolve recipe: the arms span its search space (e.g. uniform and single arms for every "
                       "term it evolves) and its hand_set_lambdas are the hand-set arm (default: the demo's search "
                       "with the demo's recipe, whose λ are that search's pick; else the terms of --recipe)")
    p("--evolved", help="results.jsonl of an evolution, or its summary.json: its best candidate is the 'evolved' arm")
    p("--random", help="results.jsonl of a random search (one generation): its best is the 'random' arm")
    p("--allow-other-recipe", action="store_true",
      help="train --evolved / --random λ that their search found on another pretrain recipe (other data, student "
           "or task settings: a transfer test; the table says so); without it such a pick is refused")
    p("--arms", nargs="+", choices=ARMS, default=list(ARMS), help="arms to run (default: all)")
    p("--single", nargs="*", help="single-term arms to run (default: every term of the search space)")
    p("--uniform-value", type=float, default=1.0, help="the lambda of every term in the 'uniform' arm")
    p("--seeds", type=int, nargs="+", default=[0, 1, 2], help="pretraining seeds (default 0 1 2)")
    p("--set", nargs="+", default=[], metavar="KEY=VALUE",
      help="edit the recipe every arm trains (dotted keys, YAML values), e.g. data.init_args.batch_size=16: a "
           "controlled comparison without a second recipe file; kept as a setting of --out")
    p("--steps", type=int, help="training steps (default: the recipe's max_steps, after --set)")
    labelled.add_arguments(parser)
    p("--data-seed", type=int, default=1, help="synthetic: render seed of the few-shot clips (default 1: held out)")
    p("--videos-per-class", type=int, default=20, help="synthetic: few-shot clips per class (default 20)")
    p("--shot", type=int, nargs="+", default=[1, 5])
    p("--query", type=int, default=15, help="query clips per class and episode (default 15)")
    p("--episodes", type=int, default=1000)
    p("--out", default="runs/bench/evolution", help="output folder (results.json, runs/)")
    p("--memo-mb", type=int, default=4096,
      help="synthetic recipes: MB of built samples this process keeps for all arms (the arms of one seed train "
           "on the same samples, so each is rendered and its flow computed once; 0: off; default 4096)")
    p("--merge", nargs="+", metavar="RESULTS_JSON",
      help="train nothing: merge the results.json of runs made in parallel (other arms or seeds) into --out")
    p("--compare", nargs="+", metavar="RESULTS_JSON",
      help="train nothing: one table of the arms of benches of different recipes, lengths or --set edits (same "
           "few-shot protocol), each paired by seed with the first file's hand-set arm and best single term; "
           "writes <out>/comparison.json")


def add_groups(space: dict[str, list[str]], groups: dict[str, list[str]]) -> None:
    """Add the names of ``groups`` (``{tasks: [...], distill: [...]}``) that ``space`` lacks, in place."""
    for group, names in groups.items():
        space.setdefault(group, [])
        space[group] += [n for n in names if n not in space[group]]


def arms(args: argparse.Namespace, hand: dict[str, float], space: dict[str, list[str]]) -> dict[str, dict[str, float]]:
    """name -> lambdas over one term list (the search space when a results file is given); the groups of
    the results files' names are added to ``space``.  A recipe term the search space leaves out keeps its
    recipe λ in every arm, as it did in every candidate of the search; single and uniform arms span the
    searched terms (an empty ``space``: every term is searched)."""
    names = list(hand) + [n for group in space.values() for n in group if n not in hand]
    sources = {}
    for arm in ("evolved", "random"):
        if arm in args.arms:
            path = getattr(args, arm)
            if path is None:
                print(f"arm '{arm}' skipped: no --{arm} results file given")
                continue
            best = best_of(path)
            sources[arm] = (best, path)
            add_groups(space, results_space(path))
            names += [n for n in best["lambdas"] if n not in names]
    searched = {n for group in space.values() for n in group} or set(names)
    fixed = {n: float(v) for n, v in hand.items() if n not in searched}
    out: dict[str, dict[str, float]] = {}

    def full(lam: dict[str, float]) -> dict[str, float]:
        return {n: fixed[n] if n in fixed else float(lam.get(n, 0.0)) for n in names}
    for arm, (best, path) in sources.items():
        source = Path(path).name if is_summary(path) else Path(path).parent.name
        out[f"{arm} ({best['id']} of {source})"] = full(best["lambdas"])
    if "hand" in args.arms:
        out[HAND] = full(hand)
    if "uniform" in args.arms:
        out[f"uniform {args.uniform_value:g}"] = full({n: args.uniform_value for n in names})
    if "single" in args.arms:
        for n in args.single if args.single else [n for n in names if n in searched]:
            out[f"{SINGLE}{n}"] = {**full({n: 1.0}), n: 1.0}
    return out


LEGACY = {"fewshot_data": {"dataset": "synthetic"}}  # what a results file written before a setting was recorded means
PROTOCOL = ("fewshot_data", "data_seed", "episodes", "shots", "query", "videos_per_class")  # --compare needs it equal
SETTINGS = ("steps", *PROTOCOL, "set")  # what a bench's runs share: --merge and a continued --out need them equal


def parse_set(items: list[str]) -> dict[str, Any]:
    """``--set`` items as {dotted key: YAML value}; an item without ``=`` is refused, naming it."""
    import yaml

    out = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise ValueError(f"--set '{item}': expected KEY=VALUE with a dotted recipe key, e.g. data.init_args.batch_size=16")
        out[key] = yaml.safe_load(value)
    return out


def edited_recipe(path: str, edits: dict[str, Any]) -> dict[str, Any]:
    """The recipe at ``path`` with the ``--set`` edits applied."""
    from evovideo.evolution.recipe import set_dotted
    from evovideo.lightning.pretrain import load_recipe

    cfg = load_recipe(path)
    for dotted, value in edits.items():
        set_dotted(cfg, dotted, value, f"--set '{dotted}={value}'")
    return cfg


def continue_from(path: Path, fresh: dict[str, Any]) -> dict[str, Any]:
    """``fresh`` with the arms and runs of an earlier ``results.json`` at ``path`` (same recipe and
    settings): a rerun into the same ``--out`` adds arms and seeds instead of overwriting them, and a
    killed run continues.  A file of other settings is refused, untouched."""
    if not path.exists():
        return fresh
    old = json.loads(path.read_text())
    differ = [k for k in ("recipe", *SETTINGS)  # an older file without the few-shot videos: the synthetic clips
              if (k in old or k in LEGACY) and _setting(old, k) != _setting(fresh, k)]
    if differ:
        raise ValueError(f"{path} holds runs of other settings ({', '.join(f'{k}: {_recorded(old, k)} here, {fresh[k]} now' for k in differ)}); "
                         "use a new --out, or merge the two folders with --merge")
    print(f"continuing {path}: {sum(len(a['runs']) for a in old['arms'].values())} runs kept")
    return {**fresh, "seeds": sorted(set(old["seeds"]) | set(fresh["seeds"])), "arms": old["arms"]}


def save_results(out: Path, results: dict[str, Any], name: str = "results.json") -> None:
    from evovideo.atomic import atomic_write

    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / name, lambda f: f.write(json.dumps(results, indent=2).encode()))


def slug_of(arm: str) -> str:
    """The folder name of an arm's runs (``<out>/runs/<slug>-seed<n>``)."""
    return "".join(c if c.isalnum() else "_" for c in arm)[:60]


def _recorded(results: dict[str, Any], key: str) -> Any:
    """A setting as the file records it, or what its absence means (``LEGACY``; else None)."""
    return results.get(key, LEGACY.get(key))


def _setting(results: dict[str, Any], key: str) -> Any:
    """A results file's setting as runs are compared: the recipe by content (the same recipe from
    another checkout matches; an edited one at the same path does not), by path when the file is gone;
    any other as recorded (:func:`_recorded`)."""
    if key != "recipe":
        return _recorded(results, key)
    try:
        return Path(results[key]).read_text()
    except OSError:
        return results[key]


def merge(paths: list[str]) -> dict[str, Any]:
    """One results dict from the results.json of parallel runs: each arm's runs, in order, by seed."""
    parts = [json.loads(Path(p).read_text()) for p in paths]
    for key in ("recipe", *SETTINGS):  # settings an older part did not record are not compared (its videos: synthetic)
        values = {json.dumps(_setting(p, key)) for p in parts if key in p or key in LEGACY}
        if len(values) > 1:
            raise ValueError(f"cannot merge {', '.join(paths)}: their '{key}' differ ({[p.get(key) for p in parts]})")
    out = {**parts[0], "seeds": sorted({s for p in parts for s in p["seeds"]}), "arms": {}}
    for path, part in zip(paths, parts):
        for name, arm in part["arms"].items():
            for r in arm["runs"]:  # results written before onsets were recorded: read them from the runs' logs
                if "onset" not in r:
                    r["onset"] = run_onsets(Path(path).parent / "runs" / f"{slug_of(name)}-seed{r['seed']}")
            into = out["arms"].setdefault(name, {**arm, "runs": []})
            if arm["lambdas"] != into["lambdas"]:
                raise ValueError(f"cannot merge: arm '{name}' has different lambdas in the parts")
            done = {r["seed"] for r in into["runs"]}
            into["runs"] = sorted(into["runs"] + [r for r in arm["runs"] if r["seed"] not in done], key=lambda r: r["seed"])
    return out


def compare(paths: list[str]) -> dict[str, Any]:
    """One results dict over benches of different recipes: the first file's arms keep their names (its
    hand-set arm and best single term are the references), the others' are prefixed with their recipe,
    length and whether --set edited it.  The few-shot protocol must match: scores of other clips or
    episodes do not pair.  Across recipes a seed is shared, not the initialisation or data order (other
    networks draw from it), so the pairing removes less of the seed's luck than within one bench."""
    parts = [json.loads(Path(p).read_text()) for p in paths]
    for key in PROTOCOL:
        values = {json.dumps(_recorded(p, key)) for p in parts}
        if len(values) > 1:
            raise ValueError(f"cannot compare {', '.join(paths)}: their '{key}' differ ({[p.get(key) for p in parts]}); "
                             "scores of another few-shot protocol do not pair")
    out = {**parts[0], "seeds": sorted({s for p in parts for s in p["seeds"]}), "arms": {},
           "compared": [{k: p.get(k) for k in ("recipe", "steps", "set")} | {"path": str(path)} for path, p in zip(paths, parts)]}
    for i, part in enumerate(parts):
        label = "" if i == 0 else f"{Path(part['recipe']).stem} ({part['steps']} steps{', edited' if part.get('set') else ''}): "
        for name, arm in part["arms"].items():
            out["arms"][label + name] = arm
    return out


def _recipe_lines(results: dict[str, Any]) -> list[str]:
    """Which recipe (and --set edits) each part of the table trained."""
    parts = results.get("compared") or [results]
    lines = []
    for i, part in enumerate(parts):
        edits = ", ".join(f"{k}={v}" for k, v in (part.get("set") or {}).items())
        lead = f"{i + 1}: " if len(parts) > 1 else ""
        lines.append(f"{lead}recipe {part['recipe']}" + (f", {part['steps']} steps" if len(parts) > 1 else "")
                     + (f", edited: {edits}" if edits else ""))
    return lines


def fewshot_line(results: dict[str, Any]) -> str:
    """Which videos and episodes the table's few-shot accuracies are of."""
    data = _recorded(results, "fewshot_data")
    where = (f"synthetic clips rendered with seed {results.get('data_seed')}, {results.get('videos_per_class')} per class"
             if data["dataset"] == "synthetic" else f"the {data['dataset']} videos under {data['root']}"
             + (f" (split {data['split']})" if "split" in data else ""))
    return f"few-shot: 5-way, {results.get('episodes')} episodes on {where}"


def _elsewhere_lines(results: dict[str, Any]) -> list[str]:
    return [f"{name}: λ searched on another recipe ({'; '.join(arm['searched_on'])})"
            for name, arm in results["arms"].items() if arm.get("searched_on")]


def report(results: dict[str, Any], shots) -> str:
    """The recipe (with its --set edits), the few-shot videos, the table, arms whose λ were searched on
    another recipe, the seed reliability and the loss onsets (each only where there is something to say)."""
    key = f"{max(shots)}-shot"
    onsets = onset_vs_accuracy(results, key)
    lines = (*_recipe_lines(results), fewshot_line(results), format_table(results, shots), *_elsewhere_lines(results),
             format_reliability(seed_reliability(results, key)),
             format_onsets(onsets, key), format_onset_adjusted(onset_adjusted(results, key, onsets), key))
    return "\n".join(line for line in lines if line)


def recipe_and_search(recipe: str | None, search: str | None) -> tuple[str, EvolveRecipe]:
    """The pretrain recipe every arm trains and the evolve recipe whose space they span: ``--search``'s
    ``pretrain`` unless ``--recipe`` names it (another recipe is refused: a controlled edit is ``--set``), the
    demo's recipe and search when neither is given; without a search, the recipe's own terms."""
    from evovideo.evolution.recipe import EvolveRecipe
    from evovideo.tasks.base import RecipeError

    if search is None:
        recipe = recipe or str(DEFAULT_RECIPE)
        same = Path(recipe).resolve() == DEFAULT_RECIPE
        return recipe, EvolveRecipe.from_yaml(DEFAULT_SEARCH) if same else EvolveRecipe(pretrain=recipe)
    evolve = EvolveRecipe.from_yaml(search)
    base = evolve.resolve(evolve.pretrain)
    if recipe is not None and Path(recipe).resolve() != base.resolve():
        raise RecipeError(f"--recipe {recipe} is not the pretrain recipe of --search {search} ({base}): drop --recipe "
                          f"to train {base}, or edit it with --set KEY=VALUE")
    return recipe or str(base), evolve


def run(args: argparse.Namespace) -> int:
    if args.merge and args.compare:
        raise ValueError("--merge joins parts of one bench, --compare benches of different recipes: give one of them")
    if args.merge or args.compare:
        results = merge(args.merge) if args.merge else compare(args.compare)
        save_results(Path(args.out), results, "results.json" if args.merge else "comparison.json")
        shots = sorted({int(k.split("-")[0]) for a in results["arms"].values() for r in a["runs"] for k in r if k.endswith("-shot")})
        print(report(results, shots))
        return 0
    import torch

    from evovideo.data.synthetic import SyntheticVideos
    from evovideo.eval.fewshot import evaluate_fewshot
    from evovideo.eval.pipeline import video_features
    from evovideo.evolution.recipe import EvolveRecipe
    from evovideo.lightning.pretrain import run_pretraining
    from evovideo.provenance import code_fingerprint
    from evovideo.tasks.base import RecipeError
    from evovideo.tasks.lambdas import nest_lambdas

    edits = parse_set(args.set)
    args.recipe, recipe = recipe_and_search(args.recipe, args.search)
    cfg = edited_recipe(args.recipe, edits)
    hand = recipe.hand_lambdas(cfg)
    space = recipe.space(cfg)
    elsewhere = check_sources(args, cfg)  # before anything is trained or written
    table = arms(args, hand, space)
    add_groups(space, EvolveRecipe(pretrain=args.recipe).space(cfg))  # the recipe terms a search leaves out
    steps = args.steps or int(cfg["trainer"]["max_steps"])
    data = labelled.labelled_data(args)
    clips = SyntheticVideos(num_videos_per_class=args.videos_per_class, seed=args.data_seed) if data["dataset"] == "synthetic" else None
    out = Path(args.out)
    synthetic = clips is not None
    results: dict[str, Any] = {"recipe": args.recipe, "steps": steps, "seeds": args.seeds, "fewshot_data": data,
                               "data_seed": args.data_seed if synthetic else None, "episodes": args.episodes,
                               "shots": args.shot, "query": args.query,
                               "videos_per_class": args.videos_per_class if synthetic else None, "set": edits, "arms": {}}
    results = continue_from(out / "results.json", results)
    print(f"{len(table)} arms x {len(args.seeds)} seeds x {steps} steps; few-shot on "
          + (f"{len(clips)} clips rendered with seed {args.data_seed}" if synthetic else
             f"the {data['dataset']} videos under {data['root']}"))
    for name, lambdas in table.items():
        arm = results["arms"].setdefault(name, {"lambdas": lambdas, "runs": []})
        if arm["lambdas"] != lambdas:
            raise ValueError(f"{out / 'results.json'} has an arm '{name}' with other λ ({arm['lambdas']}); "
                             "use a new --out for these arms")
        differ = next((d for source, d in elsewhere.items() if name.startswith(f"{source} (")), None)
        if differ:
            arm["searched_on"] = differ
        if "refused" in arm:
            print(f"{name}: refused ({arm['refused'].splitlines()[0][:120]})")
            continue
        for seed in args.seeds:
            if any(r["seed"] == seed for r in arm["runs"]):
                print(f"{name} seed {seed}: in {out / 'results.json'} already, not retrained")
                continue
            start = time.perf_counter()
            slug = slug_of(name)
            config = edited_recipe(args.recipe, edits)
            if args.memo_mb > 0 and config["data"]["class_path"].endswith("SyntheticDataModule"):
                config["data"].setdefault("init_args", {})["memo_mb"] = args.memo_mb
            try:
                student = run_pretraining(config, lambdas=nest_lambdas(lambdas, space),
                                          max_steps=steps, seed=seed,
                                          root_dir=out / "runs" / f"{slug}-seed{seed}",
                                          trainer_overrides={"enable_progress_bar": False, "enable_model_summary": False})
            except RecipeError as err:
                arm["refused"] = str(err)
                print(f"{name}: refused ({str(err).splitlines()[0][:120]})")
                break
            torch.manual_seed(0)
            fs = video_features(student, data["dataset"], root=data.get("root"), split=data.get("split", 1),
                                synthetic=clips, cache_dir=None, progress=False)
            res = evaluate_fewshot(fs.features, fs.labels, way=5, shots=args.shot, query=args.query, episodes=args.episodes, seed=0,
                                   classifiers=("prototypes",))
            acc = {f"{r.shot}-shot": r.summary["prototypes"] for r in res}
            arm["runs"].append({"seed": seed, "seconds": round(time.perf_counter() - start, 1), "code": code_fingerprint(),
                                **{k: {"mean": v.mean, "ci95": v.ci95} for k, v in acc.items()},
                                "onset": run_onsets(out / "runs" / f"{slug}-seed{seed}")})
            arm["runs"].sort(key=lambda r: r["seed"])
            save_results(out, results)  # after every run: a killed bench keeps what it measured
            print(f"{name} seed {seed}: " + "  ".join(f"{k} {v}" for k, v in acc.items())
                  + f"  ({time.perf_counter() - start:.0f} s)", flush=True)
        save_results(out, results)
    print("\n" + report(results, args.shot))
    print(f"results: {out / 'results.json'}")
    return 0
