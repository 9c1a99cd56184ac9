"""Fine-tune and test on several official splits; report each, and mean ± std next to split 1.

For each --splits split: `evovideo fit` with the recipe, then the multi-view test of the checkpoint
with the best val/acc_video.  Validation is carved from the split's *training* list by source
video (data.val_fraction, default 0.15); the test list never selects anything.  With
data.val_fraction=0 the model of the last epoch is tested.  results.json says which, per split
("selection"); each split's run (config, logs, checkpoints) goes to <out>/split<k>/.

Examples:
  evovideo finetune -c recipes/finetune/ucf101.yaml --root /data/UCF101 --encoder hf-hub:ORG/NAME
  evovideo finetune -c recipes/finetune/hmdb51.yaml --root /data/HMDB51 --encoder local-dir:runs/demo/student \\
      --splits 1 --set model.freeze=true --set model.lr=0.1          # linear probe, split 1 only

--set KEY=VALUE (repeatable) overrides any recipe field, as `evovideo fit --KEY VALUE` would.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from evovideo.commands.common import add_backend_argument, add_renamed

METRICS = ("test/acc_video", "test/acc_clip")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    p = parser.add_argument
    p("-c", "--config", required=True, help="a fine-tuning recipe, e.g. recipes/finetune/ucf101.yaml")
    p("--root", required=True, help="dataset root (passed as --data.root)")
    p("--encoder", required=True, help="registry name, hf-hub:ORG/NAME, local-dir:/path or arch.tag (--model.encoder)")
    p("--splits", type=int, nargs="+", default=[1, 2, 3], help="official splits to run (default 1 2 3)")
    add_renamed(parser, "--folds", "--splits")
    p("--out", help="output folder (default: the recipe's trainer.default_root_dir)")
    add_backend_argument(parser)
    p("--set", action="append", default=[], metavar="KEY=VALUE", help="override a recipe field, e.g. trainer.max_epochs=5")


def run(args: argparse.Namespace) -> int:
    from evovideo.eval.stats import mean_std
    from evovideo.lightning.cli import build_cli
    from evovideo.lightning.pretrain import load_recipe

    recipe = load_recipe(args.config)
    out = Path(args.out or recipe.get("trainer", {}).get("default_root_dir") or "runs/finetune")
    overrides = []
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"--set '{item}': expected KEY=VALUE, e.g. --set trainer.max_epochs=5")
        overrides += [f"--{key}", value]
    per_split: dict[int, dict[str, float]] = {}
    for split in args.splits:
        run_dir = out / f"split{split}"
        print(f"== split {split}: fit, then multi-view test  ({run_dir})", flush=True)
        cli = build_cli(["fit", "-c", args.config, "--data.root", args.root, "--data.split", str(split),
                         "--model.encoder", args.encoder, "--trainer.default_root_dir", str(run_dir),
                         "--data.backend", args.backend, *overrides],
                        run=True)
        dm = cli.datamodule
        validated = getattr(dm, "has_validation", True)
        ckpt = (getattr(cli.trainer.checkpoint_callback, "best_model_path", "") or None) if validated else None
        tested = cli.trainer.test(cli.model, datamodule=dm, ckpt_path=ckpt, verbose=False)
        selection = dm.selection() if hasattr(dm, "selection") else "the data module's val fold"
        per_split[split] = {k: float(v) for k, v in tested[0].items()} | {
            "checkpoint": ckpt or "the weights after the last epoch", "selection": selection}
    summary = {m: dict(zip(("mean", "std"), mean_std([r[m] for r in per_split.values()])))
               for m in METRICS if all(m in r for r in per_split.values())}
    results = {"recipe": args.config, "encoder": args.encoder, "root": args.root, "overrides": args.set,
               "splits": per_split, "split1": per_split.get(1), "mean_std": summary}
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2))
    print(format_folds(per_split, summary))
    print(f"results: {out / 'results.json'}")
    return 0


def format_folds(per_split: dict, summary: dict) -> str:
    metrics = list(summary) or [m for m in METRICS if m in next(iter(per_split.values()))]
    lines = [f"{'split':<12}" + "".join(f"{m:>18}" for m in metrics)]
    for split, r in per_split.items():
        lines.append(f"{split:<12}" + "".join(f"{r[m]:>18.2f}" for m in metrics))
    if summary:
        cells = "".join(f"{summary[m]['mean']:>10.2f} ± {summary[m]['std']:<5.2f}" for m in metrics)
        lines.append(f"{f'mean ± std ({len(per_split)})':<12}" + cells)
    return "\n".join(lines)
