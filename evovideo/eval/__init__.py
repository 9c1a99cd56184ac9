"""Downstream evaluation of an encoder's frozen features: few-shot episodes, kNN, linear probe,
multi-view test-time averaging.  No Lightning here (fine-tuning is ``evovideo.lightning.FinetuneModule``)."""
from evovideo.eval.classifiers import CLASSIFIERS, logistic_regression_logits, prototype_logits
from evovideo.factory import load_encoder  # the encoder factory's, re-exported for evaluation
from evovideo.eval.episodes import Episodes, random_class_split, read_class_split, sample_episodes
from evovideo.eval.features import FeatureSet, cached_features, extract_features, feature_cache_key
from evovideo.eval.fewshot import FewShotResult, classify_episodes, evaluate_fewshot
from evovideo.eval.multiview import VideoAggregator, average_views, view_index
from evovideo.eval.pipeline import fewshot_eval, video_features
from evovideo.eval.protocols import (CLASS_LISTS, PROTOCOLS, VIDEO_LISTS, protocol_classes, protocol_videos,
                                     select_protocol)
from evovideo.eval.probes import LinearProbe, accuracy, knn_scores, linear_probe
from evovideo.eval.stats import MeanCI, mean_ci95, mean_std
from evovideo.eval.videos import EVAL_DATASETS, dataset_classes, labelled_videos

__all__ = [
    "CLASSIFIERS",
    "EVAL_DATASETS",
    "Episodes",
    "FeatureSet",
    "FewShotResult",
    "LinearProbe",
    "MeanCI",
    "PROTOCOLS",
    "VIDEO_LISTS",
    "CLASS_LISTS",
    "VideoAggregator",
    "accuracy",
    "average_views",
    "cached_features",
    "classify_episodes",
    "dataset_classes",
    "evaluate_fewshot",
    "extract_features",
    "fewshot_eval",
    "feature_cache_key",
    "knn_scores",
    "labelled_videos",
    "linear_probe",
    "load_encoder",
    "logistic_regression_logits",
    "mean_ci95",
    "mean_std",
    "protocol_classes",
    "protocol_videos",
    "prototype_logits",
    "random_class_split",
    "read_class_split",
    "sample_episodes",
    "select_protocol",
    "video_features",
    "view_index",
]
