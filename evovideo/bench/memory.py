"""Memory of one ELo training step, per clip and per loss term, and the largest batch that fits.

For the recipe's terms (each alone, with the towers it needs) and for the full step, measures
the memory one clip adds, from two batch sizes (slope; fixed costs such as bf16 weight copies
drop out), on the device asked for:

  cuda  peak allocated memory of forward + backward (``torch.cuda.max_memory_allocated``);
  cpu   bytes autograd keeps for backward (``saved_tensors_hooks``, each storage once,
        parameters excluded): real compute, so use reduced sizes on a CPU;
  meta  the same count on shape-only tensors: no compute, so the paper-scale step (R(2+1)D-50,
        16 x 224 x 224) is measured in seconds on any machine.  bf16 on meta casts the model to
        bf16 (autocast does not run on meta); on cpu/cuda it is real autocast.

With activation checkpointing, backward recomputes one layer at a time and holds that layer's
activations meanwhile: the ``+recompute`` column is the largest checkpointed layer's own
saved-for-backward bytes per clip, added to the per-clip figure for the largest batch.

Largest batch = (GPU memory - 16 bytes per parameter [fp32 weights, gradients, AdamW m and v]
- fixed part) / (per-clip part + recompute).  Saved-for-backward bytes are a lower bound of the
peak (no temporaries, no activation gradients, no allocator slack): on CUDA read the measured
peak instead.

Examples:
  evovideo bench memory --device meta                                  # the paper recipe, full size
  evovideo bench memory --device meta --checkpointing rgb flow gray audio --precision bf16-mixed
  evovideo bench memory --device cpu --student test_r2plus1d --towers flow=test_flow gray=test_gray \\
      audio=test_audio --size 64 --num-frames 8
  evovideo bench memory --device cuda --precision bf16-mixed --gpu-memory-gb 80
"""
from __future__ import annotations

import argparse
import contextlib
import math
import tempfile
import warnings
from pathlib import Path
from typing import Any

import torch

PAPER_RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "pretrain" / "elo_r2plus1d_50_k400.yaml"
MiB = 2**20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    p = parser.add_argument
    p("--recipe", default=str(PAPER_RECIPE), help="pretrain recipe (default: the paper-scale one)")
    p("--device", default="meta", choices=("meta", "cpu", "cuda"), help="where to measure (default meta)")
    p("--precision", default="32", choices=("32", "bf16-mixed"))
    p("--batch-sizes", type=int, nargs=2, default=[2, 4], help="two batch sizes for the per-clip slope")
    p("--student", help="override the student (e.g. test_r2plus1d for a quick CPU run)")
    p("--towers", nargs="*", default=None, help="override towers: flow=test_flow gray=test_gray ...")
    p("--num-frames", type=int, help="override data num_frames")
    p("--size", type=int, help="override data size (crop side)")
    p("--future-frames", type=int, help="override data future_frames")
    p("--checkpointing", nargs="*", default=None, help="encoders to checkpoint: rgb flow gray audio")
    p("--gpu-memory-gb", type=float, default=80.0, help="GPU memory for the largest-batch column (default 80)")
    p("--no-terms", action="store_true", help="only the full step, not each term alone")


def recipe_args(args: argparse.Namespace) -> tuple[dict, dict]:
    from evovideo.lightning.pretrain import load_recipe

    cfg = load_recipe(args.recipe)
    model = dict(cfg["model"]["init_args"])
    data = dict(cfg.get("data", {}).get("init_args", {}))
    if args.student:
        model["student"] = args.student
    if args.towers is not None:
        model["towers"] = dict(t.split("=", 1) for t in args.towers)
    if args.checkpointing is not None:
        model["checkpointing"] = args.checkpointing
    for key in ("num_frames", "size", "future_frames"):
        if getattr(args, key) is not None:
            data[key] = getattr(args, key)
    model.pop("export_dir", None)
    return model, data


def example_batch(keys, data: dict, batch_size: int, device: str) -> dict[str, torch.Tensor]:
    """Zeros of the shapes the recipe's data produces for ``keys``."""
    from evovideo.modalities import num_audio_frames

    B, T, S = batch_size, int(data.get("num_frames", 16)), int(data.get("size", 112))
    sr, hop, n_mels = int(data.get("sample_rate", 16000)), float(data.get("hop_ms", 10.0)), int(data.get("n_mels", 64))
    clip_sec = T * int(data.get("stride", 2)) / float(data.get("frame_rate", 25.0))
    A = num_audio_frames(int(round(clip_sec * sr)), hop, sr)
    shapes = {"rgb": (B, 3, T, S, S), "gray": (B, 1, T, S, S), "flow": (B, 2, T, S, S),
              "rgb_future": (B, 3, int(data.get("future_frames", 0)), S, S),
              "audio": (B, 1, n_mels, A), "audio_shifted": (B, 1, n_mels, A)}
    g = torch.Generator().manual_seed(0)
    out: dict[str, Any] = {k: torch.randn(shapes[k], generator=g).to(device) for k in keys if k in shapes}
    out["has_audio"] = torch.ones(B, dtype=torch.bool)  # stays on the CPU (read as a mask)
    out["audio_shift"] = torch.ones(B)
    return out


def build_module(model: dict, device: str, bf16: bool):
    from evovideo.lightning.pretrain import PretrainModule

    with torch.device(device) if device == "meta" else contextlib.nullcontext(), warnings.catch_warnings():
        # a teacher's weights loaded into meta parameters are dropped, as meant (shapes only)
        warnings.filterwarnings("ignore", message=".*copying from a non-meta parameter")
        module = PretrainModule(**model)
    module = module.to(device)
    if bf16 and device == "meta":
        module = module.to(torch.bfloat16)
    return module.train()


class SavedBytes:
    """Count the storages autograd saves for backward (each once; parameters and buffers excluded)."""

    def __init__(self, module) -> None:
        self.owned = {t.untyped_storage()._cdata for t in [*module.parameters(), *module.buffers()]}
        self.seen: dict[int, int] = {}

    def pack(self, t: torch.Tensor) -> torch.Tensor:
        s = t.untyped_storage()
        if s._cdata not in self.owned:
            self.seen[s._cdata] = s.nbytes()
        return t

    def hooks(self):
        return torch.autograd.graph.saved_tensors_hooks(self.pack, lambda t: t)

    @property
    def total(self) -> int:
        return sum(self.seen.values())


def largest_recomputed_layer(module, batch: dict, bf16: bool) -> int:
    """Saved bytes of the largest layer of any checkpointed encoder (held while it is recomputed)."""
    largest = 0
    for m, encoder in module.encoders.items():
        if not encoder.grad_checkpointing or m not in batch:
            continue
        x = batch[m].to(torch.bfloat16) if bf16 and batch[m].device.type == "meta" else batch[m]
        for _, layer in encoder.named_layers():
            counter = SavedBytes(module)
            with counter.hooks():
                y = layer(x.detach().requires_grad_(True))
            largest = max(largest, counter.total)
            x = y.detach()
    return largest


def step_bytes(module, batch: dict, device: str, bf16: bool) -> int:
    """Bytes of one forward + backward: CUDA peak, else saved-for-backward storages."""
    if bf16 and device == "meta":
        batch = {k: v.to(torch.bfloat16) if v.is_floating_point() else v for k, v in batch.items()}
    autocast = torch.autocast(device, dtype=torch.bfloat16) if bf16 and device != "meta" else contextlib.nullcontext()
    counter = SavedBytes(module)
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    with counter.hooks(), autocast:
        total = torch.stack([v.float() for v in module.compute_losses(batch).values()]).sum()
    total.backward()
    module.zero_grad(set_to_none=True)
    if device == "cuda":
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - base
    return counter.total


def measure(model: dict, data: dict, device: str, bf16: bool, batch_sizes: tuple[int, int]) -> dict[str, float]:
    """{per_clip, fixed, recompute, params} bytes of the step ``model`` describes."""
    module = build_module(model, device, bf16)
    keys = module.required_keys
    b1, b2 = batch_sizes
    m1 = step_bytes(module, example_batch(keys, data, b1, device), device, bf16)
    m2 = step_bytes(module, example_batch(keys, data, b2, device), device, bf16)
    per_clip = (m2 - m1) / (b2 - b1)
    params = sum(p.numel() for p in module.parameters() if p.requires_grad)
    recompute = 0.0
    if device != "cuda" and any(e.grad_checkpointing for e in module.encoders.values()):
        with torch.autocast(device, dtype=torch.bfloat16) if bf16 and device != "meta" else contextlib.nullcontext():
            recompute = largest_recomputed_layer(module, example_batch(keys, data, b1, device), bf16) / b1
    return {"per_clip": per_clip, "fixed": m1 - per_clip * b1, "recompute": recompute, "params": params}


def largest_batch(row: dict[str, float], gpu_bytes: float) -> int:
    free = gpu_bytes - 16 * row["params"] - max(row["fixed"], 0.0)
    per_clip = row["per_clip"] + row.get("recompute", 0.0)
    return max(0, math.floor(free / per_clip)) if per_clip > 0 else 0


def term_models(model: dict, teacher_dir: str | Path | None = None) -> dict[str, dict]:
    """One recipe per active term (λ = 1), keeping the towers and checkpointing it can use.

    A distillation term alone reads a tower that no active term trains, which ``PretrainModule``
    refuses unless the tower is a pretrained teacher, as it would be in a real run of that term: each
    such tower is saved at random init under ``teacher_dir`` and given as ``teachers`` (a frozen
    teacher keeps the same bytes for backward whatever its weights)."""
    from evovideo.hub import save_pretrained
    from evovideo.lightning.pretrain import load_tower

    out = {}
    for field in ("tasks", "distill"):
        for key, w in (model.get(field) or {}).items():
            if float(w) <= 0:
                continue
            m = {**model, "tasks": {}, "distill": {}, field: {key: 1.0}}
            m["task_args"] = {k: v for k, v in (model.get("task_args") or {}).items() if k == key}
            if field == "distill":
                if teacher_dir is None:
                    raise ValueError(f"distill['{key}'] alone needs a teacher: pass teacher_dir")
                tower = key.split(":")[0]
                folder = Path(teacher_dir, tower)
                if not folder.exists():
                    save_pretrained(load_tower(tower, model["towers"][tower], None), folder)
                m["teachers"] = {tower: f"local-dir:{folder}"}
            out[key] = m
    return out


def run(args: argparse.Namespace) -> int:
    torch.manual_seed(0)
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device here; use --device meta (shapes only) or cpu")
    model, data = recipe_args(args)
    bf16 = args.precision == "bf16-mixed"
    gpu = args.gpu_memory_gb * 2**30
    rows = {"full step": measure(model, data, args.device, bf16, tuple(args.batch_sizes))}
    if not args.no_terms:
        with tempfile.TemporaryDirectory(prefix="evovideo-memory-") as teachers:
            for key, m in term_models(model, teachers).items():
                m["checkpointing"] = [e for e in (m.get("checkpointing") or []) if e in _encoders(m)]
                rows[key] = measure(m, data, args.device, bf16, tuple(args.batch_sizes))
    what = "peak allocated" if args.device == "cuda" else "saved for backward"
    print(f"memory per clip ({what}), device {args.device}, precision {args.precision}, student {model['student']}, "
          f"{data.get('num_frames')} x {data.get('size')} px, checkpointing {model.get('checkpointing') or 'off'}")
    print(f"{'term':<36} {'MiB/clip':>10} {'+recompute':>10} {'fixed MiB':>10} {'params M':>9} "
          f"{f'max batch @{args.gpu_memory_gb:g}GB':>18}")
    for name, r in rows.items():
        print(f"{name:<36} {r['per_clip'] / MiB:>10.1f} {r['recompute'] / MiB:>10.1f} {r['fixed'] / MiB:>10.1f} "
              f"{r['params'] / 1e6:>9.1f} {largest_batch(r, gpu):>18d}")
    return 0


def _encoders(model: dict) -> set[str]:
    from evovideo.tasks.plan import make_plan

    plan = make_plan(model["student"], model.get("towers") or {}, model.get("tasks") or {},
                     model.get("distill") or {}, model.get("task_args") or {})
    return set(plan.encoder_names)
