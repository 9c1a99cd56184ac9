"""One ELo training step: Lightning (PretrainModule + Trainer) vs a plain PyTorch loop.

Both sides build the same PretrainModule from the same recipe and seed, take one real batch
from the recipe's data module, and train on that same batch (data cost is excluded on both
sides): the plain loop calls ``compute_losses``, sums, ``backward``, AdamW and the LR schedule;
Lightning runs ``Trainer.fit`` with the recipe's trainer settings (logging every step to CSV,
no checkpoints, no progress bar).  Rounds alternate between the two (and which goes first) to share the machine's noise;
the median round is reported.  Target: Lightning / plain <= 1.10.

Examples:
  evovideo bench train                                   # the laptop recipe, CPU
  evovideo bench train --steps 30 --rounds 3
  evovideo bench train --recipe recipes/pretrain/elo_r2plus1d_50_k400.yaml --device cuda --precision bf16-mixed
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

DEFAULT_RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "pretrain" / "all_modalities_synthetic.yaml"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--recipe", default=str(DEFAULT_RECIPE), help="pretrain recipe (default: the laptop demo)")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per round")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds; the median is reported")
    parser.add_argument("--batch-size", type=int, default=None, help="override data.init_args.batch_size")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--precision", default="32-true", help="Lightning precision, e.g. bf16-mixed on GPU")
    parser.add_argument("--seed", type=int, default=0)


def _module_and_batch(cfg: dict, device: torch.device, seed: int) -> tuple[Any, dict]:
    from evovideo.lightning.cli import build_cli

    cfg = {**cfg, "seed_everything": seed}
    cfg["trainer"] = {**cfg.get("trainer", {}), "logger": False, "enable_checkpointing": False, "deterministic": False}
    cli = build_cli(cfg)
    dm = cli.datamodule
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    batch = {k: v.to(device) if torch.is_tensor(v) else v for k, v in batch.items()}
    return cli.model, batch


def _fresh_module(cfg: dict, seed: int) -> Any:
    from evovideo.lightning.cli import build_cli

    c = {k: v for k, v in cfg.items() if k != "data"}
    c["seed_everything"] = seed
    c["trainer"] = {**cfg.get("trainer", {}), "logger": False, "enable_checkpointing": False, "deterministic": False}
    return build_cli(c, datamodule_required=False).model


def plain_loop(module: Any, batch: dict, steps: int, warmup: int, precision: str) -> float:
    """Seconds per step of the same math in a hand-written loop."""
    params = [p for p in module.parameters() if p.requires_grad]
    hp = module.hparams
    opt = torch.optim.AdamW(params, lr=hp.lr, weight_decay=hp.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
    device = batch["rgb"].device
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision.startswith("bf16"))
    module.train()
    t0 = 0.0
    for i in range(warmup + steps):
        if i == warmup:
            _sync(device)
            t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        with autocast:
            terms = module.compute_losses(batch)
            total = torch.stack(list(terms.values())).sum()
        total.backward()
        opt.step()
        sched.step()
        _ = {k: v.detach() for k, v in terms.items()}  # what the Lightning side logs
    _sync(device)
    return (time.perf_counter() - t0) / steps


def lightning_loop(module: Any, batch: dict, steps: int, warmup: int, precision: str, root: str) -> float:
    """Seconds per step of ``Trainer.fit`` on the same batch repeated."""
    import pytorch_lightning as pl
    from pytorch_lightning.loggers import CSVLogger

    device = batch["rgb"].device
    cpu_batch = {k: v.cpu() if torch.is_tensor(v) else v for k, v in batch.items()}

    class Timer(pl.Callback):
        start = end = 0.0

        def on_train_batch_start(self, trainer, *_):
            if trainer.global_step == warmup:
                _sync(device)
                self.start = time.perf_counter()

        def on_train_batch_end(self, trainer, *_):
            if trainer.global_step == warmup + steps:
                _sync(device)
                self.end = time.perf_counter()

    timer = Timer()
    loader = torch.utils.data.DataLoader([cpu_batch] * (warmup + steps), batch_size=None)
    trainer = pl.Trainer(
        accelerator=device.type if device.type != "cpu" else "cpu", devices=1, precision=precision,
        max_steps=warmup + steps, logger=CSVLogger(root, name="bench"), log_every_n_steps=1,
        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False, callbacks=[timer],
        limit_val_batches=0,
    )
    trainer.fit(module, train_dataloaders=loader)
    return (timer.end - timer.start) / steps


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def run(args: argparse.Namespace) -> int:
    import logging

    from evovideo.lightning.pretrain import load_recipe

    logging.getLogger("pytorch_lightning").setLevel(logging.WARNING)
    logging.getLogger("lightning_fabric").setLevel(logging.WARNING)
    cfg = load_recipe(args.recipe)
    if args.batch_size:
        cfg["data"]["init_args"]["batch_size"] = args.batch_size
    device = torch.device(args.device)
    _, batch = _module_and_batch(cfg, device, args.seed)
    plain, light = [], []
    with tempfile.TemporaryDirectory() as root:
        for r in range(args.rounds):
            order = ("plain", "lightning") if r % 2 == 0 else ("lightning", "plain")  # cancel drift
            for side in order:
                module = _fresh_module(cfg, args.seed)
                if side == "plain":
                    plain.append(plain_loop(module.to(device), batch, args.steps, args.warmup, args.precision))
                else:
                    light.append(lightning_loop(module, batch, args.steps, args.warmup, args.precision, root))
    p, lt = statistics.median(plain), statistics.median(light)
    b = batch["rgb"].shape[0]
    print(f"ELo training step, recipe {Path(args.recipe).name}, batch {b}, {args.device}, {args.precision}, "
          f"torch threads {torch.get_num_threads()}; {args.rounds} rounds x {args.steps} steps (median)")
    print(f"{'loop':<22}{'ms/step':>10}{'clips/s':>10}")
    print(f"{'plain PyTorch':<22}{p * 1e3:>10.1f}{b / p:>10.1f}")
    print(f"{'Lightning':<22}{lt * 1e3:>10.1f}{b / lt:>10.1f}")
    ratio = lt / p
    print(f"ratio Lightning / plain: {ratio:.3f}x  (target <= 1.10x: {'met' if ratio <= 1.10 else 'NOT met'})")
    print("rounds (ms): plain " + ", ".join(f"{x * 1e3:.1f}" for x in plain)
          + " | Lightning " + ", ".join(f"{x * 1e3:.1f}" for x in light))
    return 0
