"""Modalities derived from one decoded clip: gray (luminance), optical flow (OpenCV, cached per
video on disk), audio (log-mel via torch.stft), and the spatial transforms they share."""
from evovideo.modalities.audio import log_mel, mel_filterbank, num_audio_frames, silent_log_mel
from evovideo.modalities.flow import FLOW_METHODS, FlowSettings, compute_flow
from evovideo.modalities.flow_cache import FlowCache, FlowGrid
from evovideo.modalities.gray import gray_stats, to_gray
from evovideo.modalities.spatial import ClipCrop, crop_boxes, default_resize, normalize, normalize_uint8, to_float_clip

__all__ = [
    "FLOW_METHODS",
    "ClipCrop",
    "default_resize",
    "FlowCache",
    "FlowGrid",
    "FlowSettings",
    "compute_flow",
    "crop_boxes",
    "gray_stats",
    "log_mel",
    "mel_filterbank",
    "normalize",
    "normalize_uint8",
    "num_audio_frames",
    "silent_log_mel",
    "to_float_clip",
    "to_gray",
]
