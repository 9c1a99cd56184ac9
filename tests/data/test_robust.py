"""Broken files never end an epoch: each is skipped, named once in the log, and counted."""
from __future__ import annotations

import logging
import sys

import pytest

from evovideo.lightning import UCF101DataModule

from data_layouts import SMALL, with_torchcodec

BROKEN = {
    "corrupt": "v_Biking_g09_c01.avi",
    "truncated": "v_Biking_g09_c02.mp4",
    "zero": "v_Biking_g09_c03.avi",
    "text": "v_Biking_g09_c04.avi",
}


def _add_broken_files(root, video_bank) -> list[str]:
    d = root / "UCF-101" / "Biking"
    (d / BROKEN["corrupt"]).write_bytes(bytes(range(256)) * 64)  # random-looking bytes
    mp4 = video_bank["mp4_audio"].read_bytes()
    (d / BROKEN["truncated"]).write_bytes(mp4[: len(mp4) // 2])  # an interrupted download: no index
    (d / BROKEN["zero"]).write_bytes(b"")
    (d / BROKEN["text"]).write_text("this is not a video\n" * 20)
    lists = root / "ucfTrainTestlist" / "trainlist01.txt"
    lists.write_text(lists.read_text() + "".join(f"Biking/{n} 2\n" for n in BROKEN.values()))
    return sorted(str(d / n) for n in BROKEN.values())


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("num_workers", "backend"), [(0, "pyav"), (2, "pyav"), with_torchcodec(0, "torchcodec")])
def test_epoch_completes_and_names_each_broken_file_once(ucf101_root, video_bank, capfd, num_workers, backend):
    broken = _add_broken_files(ucf101_root, video_bank)
    # a stderr handler writes through the shared file descriptor, so capfd sees worker processes too
    handler = logging.StreamHandler(sys.stderr)
    logger = logging.getLogger("evovideo.data")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        dm = UCF101DataModule(root=str(ucf101_root), num_workers=num_workers, backend=backend, **SMALL)
        dm.setup("fit")
        dm.dataset("train")[0]  # decode in the parent first: forked workers must not inherit its decoder state
        for _epoch in range(2):  # the second epoch does not try (nor name) them again
            seen = [b["video_name"] for b in dm.train_dataloader()]
            assert sum(len(s) for s in seen) == len(dm.dataset("train")) // 2 * 2  # full batches, no crash
            assert not set(broken) & {n for s in seen for n in s}
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    err = capfd.readouterr().err
    for path in broken:
        assert err.count(path) == 1, err
    assert dm.skipped == 4 and dm.skipped_files == broken
    assert "the file is empty (0 bytes)" in err
