"""Loss evolution (ELo): search the loss weights lambda with a tournament GA and a fitness.

    from evovideo.evolution import FITNESS, zipf_fitness
    score = zipf_fitness(features, k=100, s=1.0).score       # unsupervised, lower is better
    FITNESS.list()                                           # ['agreement', 'gap', 'knn', 'zipf']

The search (``TournamentSearch``) only proposes and ranks lambda vectors (ask/tell); runners
(``LocalRunner``, ``RayRunner``) evaluate candidates; ``ResultsFile`` keeps every finished one so a
killed run continues where it stopped.  ``evovideo evolve`` ties them together.
"""
from evovideo.evolution.fitness import FITNESS, Fitness, FitnessResult
from evovideo.evolution.kmeans import KMeansResult, kmeans
from evovideo.evolution.gap import ClusterGapFitness, cluster_gap
from evovideo.evolution.agreement import CrossModalAgreement, FlowHistogram, adjusted_rand_index
from evovideo.evolution.knn import KNNFitness, knn_accuracy
from evovideo.evolution.zipf import (
    ZipfFitness,
    ZipfScore,
    fit_zipf_exponent,
    kl_to_zipf,
    score_clustering,
    zipf_fitness,
    zipf_prior,
)
from evovideo.evolution.genome import SearchSpace
from evovideo.evolution.search import Candidate, TournamentSearch
from evovideo.evolution.results import ResultsFile
from evovideo.evolution.runners import LocalRunner, RayRunner, make_runner
from evovideo.evolution.loop import run_evolution, search_header
from evovideo.evolution.candidate import PretrainEvaluator
from evovideo.evolution.validity import fitness_validity, rescore, seed_agreement, spearman

__all__ = [
    "FITNESS",
    "Candidate",
    "LocalRunner",
    "PretrainEvaluator",
    "RayRunner",
    "ResultsFile",
    "SearchSpace",
    "TournamentSearch",
    "make_runner",
    "run_evolution",
    "search_header",
    "Fitness",
    "FitnessResult",
    "KMeansResult",
    "ClusterGapFitness",
    "CrossModalAgreement",
    "FlowHistogram",
    "KNNFitness",
    "ZipfFitness",
    "ZipfScore",
    "fit_zipf_exponent",
    "kl_to_zipf",
    "score_clustering",
    "adjusted_rand_index",
    "cluster_gap",
    "kmeans",
    "knn_accuracy",
    "zipf_fitness",
    "zipf_prior",
    "fitness_validity",
    "rescore",
    "seed_agreement",
    "spearman",
]
