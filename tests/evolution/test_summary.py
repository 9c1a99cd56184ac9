"""The summary a run writes (the provenance a pinned recipe cites) and its terminal form."""
from __future__ import annotations

import math

import pytest

from evovideo.evolution.summary import best_record, format_summary, run_summary


def _rec(cid, gen, idx, score, steps, final=True, knn=None):
    return {"id": cid, "generation": gen, "index": idx, "score": score, "steps": steps, "final": final,
            "lambdas": {"a": 0.5, "b": float(idx)}, "metrics": {} if knn is None else {"knn_accuracy": knn}}


def test_summary_names_the_survivor_its_lambdas_and_the_validity():
    records = [_rec("g000c000", 0, 0, 0.2, 3, final=False, knn=0.3), _rec("g000c000", 0, 0, 0.4, 9, knn=0.5),
               _rec("g000c001", 0, 1, 0.1, 3, knn=0.6), _rec("g000c002", 0, 2, math.inf, 3, knn=0.1),
               _rec("g000c003", 0, 3, 0.3, 3, knn=0.2)]
    header = {"lambda_names": ["b", "a"], "seed": 7, "fitness": {"name": "zipf", "args": {"k": 10}}, "budget": 9, "halving": {"rungs": [3, 9]}}
    s = run_summary(records, header, command="evovideo evolve -c x.yaml", wall_s=61.0)
    assert s["best"]["id"] == "g000c000" and s["best"]["steps"] == 9  # a survivor beats a better rung-3 score
    assert list(s["best"]["lambdas"].items()) == [("b", 0.0), ("a", 0.5)] and s["candidates"] == 4 and s["seed"] == 7
    assert [r["id"] for r in s["final_scores"]] == ["g000c000", "g000c001", "g000c002", "g000c003"]
    text = format_summary(s)
    assert "best g000c000 at 9 steps" in text and "reproduce: evovideo evolve -c x.yaml" in text and "1 min" in text
    with pytest.raises(ValueError, match="no finished candidate"):
        best_record([_rec("g000c000", 0, 0, math.inf, 3)])


def test_summary_records_the_recipe_its_search_trained():
    """A pick is only meaningful on the recipe it was searched on: the summary carries that recipe and the
    space (from the results header), so `bench evolution --evolved summary.json` can check it."""
    header = {"lambda_names": ["a", "b"], "pretrain": {"model": {"init_args": {"student": "s"}}},
              "space": {"tasks": ["a", "b"], "distill": []}}
    s = run_summary([_rec("g000c000", 0, 0, 0.2, 3)], header, command="evovideo evolve -c x.yaml")
    assert s["pretrain"] == header["pretrain"] and s["space"] == header["space"]
