"""List registered encoders (architectures) with the input each expects.

Examples:
  evovideo list-models
  evovideo list-models 'r2plus1d*'
  evovideo list-models --modality audio
  evovideo list-models --pretrained        zoo entries (architecture.tag) and where their weights are
"""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("pattern", nargs="?", default="*", help="shell-style pattern, e.g. 'x3d*'")
    parser.add_argument("--modality", choices=["rgb", "flow", "gray", "audio"], help="only this modality")
    parser.add_argument("--pretrained", action="store_true", help="list zoo entries (pretrained weights) instead")


def _run_pretrained(pattern: str) -> int:
    from evovideo.models.zoo import get_pretrained_cfg, list_pretrained

    names = list_pretrained(pattern if "." in pattern or pattern == "*" else f"{pattern}*")
    if not names:
        print(f"no zoo entry matches '{pattern}'")
        return 1
    width = max(len(n) for n in names)
    print(f"{'name':<{width}}  weights          recipe")
    for name in names:
        cfg = get_pretrained_cfg(name)
        where = "in the package" if cfg.file else (f"hf-hub:{cfg.hf_hub_id}" if cfg.hf_hub_id else "not published")
        print(f"{name:<{width}}  {where:<15}  {cfg.recipe}")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.pretrained:
        return _run_pretrained(args.pattern)
    from evovideo.models import list_models, model_input_config

    names = list_models(args.pattern, modality=args.modality)
    if not names:
        print(f"no encoder matches '{args.pattern}'")
        return 1
    width = max(len(n) for n in names)
    print(f"{'name':<{width}}  modality  input")
    for name in names:
        cfg = model_input_config(name)
        if cfg.modality == "audio":
            shape = f"1 x {cfg.n_mels} mels @ {cfg.sample_rate} Hz"
        else:
            shape = f"{cfg.in_chans} x {cfg.num_frames} x {cfg.size} x {cfg.size}, stride {cfg.stride}"
        print(f"{name:<{width}}  {cfg.modality:<8}  {shape}")
    return 0
