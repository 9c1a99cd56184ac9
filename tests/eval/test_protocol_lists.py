"""The shipped few-shot video lists are the published files: size, lines, per-class counts, no
duplicates, the recorded sha256, the provenance table in README.md, and they ship in the package."""
from __future__ import annotations

import collections
import hashlib
import re

import pytest

from evovideo.eval.protocols import HERE, PARTS, PROTOCOLS, TRX, VIDEO_LISTS, protocol_classes, protocol_videos

#: the form of every line, per protocol (HMDB51's names are free text)
LINE = {
    "hmdb51-arn": r"[a-z_]+/\S+", "ucf101-arn": r"(\w+)/v_\w+_g(0[1-9]|1\d|2[0-5])_c\d\d",
    "kinetics100-cmn": r"[a-z ()]+/[\w-]{11}_\d{6}_\d{6}", "ssv2-100-cmn": r"[^/]+/[1-9]\d*",
    "ssv2-100-otam": r"(test|val)\d+/[1-9]\d*",
}
#: classes per part, and videos per class where the protocol fixes it (CMN: 100 per class)
SHAPE = {
    "hmdb51-arn": ((10, 10), None), "ucf101-arn": ((21, 10), None), "kinetics100-cmn": ((24, 12), 100),
    "ssv2-100-cmn": ((24, 12), 100), "ssv2-100-otam": ((24, 12), None),
}


@pytest.mark.parametrize("name,part", sorted(VIDEO_LISTS))
def test_shipped_list_is_the_published_file(name, part):
    record = VIDEO_LISTS[(name, part)]
    raw = (HERE / f"{name}.{part}.videos.txt").read_bytes()
    text = raw.decode("utf-8")
    assert len(text) == record.chars and hashlib.sha256(raw).hexdigest() == record.sha256
    assert text.endswith("\n") and "\r" not in text
    lines = text.split("\n")[:-1]
    assert len(lines) == record.lines and len(set(lines)) == len(lines), "duplicated lines"
    assert [line for line in lines if not re.fullmatch(LINE[name], line)] == []
    per_class = collections.Counter(line.rpartition("/")[0] for line in lines)
    (n_test, n_val), per = SHAPE[name]
    assert len(per_class) == (n_test if part == "meta_test" else n_val)
    if per is not None:
        assert set(per_class.values()) == {per}
    assert protocol_videos(name, part) == lines  # no suffix to drop in any published list
    if PROTOCOLS[name].classes_shipped:  # ARN: the list's classes are the class list shipped before
        assert sorted(per_class) == sorted(protocol_classes(name, part))
    if name == "ucf101-arn":  # every group g01-g25 of every class (UCF101's group structure)
        groups = {(line.rpartition("/")[0], re.search(r"_g(\d\d)_c", line).group(1)) for line in lines}
        assert len(groups) == 25 * len(per_class)


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
def test_meta_test_and_meta_val_classes_are_disjoint(name):
    test, val = (set(protocol_classes(name, part)) for part in PARTS)
    assert test and val and not test & val


def test_readme_records_the_provenance_of_every_shipped_list():
    readme = (HERE / "README.md").read_text()
    assert TRX.split("@")[1] in readme
    for (name, part), record in VIDEO_LISTS.items():
        row = next((r for r in readme.splitlines() if f"`{name}.{part}.videos.txt`" in r), "")
        assert record.source.removeprefix("splits/") in row and record.sha256 in row, (name, part)
        assert f"{record.chars:,}" in row and f"{record.lines:,}" in row, (name, part)


def test_video_lists_ship_in_the_package():
    """The installed package carries the lists: pyproject's package-data covers them and
    importlib.resources finds them (a wheel built from this tree was checked the same way)."""
    import fnmatch
    import importlib.resources
    import tomllib
    from pathlib import Path

    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["evovideo"]
    for name, part in VIDEO_LISTS:
        rel = f"eval/protocols/{name}.{part}.videos.txt"
        assert any(fnmatch.fnmatch(rel, pat) for pat in patterns), rel
        resource = importlib.resources.files("evovideo.eval.protocols") / f"{name}.{part}.videos.txt"
        assert resource.is_file()
