"""Fixtures: real encoded tiny videos in the official dataset layouts under tmp_path."""
from __future__ import annotations

from pathlib import Path

import pytest
from data_layouts import make_hmdb51, make_ucf101, tiny_video, write_video


@pytest.fixture(scope="session")
def video_bank(tmp_path_factory) -> dict[str, Path]:
    """Four real files: AVI (MPEG-4/MP3) with and without audio, MP4 (H.264/AAC) with and without."""
    d = tmp_path_factory.mktemp("bank")
    return {
        "avi_audio": write_video(d / "a.avi", tiny_video(0)),
        "avi": write_video(d / "b.avi", tiny_video(1, audio=False)),
        "mp4_audio": write_video(d / "c.mp4", tiny_video(2)),
        "mp4": write_video(d / "d.mp4", tiny_video(3, audio=False)),
    }


@pytest.fixture
def ucf101_root(tmp_path, video_bank) -> Path:
    return make_ucf101(tmp_path / "UCF101", video_bank)


@pytest.fixture
def hmdb51_root(tmp_path, video_bank) -> Path:
    return make_hmdb51(tmp_path / "HMDB51", video_bank)


