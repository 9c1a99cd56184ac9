"""The meta-train class lists complete each protocol's three-way class split: shipped, hashed,
disjoint from meta-val and meta-test, and together they cover the dataset's classes."""
from __future__ import annotations

import hashlib

import pytest

from evovideo.eval import protocols
from evovideo.eval.protocols import CLASS_LISTS, CLASS_PARTS, HERE, PROTOCOLS, protocol_classes

#: meta-train classes, and all classes of the dataset (meta-train + meta-val + meta-test)
SPLIT = {"hmdb51-arn": (31, 51), "ucf101-arn": (70, 101), "kinetics100-cmn": (64, 100),
         "ssv2-100-cmn": (64, 100), "ssv2-100-otam": (64, 100)}


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
def test_meta_train_classes_complete_a_disjoint_three_way_split(name):
    train, val, test = (protocol_classes(name, part) for part in ("meta_train", "meta_val", "meta_test"))
    n_train, n_all = SPLIT[name]
    assert len(train) == len(set(train)) == n_train
    assert not set(train) & set(val) and not set(train) & set(test) and not set(val) & set(test)
    assert len(set(train) | set(val) | set(test)) == n_all


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
def test_meta_train_file_is_the_recorded_copy(name):
    record = CLASS_LISTS[(name, "meta_train")]
    raw = (HERE / f"{name}.meta_train.txt").read_bytes()
    assert hashlib.sha256(raw).hexdigest() == record.sha256
    text = raw.decode("utf-8")
    assert text.endswith("\n") and "\r" not in text and len(text.splitlines()) == record.classes
    assert record.source.startswith("splits/") and record.source_chars > 0


def test_a_meta_train_file_that_does_not_hash_to_its_record_is_refused(monkeypatch):
    record = CLASS_LISTS[("kinetics100-cmn", "meta_train")]
    monkeypatch.setitem(CLASS_LISTS, ("kinetics100-cmn", "meta_train"), record._replace(sha256="0" * 64))
    with pytest.raises(ValueError, match="sha256.*reinstall"):
        protocol_classes("kinetics100-cmn", "meta_train")


def test_unknown_part_names_the_parts():
    with pytest.raises(ValueError, match="meta_train, meta_val, meta_test"):
        protocol_classes("kinetics100-cmn", "train")
    assert CLASS_PARTS == ("meta_train", "meta_val", "meta_test")


def test_readme_records_the_provenance_of_every_meta_train_list():
    readme = (HERE / "README.md").read_text()
    for (name, part), record in CLASS_LISTS.items():
        row = next((r for r in readme.splitlines() if f"`{name}.{part}.txt`" in r), "")
        assert record.source.removeprefix("splits/") in row and record.sha256 in row, name
        assert f"{record.source_chars:,}" in row and f"| {record.classes} |" in row, name
    assert protocols.__doc__ and "meta_train" in protocols.__doc__


def test_kinetics_meta_train_names_account_for_every_character_of_the_source():
    """Every Kinetics-CMN train line is '<class>/<11-char id>_<6 digits>_<6 digits>\\n' (len(class) + 27
    characters) and CMN keeps 100 videos per class, so the names must add up to the source's size:
    a dropped, extra or mistyped-length name breaks the equality."""
    record = CLASS_LISTS[("kinetics100-cmn", "meta_train")]
    names = protocol_classes("kinetics100-cmn", "meta_train")
    assert sum(100 * (len(name) + 27) for name in names) == record.source_chars


def test_meta_train_names_have_the_dataset_form_and_ship_in_the_package():
    import fnmatch
    import importlib.resources
    import re
    import tomllib
    from pathlib import Path

    form = {"hmdb51-arn": r"[a-z_]+", "ucf101-arn": r"[A-Z][A-Za-z]+", "kinetics100-cmn": r"[a-z ()]+",
            "ssv2-100-cmn": r"[A-Z][^/]+", "ssv2-100-otam": r"train\d+"}
    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["evovideo"]
    for name in PROTOCOLS:
        assert all(re.fullmatch(form[name], c) for c in protocol_classes(name, "meta_train")), name
        rel = f"eval/protocols/{name}.meta_train.txt"
        assert any(fnmatch.fnmatch(rel, pat) for pat in patterns), rel
        assert (importlib.resources.files("evovideo.eval.protocols") / f"{name}.meta_train.txt").is_file()
