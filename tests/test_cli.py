"""The `evovideo` command: help and list-models (the demo itself: tests/test_demo.py)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from evovideo import cli


def test_help_from_the_shell():
    # the real entry point, in a fresh interpreter
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-m", "evovideo", "--help"], capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "usage: evovideo" in out.stdout
    for command in ("demo", "list-models", "fit"):
        assert command in out.stdout


def test_list_models(capsys):
    assert cli.main(["list-models"]) == 0
    out = capsys.readouterr().out
    for name in ("r2plus1d_18", "r2plus1d_50", "x3d_s", "s3d", "test_r2plus1d", "audio_resnet18", "test_flow"):
        assert name in out
    assert cli.main(["list-models", "--modality", "audio"]) == 0
    lines = capsys.readouterr().out.splitlines()[1:]
    assert {line.split()[0] for line in lines} == {"audio_resnet18", "test_audio"}
    assert cli.main(["list-models", "nothing*"]) == 1


def test_demo_help(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["demo", "--help"])
    assert exit_.value.code == 0
    assert "--videos-per-class" in capsys.readouterr().out


def test_list_pretrained_zoo_entries(capsys):
    assert cli.main(["list-models", "--pretrained"]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:]}
    assert "in the package" in rows["test_r2plus1d.elo_synthetic"]
    assert "not published" in rows["r2plus1d_50.elo_k400"]
    assert cli.main(["list-models", "--pretrained", "x3d_s"]) == 1


def test_user_errors_are_one_line_with_rc_2(capsys, monkeypatch):
    """A mistake in the input: one line naming it and the way out, exit code 2, no traceback."""
    monkeypatch.delenv("EVOVIDEO_TRACEBACK", raising=False)
    assert cli.main(["fewshot", "--encoder", "./runs/nothing-here"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "local-dir:./runs/nothing-here" in err[0] and "from_pretrained" not in err[0], err
    assert cli.main(["zipf", "--encoder", "no_such_model"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_bugs_keep_their_traceback(monkeypatch):
    """An error that is not the user's (here a ZeroDivisionError inside a command) is re-raised."""
    from evovideo.commands import doctor

    monkeypatch.setattr(doctor, "report", lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        cli.main(["doctor"])


def test_traceback_flag_shows_the_traceback_of_a_user_error(monkeypatch):
    monkeypatch.setenv("EVOVIDEO_TRACEBACK", "")  # restored afterwards: --traceback sets it
    with pytest.raises(ValueError, match="local-dir:"):
        cli.main(["--traceback", "fewshot", "--encoder", "./runs/nothing-here"])
