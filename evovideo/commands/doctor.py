"""Print what this machine gives evovideo: versions, the decoders that really decode, devices.

Paste its output into a bug report.  It decodes a tiny in-memory clip with each decoder (the
only reliable test: TorchCodec imports without FFmpeg and fails only when it decodes).

Example:
  evovideo doctor
"""
from __future__ import annotations

import argparse
import ctypes.util
import importlib.metadata
import platform
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    del parser  # no options


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _ffmpeg_libraries() -> str:
    """The system's FFmpeg libraries (what TorchCodec loads), as the dynamic loader finds them."""
    found = {lib: ctypes.util.find_library(lib) for lib in ("avutil", "avcodec", "avformat")}
    if not any(found.values()):
        return "none found (TorchCodec cannot decode; `apt-get install ffmpeg` adds them)"
    return ", ".join(f"{v}" if v else f"lib{k}: missing" for k, v in found.items())


def report() -> list[tuple[str, str]]:
    import av
    import torch

    from evovideo import __version__
    from evovideo.data.decode import torchcodec_status

    ok, why = torchcodec_status()
    auto = "torchcodec" if ok else "pyav"  # what resolve_backend("auto") picks
    cuda = (f"yes: {torch.cuda.device_count()} x {torch.cuda.get_device_name(0)}" if torch.cuda.is_available()
            else "no (CPU only)")
    return [
        ("evovideo", __version__),
        ("python", f"{sys.version.split()[0]} ({platform.platform()})"),
        ("torch", f"{torch.__version__} (CUDA build {torch.version.cuda or 'none'}), {torch.get_num_threads()} threads"),
        ("torchvision", _version("torchvision")),
        ("pytorch-lightning", _version("pytorch-lightning")),
        ("huggingface-hub", _version("huggingface-hub")),
        ("pytorchvideo", _version("pytorchvideo")),
        ("opencv", _version("opencv-contrib-python-headless")),
        ("ray", _version("ray")),
        ("PyAV", f"{av.__version__} (its own FFmpeg {_pyav_ffmpeg()})"),
        ("torchcodec", _version("torchcodec")),
        ("system FFmpeg libs", _ffmpeg_libraries()),
        ("torchcodec decodes", f"{'yes' if ok else 'no'}: {why}"),
        ("decoder 'auto'", f"{auto}" + ("" if auto == "torchcodec" else " (TorchCodec cannot decode here)")),
        ("CUDA", cuda),
        ("caches", f"{Path.home() / '.cache' / 'evovideo'} (flow/, features/; safe to delete)"),
    ]


def _pyav_ffmpeg() -> str:
    import av

    versions = getattr(av, "library_versions", {}) or {}
    major = versions.get("libavutil")
    return "libavutil " + ".".join(map(str, major)) if major else "bundled"


def run(args: argparse.Namespace) -> int:
    del args
    rows = report()
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    return 0
