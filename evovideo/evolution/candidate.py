"""Evaluate one candidate: pretrain briefly with its lambdas, extract features, score them.

    from evovideo.lightning.evolve import fitness_datamodule, pretrain_with_lightning
    evaluate = PretrainEvaluator(recipe="recipes/pretrain/all_modalities_synthetic.yaml", budget=20,
                                 trainer=pretrain_with_lightning, datamodule=fitness_datamodule,
                                 space={"tasks": [...], "distill": [...]},
                                 fitness="zipf", fitness_args={"k": 8},
                                 fitness_data={"class_path": "evovideo.lightning.SyntheticDataModule",
                                               "init_args": {"num_videos_per_class": 4}},
                                 workdir="runs/evolve/demo/candidates")
    result = evaluate(candidate)        # FitnessResult: score (lower is better) + metrics

The trainer is a small interface, ``Trainer(recipe, lambdas, budget, seed, workdir) -> Encoder``,
and so is ``datamodule(spec)``, which builds the fitness data from its ``{class_path, init_args}``;
both are passed in (the Lightning ones live in :mod:`evovideo.lightning.evolve`, above this
package, which never imports Lightning).  Every
candidate trains with the same ``seed`` (same initialisation and data order: common random
numbers), so a seed that is bad for every λ alike does not reorder them.  A seed can still be good
for one λ and bad for another (λ × seed interaction; ``evovideo bench evolution`` measures it):
``seeds=n`` trains each candidate on ``seed .. seed+n-1`` (``<workdir>/<id>[/steps<N>]/seed<s>``)
and scores it by the mean of their fitnesses (the per-seed scores in ``metrics``).

The evaluator is a plain picklable object: process and Ray workers rebuild the data themselves.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import torch

from evovideo.evolution.fitness import FITNESS, FitnessResult
from evovideo.evolution.knn import knn_accuracy
from evovideo.evolution.search import Candidate
from evovideo.models import Encoder
from evovideo.tasks.lambdas import Lambdas, nest_lambdas

log = logging.getLogger(__name__)

FOLDS = ("train", "val", "test")
Trainer = Callable[[Any, Lambdas, int, int, Path], Encoder]  # recipe, {tasks, distill}, budget, seed, workdir
DataModuleFactory = Callable[[Mapping[str, Any]], Any]  # {class_path, init_args} -> a set-up-able data module


def build_loader(spec: Mapping[str, Any], datamodule: DataModuleFactory, fold: str = "val") -> Any:
    """A dataloader from a ``{class_path, init_args}`` data module spec, built by ``datamodule``.

    Cached per process (the fitness data is the same for every candidate; a worker that scores
    several candidates builds it once).
    """
    return _cached_loader(json.dumps(dict(spec), sort_keys=True), datamodule, fold)


@functools.lru_cache(maxsize=4)  # the fitness data, and its reference modality alone
def _cached_loader(spec_json: str, datamodule: DataModuleFactory, fold: str) -> Any:
    check_fold(fold)
    dm = datamodule(json.loads(spec_json))
    dm.setup("validate" if fold == "val" else fold)
    return getattr(dm, f"{fold}_dataloader")()


def build_reference(spec: Mapping[str, Any], datamodule: DataModuleFactory, fold: str, kind: str) -> Any:
    """The ``kind`` reference descriptor (:mod:`evovideo.evolution.agreement`) of every video of the fitness
    data: a FeatureSet, computed once per process (it does not depend on the candidate) from the same data
    module with only the modality the reference reads (e.g. flow): the students' loader stays RGB only."""
    from evovideo.evolution.agreement import reference_modality

    spec = json.loads(json.dumps(dict(spec)))
    spec.setdefault("init_args", {})["modalities"] = [reference_modality(kind)]
    return _cached_reference(json.dumps(spec, sort_keys=True), datamodule, fold, kind)


@functools.lru_cache(maxsize=2)
def _cached_reference(spec_json: str, datamodule: DataModuleFactory, fold: str, kind: str) -> Any:
    from evovideo.evolution.agreement import reference_features

    return reference_features(kind, _cached_loader(spec_json, datamodule, fold))


def mean_result(results: Sequence[FitnessResult], seeds: Sequence[int]) -> FitnessResult:
    """One candidate's result over training seeds: the mean score (inf if any seed was refused or
    diverged: a λ that fails on one seed is not a safe pick), each numeric metric's mean, and
    ``seed_scores`` / ``seed_score_std``."""
    scores = [r.score for r in results]
    metrics: dict[str, Any] = {"seed_scores": dict(zip(map(str, seeds), scores))}
    failed = [r.metrics["error"] for r in results if "error" in r.metrics]
    if failed or not all(math.isfinite(s) for s in scores):
        metrics["error"] = failed[0] if failed else "a seed scored inf"
        return FitnessResult(score=math.inf, metrics=metrics)
    mean = sum(scores) / len(scores)
    metrics["seed_score_std"] = math.sqrt(sum((s - mean) ** 2 for s in scores) / max(1, len(scores) - 1))
    for key in results[0].metrics:
        vals = [r.metrics.get(key) for r in results]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
            metrics[key] = sum(vals) / len(vals)
    return FitnessResult(score=mean, metrics=metrics)


def check_fold(fold: str) -> str:
    if fold not in FOLDS:
        raise ValueError(f"fitness.fold = {fold!r}: must be one of {', '.join(FOLDS)}")
    return fold


@dataclass
class PretrainEvaluator:
    """Pretrain -> features -> fitness for one candidate (see the module docstring).

    recipe: base pretrain recipe (path or dict); budget: training steps per candidate.
    trainer: trains a candidate (``Trainer``, given the nested λ); datamodule: builds the fitness data
    from its spec (``evovideo.lightning.evolve`` has the Lightning ones); space: which genome names are
    task terms and which distillation terms (``EvolveRecipe.space``).
    fitness / fitness_args: a registered fitness (``evovideo.evolution.FITNESS``) and its arguments.
    fitness_data: the held-out set the features are computed on (``{class_path, init_args}``),
    fitness_fold: which of its loaders (val by default).
    """

    recipe: Any
    budget: int
    trainer: Trainer
    datamodule: DataModuleFactory
    space: Mapping[str, Sequence[str]]  # the genome's names by group: {tasks: [...], distill: [...]}
    fitness: str = "zipf"
    fitness_args: dict[str, Any] = field(default_factory=dict)
    fitness_data: dict[str, Any] = field(default_factory=dict)
    fitness_fold: str = "val"
    seed: int = 0
    seeds: int = 1  # training seeds per candidate (seed, seed+1, ...), fitness averaged
    workdir: str = "runs/evolve/candidates"
    device: str = "auto"  # feature extraction: "auto" = cuda when available, else cpu
    stop_at: int | None = None  # successive halving: score at this step of the budget-step schedule
    resume_at: int | None = None  # ... continuing the checkpoint its previous rung stopped at
    validate: bool = True  # labelled fitness data: also report kNN accuracy (the fitness's validity)

    def at_rung(self, steps: int, previous: int | None) -> "PretrainEvaluator":
        """This evaluator stopping at ``steps`` (None-like when ``steps`` is the budget), continuing
        the run its ``previous`` rung stopped at (steps of that rung, or None to start fresh)."""
        return dataclasses.replace(self, stop_at=None if steps >= self.budget else steps, resume_at=previous)

    def __post_init__(self) -> None:
        FITNESS.get(self.fitness)  # unknown names fail now, listing the known ones

    def __call__(self, candidate: Candidate) -> FitnessResult:
        results, seeds = [], range(self.seed, self.seed + self.seeds)
        for s in seeds:  # one seed: the candidate's folder itself, as before candidate_seeds existed
            sub = f"seed{s}" if self.seeds > 1 else None
            results.append(self._train_and_score(candidate, s, Path(self.workdir) / candidate.id, sub))
            if not math.isfinite(results[-1].score):  # refused or diverged: inf whatever the other seeds give
                break
        return results[0] if self.seeds == 1 else mean_result(results, seeds[:len(results)])

    def _train_and_score(self, candidate: Candidate, seed: int, workdir: Path, sub: str | None) -> FitnessResult:
        from evovideo.tasks.base import RecipeError

        rung = {}
        if self.stop_at is not None or self.resume_at is not None:
            resume = workdir / f"steps{self.resume_at}" / (sub or "") / "stopped.ckpt" if self.resume_at else None
            rung = {"stop_at": self.stop_at, "resume_from": resume if resume is not None and resume.is_file() else None}
            workdir = workdir / f"steps{self.stop_at or self.budget}"
        workdir = workdir / sub if sub else workdir
        try:
            lambdas = nest_lambdas(candidate.lambdas, self.space)
            student = self.trainer(self.recipe, lambdas, self.budget, seed, workdir, **rung)
        except RecipeError as err:  # e.g. distillation from a tower no remaining term trains
            log.warning("candidate %s refused: %s", candidate.id, err)
            return FitnessResult(score=math.inf, metrics={"error": f"refused: {err}"})
        return self.score(student, save_to=workdir / "fitness_features.pt")

    def score(self, encoder: Encoder, save_to: Path | None = None) -> FitnessResult:
        """The fitness of an encoder's features on the fitness data (kept in ``save_to``, so any
        other fitness can be computed on them afterwards: ``evovideo.eval.features.FeatureSet.load``)."""
        from evovideo.eval.features import extract_features

        fit = FITNESS.create(self.fitness, **self.fitness_args)
        loader = build_loader(self.fitness_data, self.datamodule, self.fitness_fold)
        device = self.device if self.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
        fs = extract_features(encoder, loader, device=device, progress=False)
        if save_to is not None:
            fs.save(save_to)
        if not bool(torch.isfinite(fs.features).all()):  # training diverged: worst score, keep going
            log.warning("non-finite features: candidate scored +inf")
            return FitnessResult(score=math.inf, metrics={"error": "non-finite features (training diverged)"})
        kind = getattr(fit, "reference", None)  # a fixed descriptor of the same clips' other modality
        if kind is None:
            result = fit(fs.features, fs.labels if fit.requires_labels else None)
        else:
            ref = build_reference(self.fitness_data, self.datamodule, self.fitness_fold, kind)
            if ref.names != fs.names:
                raise RuntimeError(f"the '{kind}' reference and the features cover different videos: the fitness "
                                   "data's val loader must list the same videos in the same order every time")
            result = fit(fs.features, fs.labels if fit.requires_labels else None, reference=ref.features)
        labelled = fs.labels is not None and bool((fs.labels >= 0).all()) and len(set(fs.labels.tolist())) > 1
        if self.validate and labelled and "knn_accuracy" not in result.metrics:
            # validity, never selects; balanced: a long-tailed fitness set's head class cannot carry it
            result.metrics["knn_accuracy"] = knn_accuracy(fs.features, fs.labels, balanced=True)
        return result
