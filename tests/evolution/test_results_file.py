"""The results file keeps every finished candidate through a torn last line, names real line
numbers in its errors, and is created with the permissions of any other file."""
from __future__ import annotations

import json
import logging
import os

import pytest

from evovideo.evolution.results import ResultsFile

HEADER = {"population": 4, "seed": 0}


def finished(path, n):
    results = ResultsFile(path, HEADER)
    for i in range(n):
        results.append({"id": f"g000c{i:03d}", "lambdas": {"a": i / 10}, "score": float(i)})
    return path.read_text()


def test_torn_last_line_is_set_aside_and_finished_lines_kept(tmp_path, caplog):
    path = tmp_path / "results.jsonl"
    text = finished(path, 4)  # header + 4 candidates: lines 1-5
    torn = text[: len(text) - 40]  # a crash in the middle of writing line 5
    path.write_text(torn)
    with caplog.at_level(logging.WARNING):
        results = ResultsFile(path, HEADER)
    assert [r["id"] for r in results.records] == ["g000c000", "g000c001", "g000c002"]
    warning = " ".join(r.getMessage() for r in caplog.records)
    assert "line 5 is torn" in warning and "3 finished candidate(s) before it are kept" in warning
    aside = list(tmp_path.glob("results.jsonl.torn-line5-*"))
    assert len(aside) == 1 and aside[0].read_text().strip() == torn.splitlines()[-1]
    assert len(path.read_text().splitlines()) == 4  # rewritten without the torn line: one warning, once
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        again = ResultsFile(path, HEADER)
    assert len(again.records) == 3 and not caplog.records


def test_torn_header_of_a_file_with_nothing_finished_starts_again(tmp_path):
    path = tmp_path / "results.jsonl"
    path.write_text('{"kind": "header", "popul')
    assert ResultsFile(path, HEADER).records == []
    assert json.loads(path.read_text())["population"] == 4


def test_zero_byte_results_file_starts_again(tmp_path):
    path = tmp_path / "results.jsonl"
    path.write_bytes(b"")
    assert ResultsFile(path, HEADER).records == []


def test_a_bad_line_before_the_last_names_its_real_line_number(tmp_path):
    path = tmp_path / "results.jsonl"
    lines = finished(path, 4).splitlines()
    lines[2] = lines[2][:30]
    path.write_text("\n".join(lines[:2]) + "\n\n" + "\n".join(lines[2:]) + "\n")  # a blank line 3: bad is line 4
    with pytest.raises(ValueError, match=r"results.jsonl, line 4: not valid JSON .*only the last line can be torn"):
        ResultsFile(path, HEADER)


def test_a_foreign_file_is_named_as_such(tmp_path):
    path = tmp_path / "results.jsonl"
    path.write_text('{"kind": "header", "population": 4, "seed": 0}\n{"x": 1}\n{"y": 2}\n')
    with pytest.raises(ValueError, match="line 2: not a candidate line of an evovideo results file"):
        ResultsFile(path, HEADER)


def test_results_file_has_the_mode_of_an_ordinary_file(tmp_path):
    old = os.umask(0o022)
    try:
        path = tmp_path / "results.jsonl"
        finished(path, 1)
        assert path.stat().st_mode & 0o777 == 0o644
        os.umask(0o077)
        finished(tmp_path / "private.jsonl", 1)
        assert (tmp_path / "private.jsonl").stat().st_mode & 0o777 == 0o600  # the umask is respected
    finally:
        os.umask(old)
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary files left behind
