"""Accuracy-vs-shots plot writes a real PNG."""
from __future__ import annotations

import torch

from evovideo.eval.fewshot import evaluate_fewshot
from evovideo.eval.plots import plot_accuracy_vs_shots


def test_plot_png(tmp_path):
    feats, labels = torch.randn(120, 8), torch.arange(6).repeat_interleave(20)
    res = evaluate_fewshot(feats, labels, way=3, shots=[1, 2], query=3, episodes=10, seed=0)
    path = plot_accuracy_vs_shots({"random": res}, tmp_path / "plots" / "acc.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
