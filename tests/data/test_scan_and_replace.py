"""Folder scans name what they skip; a run of bad files is replaced by many videos, not one."""
from __future__ import annotations

import logging
from collections import Counter

import torch

from evovideo.clip import ClipSpec
from evovideo.data.dataset import InMemoryClipDataset, SampleKey
from evovideo.data.decode import DecodedVideo, DecodeError
from evovideo.data.pipeline import SampleBuilder
from evovideo.data.splits import scan_folder


def test_scan_names_dangling_symlinks_and_folders_named_like_videos(tmp_path, caplog):
    (tmp_path / "good.mp4").write_bytes(b"x")
    (tmp_path / "gone.avi").symlink_to(tmp_path / "deleted.avi")
    (tmp_path / "folder.avi").mkdir()
    with caplog.at_level(logging.WARNING):
        records = scan_folder(tmp_path)
    assert [r.path for r in records] == [str(tmp_path / "good.mp4")]
    message = " ".join(r.getMessage() for r in caplog.records)
    assert "skipping 2 entries" in message
    assert f"{tmp_path / 'gone.avi'} (a dangling symlink)" in message and f"{tmp_path / 'folder.avi'} (a folder)" in message


class _SomeBad(InMemoryClipDataset):
    def __init__(self, bad: set[int], **kwargs) -> None:
        self.bad = bad
        super().__init__(**kwargs)

    def _open(self, video: int):
        if video in self.bad:
            raise DecodeError(self._name(video), "damaged on purpose")
        return super()._open(video)


def test_a_run_of_bad_files_is_replaced_by_many_videos():
    video = DecodedVideo(torch.zeros(8, 8, 8, 3, dtype=torch.uint8), 8.0)
    builder = SampleBuilder(ClipSpec(num_frames=2, stride=1, frame_rate=8.0, size=8, resize=8), train=True, hflip=False)
    n, bad = 21, set(range(5, 11))  # six bad files in a row
    ds = _SomeBad(bad, videos=[(video, i) for i in range(n)], builder=builder, labels=list(range(n)))
    got = Counter(int(ds[SampleKey(i, 0, 0)]["video_index"]) for i in range(n))
    assert not set(got) & bad and sum(got.values()) == n
    replacements = Counter(int(ds[SampleKey(i, 0, 0)]["video_index"]) for i in sorted(bad))
    assert max(replacements.values()) <= 2, replacements  # was: all six went to video 11
    assert ds[SampleKey(7, 0, 0)]["video_index"] == ds[SampleKey(7, 0, 0)]["video_index"]  # deterministic
