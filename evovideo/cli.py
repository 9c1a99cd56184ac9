"""``evovideo``: one command for the whole pipeline.

Lightning's own subcommands (``fit``, ``validate``, ``test``, ``predict``) go to LightningCLI, so a
recipe YAML is the typed constructor arguments of a LightningModule and a DataModule.  The other
subcommands are small modules under ``evovideo.commands``; each has ``add_arguments(parser)`` and
``run(args) -> int``, and is imported only when it is the one asked for.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from evovideo.quiet import quiet_frameworks

LIGHTNING_SUBCOMMANDS = {
    "fit": "train a model from a recipe: evovideo fit -c recipes/pretrain/demo_synthetic.yaml",
    "validate": "run the validation loop of a recipe",
    "test": "evaluate a recipe's model (multi-view test protocol)",
    "predict": "run prediction with a recipe's model",
}

# name -> (module, one-line help)
SUBCOMMANDS = {
    "demo": ("evovideo.commands.demo", "the whole pipeline on the built-in synthetic video set (no data, no network)"),
    "list-models": ("evovideo.commands.list_models", "list registered encoders and zoo entries"),
    "evolve": ("evovideo.commands.evolve", "evolve the loss weights lambda: evovideo evolve -c recipes/evolve/<entry>.yaml"),
    "zipf": ("evovideo.commands.zipf", "score an encoder without labels with the Zipf-prior fitness"),
    "fewshot": ("evovideo.commands.fewshot", "N-way K-shot evaluation of an encoder"),
    "finetune": ("evovideo.commands.finetune", "fine-tune + multi-view test on several official splits: mean ± std"),
    "push": ("evovideo.commands.push", "save a trained student (safetensors + config + card) and upload it to the Hub"),
    "flow": ("evovideo.commands.flow", "optical flow once per video: evovideo flow precompute -c <recipe> --out DIR"),
    "bench": ("evovideo.commands.bench", "benchmarks: data loading, training step, zipf, few-shot"),
    "doctor": ("evovideo.commands.doctor", "versions, decoders and devices of this machine (paste it into a bug report)"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="evovideo",
        description=(
            "Self-supervised video representation learning with evolved losses (ELo).\n"
            "Start with `evovideo demo`: it runs pretraining and evaluation on a built-in\n"
            "synthetic video set in a few minutes on a laptop CPU."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    parser.add_argument("--traceback", action="store_true",
                        help="show the full traceback of an error (default: one line; or set EVOVIDEO_TRACEBACK=1)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_ in LIGHTNING_SUBCOMMANDS.items():
        sub.add_parser(name, help=help_, add_help=False)
    for name, (_, help_) in SUBCOMMANDS.items():
        sub.add_parser(name, help=help_, add_help=False)
    return parser


def _command_parser(name: str) -> tuple[argparse.ArgumentParser, object]:
    module_name, help_ = SUBCOMMANDS[name]
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(
        prog=f"evovideo {name}",
        description=(module.__doc__ or help_).strip(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    module.add_arguments(parser)
    return parser, module


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    flags = set()
    while argv and argv[0] in ("-v", "--verbose", "--traceback"):
        flags.add(argv.pop(0))
    if "--traceback" in flags:
        os.environ["EVOVIDEO_TRACEBACK"] = "1"  # also read by DDP's re-launched ranks
    logging.basicConfig(
        level=logging.DEBUG if flags & {"-v", "--verbose"} else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    quiet_frameworks()
    parser = build_parser()
    if not argv or argv[0] in ("-h", "--help"):
        parser.print_help()
        return 0
    if argv[0] == "--version":
        from evovideo import __version__

        print(__version__)
        return 0
    name, rest = argv[0], argv[1:]
    if name not in LIGHTNING_SUBCOMMANDS and name not in SUBCOMMANDS:
        parser.error(f"unknown command '{name}'; choose from: {', '.join([*LIGHTNING_SUBCOMMANDS, *SUBCOMMANDS])}")
    try:
        if name in LIGHTNING_SUBCOMMANDS:
            from evovideo.lightning.cli import run_lightning_cli

            return run_lightning_cli([name, *rest])
        sub_parser, module = _command_parser(name)
        args = sub_parser.parse_args(rest)
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        print(f"\nevovideo {name}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001  (user errors become one line; bugs keep their traceback)
        from evovideo.commands.common import show_tracebacks, user_error

        line = user_error(err)
        if line is None or show_tracebacks():
            raise
        print(f"evovideo {name}: error: {line}  (--traceback for details)", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
