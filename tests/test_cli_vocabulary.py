"""One CLI vocabulary: a flag means the same thing in every command, and an old spelling still
works but says the new one."""
from __future__ import annotations

import argparse

import pytest

from evovideo.cli import SUBCOMMANDS, _command_parser


def _parsers(name: str) -> list[argparse.ArgumentParser]:
    """The command's parser and those of its sub-actions (flow precompute, bench data, ...)."""
    parser, _ = _command_parser(name)
    found, todo = [], [parser]
    while todo:
        p = todo.pop()
        found.append(p)
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                todo += list(action.choices.values())
    return found


def _visible(name: str) -> dict[str, argparse.Action]:
    return {o: a for p in _parsers(name) for a in p._actions for o in a.option_strings if a.help != argparse.SUPPRESS}


def test_flags_mean_one_thing_everywhere() -> None:
    flags = {name: _visible(name) for name in SUBCOMMANDS}
    assert not [n for n, f in flags.items() if "--data" in f], "which videos is --dataset, in every command"
    for name in ("zipf", "fewshot", "flow"):
        assert "--dataset" in flags[name], name
    assert not [n for n, f in flags.items() if "--folds" in f and n == "finetune"], "official splits are --splits"
    assert "--splits" in flags["finetune"]
    # DataLoader processes are --loader-workers; --workers is the evolution's (and flow's) parallel work
    for name in ("zipf", "fewshot"):
        assert "--loader-workers" in flags[name] and "--workers" not in flags[name], name
    assert "--workers" in flags["evolve"] and "--loader-workers" not in flags["evolve"]


def test_unlabeled_folder_and_class_per_folder_have_distinct_names() -> None:
    fewshot = _visible("fewshot")["--dataset"].choices
    zipf = _visible("zipf")["--dataset"].choices
    assert "class-folders" in fewshot and "folder" not in fewshot  # root/<class>/<video>: labelled
    assert "folder" in zipf and "class-folders" in zipf  # every video under root, unlabeled; or labelled


@pytest.mark.parametrize(("command", "old", "new", "dest", "value"), [
    ("zipf", "--data", "--dataset", "dataset", "synthetic"),
    ("zipf", "--workers", "--loader-workers", "loader_workers", "2"),
    ("fewshot", "--workers", "--loader-workers", "loader_workers", "2"),
    ("finetune", "--folds", "--splits", "splits", "1"),
    ("push", "--data", "--pretraining-data", "pretraining_data", "synthetic clips"),
])
def test_old_spelling_still_parses_and_names_the_new_one(command, old, new, dest, value, capsys) -> None:
    parser, _ = _command_parser(command)
    required = {"zipf": ["--encoder", "x"], "fewshot": ["--encoder", "x"], "finetune": ["-c", "r.yaml", "--root", "r", "--encoder", "x"],
                "push": ["--checkpoint", "c", "--repo", "o/n"]}[command]
    args = parser.parse_args([*required, old, value])
    got = getattr(args, dest)
    assert got == value or got == [int(value)] or got == int(value)
    assert f"{old} is now {new}" in capsys.readouterr().err


def test_fewshot_old_folder_name_says_which_one_it_means(capsys) -> None:
    parser, _ = _command_parser("fewshot")
    args = parser.parse_args(["--encoder", "x", "--dataset", "folder"])
    assert args.dataset == "class-folders"
    assert "'folder' is now 'class-folders'" in capsys.readouterr().err


def test_push_takes_the_local_dir_prefix_like_every_other_command(tmp_path) -> None:
    from evovideo.cli import main
    from evovideo.factory import create_model
    from evovideo.hub import save_pretrained

    save_pretrained(create_model("test_r2plus1d"), tmp_path / "ck")
    assert main(["push", "--checkpoint", f"local-dir:{tmp_path / 'ck'}", "--repo", "hf-hub:me/x",
                 "--dry-run", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "model.safetensors").is_file()


def test_bench_loaders_also_say_loader_workers() -> None:
    subs = {p.prog.split()[-1]: p for p in _parsers("bench")}
    for name in ("data", "fewshot"):
        flags = {o for a in subs[name]._actions for o in a.option_strings}
        assert "--loader-workers" in flags and "--workers" not in flags, name
