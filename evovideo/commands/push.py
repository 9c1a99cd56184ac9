"""Publish a trained student: model.safetensors + config.json + a generated model card (README.md).

The checkpoint is a folder written by evovideo.save_pretrained (pretraining runs export their
student there).  It is loaded back strictly before anything is uploaded.

Examples:
  evovideo push --checkpoint runs/elo_demo/student --repo my-org/elo-r2plus1d-demo \
      --recipe recipes/pretrain/demo_synthetic.yaml --pretraining-data "evovideo synthetic set, seed 0"
  evovideo push --checkpoint runs/elo_demo/student --repo my-org/elo-r2plus1d-demo --revision v1
  evovideo push --checkpoint runs/elo_demo/student --repo my-org/x --dry-run out/   # files only

Authentication: `hf auth login` or HF_TOKEN.  HF_ENDPOINT selects another Hub.
"""
from __future__ import annotations

import argparse
import sys

from evovideo.commands.common import add_renamed, strip_prefix

# as evovideo.hub.resolve spells them (not imported here: `evovideo push --help` does not load torch)
LOCAL_DIR_PREFIX, HF_HUB_PREFIX = "local-dir:", "hf-hub:"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", required=True, type=lambda v: strip_prefix(v, LOCAL_DIR_PREFIX),
                        help="folder with config.json + model.safetensors (local-dir:/path or /path)")
    parser.add_argument("--repo", required=True, metavar="ORG/NAME", type=lambda v: strip_prefix(v, HF_HUB_PREFIX),
                        help="Hub repo id, created if missing (hf-hub:ORG/NAME or ORG/NAME)")
    parser.add_argument("--revision", default=None, help="branch to push to (created from main); default main")
    parser.add_argument("--private", action="store_true", help="create the repo as private")
    parser.add_argument("--message", default=None, help="commit message")
    parser.add_argument("--recipe", help="card: the recipe the weights were trained with (path in the repository)")
    parser.add_argument("--pretraining-data", help="card: exactly what the weights were pretrained on")
    add_renamed(parser, "--data", "--pretraining-data")
    parser.add_argument("--license", help="card: license of the weights (default apache-2.0)")
    parser.add_argument("--dry-run", metavar="DIR", default=None,
                        help="write the repo's files (weights, config, card) to DIR and upload nothing")


def run(args: argparse.Namespace) -> int:
    from evovideo.hub import PretrainedLoadError
    from evovideo.hub.push import prepare_repo_folder, push_to_hub

    facts = {"recipe": args.recipe, "pretraining_data": args.pretraining_data, "license": args.license}
    facts = {k: v for k, v in facts.items() if v}
    try:
        if args.dry_run:
            folder = prepare_repo_folder(args.checkpoint, args.dry_run, args.repo, card_facts=facts)
            print(f"wrote {', '.join(sorted(p.name for p in folder.iterdir()))} to {folder} (nothing uploaded)")
            return 0
        result = push_to_hub(
            args.checkpoint, args.repo, revision=args.revision, private=args.private, commit_message=args.message,
            card_facts=facts,
        )
    except (PretrainedLoadError, FileNotFoundError) as err:
        print(f"evovideo push: {err}", file=sys.stderr)
        return 2
    print(f"pushed to {result.repo_id}@{result.revision}: commit {result.commit}")
    print(f"load it with: evovideo.from_pretrained(\"hf-hub:{result.repo_id}\", revision=\"{result.commit}\")")
    return 0
