"""Cross-rank negatives: 2 gloo processes give the loss and (DDP-averaged) gradients of one
process holding the same global batch; outside torch.distributed nothing changes."""
from __future__ import annotations

import json
import os
from types import SimpleNamespace

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as tmp

from evovideo.tasks import TASKS, Features, TaskInputs
from evovideo.tasks.gather import ddp_mean_gradient, gather_with_grad

B, D, WORLD = 8, 6, 2  # global batch, feature width, ranks
CASES = [("flow", "rgb", "triplet"), ("flow", "rgb", "infonce"), ("audio", "rgb", "triplet")]


def _global_batch(mods):
    g = torch.Generator().manual_seed(1)
    feats = {m: torch.randn(B, D, generator=g) for m in mods}
    has_audio = torch.tensor([True, False, True, True, True, True, False, True])
    return feats, has_audio


def _loss_and_grads(mods, loss, rows):
    torch.manual_seed(0)  # the same task parameters on every rank
    encoders = {m: SimpleNamespace(num_features=D) for m in mods}
    task = TASKS.create("cross_modal_embedding", modalities=mods, encoders=encoders, dim=4, hidden=8, loss=loss)
    feats, has_audio = _global_batch(mods)
    batch = {"has_audio": has_audio[rows]} if "audio" in mods else {}
    features = {m: Features(fmap=feats[m][rows], pooled=feats[m][rows]) for m in mods}
    value = task(TaskInputs(batch=batch, features=features, encoders=encoders, generator=torch.Generator()))
    value.backward()
    grads = [p.grad.clone() for p in task.parameters()]
    return value.detach(), grads


def _rank(rank: int, init: str, out: str) -> None:
    dist.init_process_group("gloo", init_method=init, rank=rank, world_size=WORLD)
    torch.set_num_threads(1)
    results = []
    per = B // WORLD
    for a, b, loss in CASES:
        value, grads = _loss_and_grads((a, b), loss, slice(rank * per, (rank + 1) * per))
        for g in grads:  # what DDP does: average the ranks' gradients
            dist.all_reduce(g)
            g /= WORLD
        results.append({"loss": value.item(), "grads": [g.flatten().tolist() for g in grads]})
    if rank == 0:
        with open(out, "w") as fh:
            json.dump(results, fh)
    dist.destroy_process_group()


@pytest.mark.timeout(180)
@pytest.mark.slow
def test_two_gloo_ranks_match_one_process_with_the_global_batch(tmp_path):
    out = tmp_path / "ranks.json"
    tmp.spawn(_rank, args=(f"file://{tmp_path / 'rendezvous'}", str(out)), nprocs=WORLD, join=True)
    ranks = json.loads(out.read_text())
    for (a, b, loss), got in zip(CASES, ranks):
        value, grads = _loss_and_grads((a, b), loss, slice(0, B))
        assert got["loss"] == pytest.approx(value.item(), rel=1e-5, abs=1e-6), (a, b, loss)
        for g_rank, g_one in zip(got["grads"], grads):
            assert torch.allclose(torch.tensor(g_rank), g_one.flatten(), rtol=1e-4, atol=1e-6), (a, b, loss)


def test_identity_without_a_process_group():
    assert not dist.is_initialized()
    x = torch.randn(3, 2, requires_grad=True)
    assert gather_with_grad(x) is x
    loss = x.sum()
    assert ddp_mean_gradient(loss) is loss
