"""The published few-shot action-recognition protocols: which classes and videos an evaluation uses.

    sel = select_protocol("hmdb51-arn", records)   # records: dataset_records("hmdb51", root, every_clip=True)
    sel.classes        # the 10 meta-test class names (shipped, provenance in README.md here)
    sel.video_keys     # the "<class>/<stem>" videos of the shipped list found in records (or of --video-list)
    sel.missing        # listed videos not found under root, by name (reported, never dropped silently)

Every protocol ships its meta-test and meta-val video lists, copied from TRX's ``splits/``
(``VIDEO_LISTS``: source path, size and sha256 of each; a shipped list that does not hash to
its record is refused), and its meta-train class names, read from TRX's train list
(``CLASS_LISTS``; ``protocol_classes(name, "meta_train")``), so the three-way class split
meta_train / meta_val / meta_test is complete and checked disjoint.  Protocols draw
``PROTOCOL_EPISODES`` (10,000) seeded episodes by default, as recent few-shot papers do (TRX,
HyRSM, MoLo), and report mean ± 95% CI.
"""
from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from evovideo.data.splits import VIDEO_EXTENSIONS

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
PROTOCOL_EPISODES = 10_000
TRX = "tobyperrett/trx@c5c23ec0bda1e47a5ce7f4f58a09e6fbee39dc86"
PARTS = ("meta_test", "meta_val")  # parts with a shipped video list
CLASS_PARTS = ("meta_train", "meta_val", "meta_test")  # parts with a class list
_LABEL = re.compile(r"\s+\d+$")  # "Class/video.avi 1": UCF101-style trailing label


@dataclass(frozen=True)
class Protocol:
    """One published split: its dataset, the shipped class files (if any), and where it comes from."""

    name: str
    dataset: str  # the --dataset it reads: hmdb51, ucf101 or class-folders
    source: str  # repo@commit:path of the published meta-test list
    classes_shipped: bool  # class-name files ship (ARN); else the classes are those of the video list


@dataclass(frozen=True)
class PublishedList:
    """A video list shipped in this folder: the TRX file it copies and what the copy must be."""

    source: str  # path in TRX's repository (at commit TRX)
    chars: int  # read_file's total_chars for the source = characters of the shipped file
    lines: int
    sha256: str  # of the shipped file's bytes


class ClassList(NamedTuple):
    """A class-name file shipped in this folder: the TRX list its names were read from."""

    source: str  # path in TRX's repository (at commit TRX) whose lines' class parts were collected
    source_chars: int  # read_file's total_chars for the source
    classes: int  # lines of the shipped file, one class each
    sha256: str  # of the shipped file's bytes


PROTOCOLS = {
    p.name: p for p in (
        Protocol("hmdb51-arn", "hmdb51", f"{TRX}:splits/hmdb_ARN/testlist03.txt", True),
        Protocol("ucf101-arn", "ucf101", f"{TRX}:splits/ucf_ARN/testlist03.txt", True),
        Protocol("kinetics100-cmn", "class-folders", f"{TRX}:splits/kinetics_CMN/testlist03.txt", False),
        Protocol("ssv2-100-cmn", "class-folders", f"{TRX}:splits/ssv2_CMN/testlist03.txt", False),
        Protocol("ssv2-100-otam", "class-folders", f"{TRX}:splits/ssv2_OTAM/testlist07.txt", False),
    )
}

VIDEO_LISTS = {
    ("hmdb51-arn", "meta_test"): PublishedList(
        "splits/hmdb_ARN/testlist03.txt", 69392, 1292,
        "e2ce039f857287cb943a00d27ac6d2559a434e7bde5722d350c269253160d388"),
    ("hmdb51-arn", "meta_val"): PublishedList(
        "splits/hmdb_ARN/vallist03.txt", 69792, 1194,
        "85458cf86f85354b411080f6aea3157c5831b1a3bf40fed24e4a2c7a17f8027c"),
    ("ucf101-arn", "meta_test"): PublishedList(
        "splits/ucf_ARN/testlist03.txt", 91620, 2745,
        "0887937010eee99ae3baf3178227ac35daebf6a35431b2df051fcf682b48bc31"),
    ("ucf101-arn", "meta_val"): PublishedList(
        "splits/ucf_ARN/vallist03.txt", 48978, 1421,
        "5482ce6d2f2db2568a8cd41158ab5a406fad36fcc9940c1811573937ad6bfc4f"),
    ("kinetics100-cmn", "meta_test"): PublishedList(
        "splits/kinetics_CMN/testlist03.txt", 96200, 2400,
        "9c2351cf070ad7d052f1fb2885e5e4b246da7a38d06cb730bf7473eeb7173d09"),
    ("kinetics100-cmn", "meta_val"): PublishedList(
        "splits/kinetics_CMN/vallist03.txt", 49200, 1200,
        "e3144200327ce31bc5be0e1efb1107c6c7f2912c95eb2457095374b2c22bf74a"),
    ("ssv2-100-cmn", "meta_test"): PublishedList(
        "splits/ssv2_CMN/testlist03.txt", 111100, 2400,
        "4e8b9ae7446331c47ece4c342cfe4f67896b717f4dea92ffd7659e72baeeddd6"),
    ("ssv2-100-cmn", "meta_val"): PublishedList(
        "splits/ssv2_CMN/vallist03.txt", 68973, 1200,
        "aa280e1ece78dc248ae3bda9668bbc549d4837a8dc1e1699f13525d32c1ece43"),
    ("ssv2-100-otam", "meta_test"): PublishedList(
        "splits/ssv2_OTAM/testlist07.txt", 37427, 2857,
        "83a1ac8e7c6f720c55dced1dc9deae1c11fb8271f8a3bb1f0952aed068646a1e"),
    ("ssv2-100-otam", "meta_val"): PublishedList(
        "splits/ssv2_OTAM/vallist07.txt", 22607, 1926,
        "b9884e9e716fbb9a902121d797c0a43ec04517085eb6b36a2804e037db63d6eb"),
}


#: meta-train classes: every distinct class of TRX's train list, in listed order (OTAM: numeric order,
#: its list is shuffled); how each was checked is in README.md
CLASS_LISTS = {
    ("hmdb51-arn", "meta_train"): ClassList(
        "splits/hmdb_ARN/trainlist03.txt", 252591, 31,
        "69a5a7b4588fd6de53add2b883a4dc9fa83de4768d2aee74aa74e4c29184a511"),
    ("ucf101-arn", "meta_train"): ClassList(
        "splits/ucf_ARN/trainlist03.txt", 305764, 70,
        "3344343340cde4ea034336f4e3d8e8eb2f8c4eef12593c5b1d2098b8a4bff2c0"),
    ("kinetics100-cmn", "meta_train"): ClassList(
        "splits/kinetics_CMN/trainlist03.txt", 262500, 64,
        "a34bb1afd63d839f41a153b3696c5b46fdbc914b293371b2b99b303b5d064e5c"),
    ("ssv2-100-cmn", "meta_train"): ClassList(
        "splits/ssv2_CMN/trainlist03.txt", 329224, 64,
        "f7999e13b3d9414d83ab1393ba038b7de7e914f69f74436f531ece56e607d07b"),
    ("ssv2-100-otam", "meta_train"): ClassList(
        "splits/ssv2_OTAM/trainlist07.txt", 959952, 64,
        "3aa4586885a43663f6a15c1c045dca45ceea94b6664a4ffa3df167f0936b4be6"),
}


@dataclass
class ProtocolSelection:
    protocol: Protocol
    classes: list[str]
    video_keys: set[str]
    missing: list[str] = field(default_factory=list)
    video_list: str = ""  # where the list came from: the shipped file (with its TRX source) or --video-list
    part: str = "meta_test"

    def describe(self) -> dict:
        return {"protocol": self.protocol.name, "part": self.part, "source": self.protocol.source,
                "classes": self.classes, "video_list": self.video_list,
                "listed_videos": len(self.video_keys) + len(self.missing), "videos": len(self.video_keys),
                "missing_videos": len(self.missing), "missing": self.missing}


def video_list_path(name: str, part: str = "meta_test") -> Path:
    """The shipped ``<class>/<video>`` list of protocol ``name``'s ``part`` (meta_test or meta_val)."""
    _protocol(name)
    if part not in PARTS:
        raise ValueError(f"protocol part '{part}': unknown; choose from {', '.join(PARTS)}")
    return HERE / f"{name}.{part}.videos.txt"


def protocol_videos(name: str, part: str = "meta_test") -> list[str]:
    """The ``<class>/<stem>`` keys of the shipped list, checked against its recorded sha256."""
    path, record = video_list_path(name, part), VIDEO_LISTS[(name, part)]
    _check_sha256(path, record.sha256, record.source, "or pass the published file with --video-list")
    return read_video_list(path)


def protocol_classes(name: str, part: str = "meta_test") -> list[str]:
    """The ``meta_train`` / ``meta_val`` / ``meta_test`` class names of protocol ``name``: the shipped
    class file where there is one (every meta_train; ARN's meta_val and meta_test, checked against its
    recorded sha256 where ``CLASS_LISTS`` has one), else the classes of the shipped video list in
    their listed order."""
    _protocol(name)
    if part not in CLASS_PARTS:
        raise ValueError(f"protocol part '{part}': unknown; choose from {', '.join(CLASS_PARTS)}")
    path = HERE / f"{name}.{part}.txt"
    record = CLASS_LISTS.get((name, part))
    if record is not None:
        _check_sha256(path, record.sha256, record.source, f"or read the class names from {TRX}:{record.source}")
    if path.is_file():
        return [line.strip() for line in path.read_text().splitlines() if line.strip()]
    return _classes_of(protocol_videos(name, part))


def read_video_list(path: str | Path) -> list[str]:
    """``<class>/<video stem>`` keys, one per line, as the published lists are written (a video suffix
    and a trailing ``<space><label>`` are dropped; class names may hold spaces: Kinetics, SSv2)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"video list '{path}' does not exist; pass the published file, e.g. TRX's "
                                "splits/hmdb_ARN/testlist03.txt")
    keys = []
    for line in path.read_text().splitlines():
        rel = _LABEL.sub("", line.strip())
        if rel:
            cls, _, video = rel.rpartition("/")
            if not cls:
                raise ValueError(f"{path}: line '{line}' is not '<class>/<video>'")
            keys.append(f"{cls}/{Path(video).stem if Path(video).suffix.lower() in VIDEO_EXTENSIONS else video}")
    if not keys:
        raise ValueError(f"video list '{path}' is empty")
    return keys


def video_key(path: str, class_name: str) -> str:
    """The ``<class>/<stem>`` key of a dataset video, as the published lists write it."""
    return f"{class_name}/{Path(path).stem}"


def select_protocol(name: str, records: list, *, video_list: str | Path | None = None,
                    part: str = "meta_test") -> ProtocolSelection:
    """Classes and videos of protocol ``name``'s ``part`` among ``records`` (VideoRecord of the dataset).

    The videos are those of the shipped list, or of ``video_list`` (a published file) when given.
    A class absent from the dataset is an error, and so is a list none of whose videos is there;
    a listed video absent from it is reported by name and counted (``missing``), and the
    evaluation runs on the videos found."""
    protocol = _protocol(name)
    if video_list:
        keys, origin = read_video_list(video_list), str(video_list)
    else:
        keys = protocol_videos(name, part)
        origin = f"shipped {video_list_path(name, part).name} ({TRX}:{VIDEO_LISTS[(name, part)].source})"
    classes = protocol_classes(name, part) if protocol.classes_shipped else _classes_of(keys)
    present = {r.class_name for r in records}
    absent = [c for c in classes if c not in present]
    if absent:
        raise ValueError(f"protocol '{name}': {len(absent)} {part} class(es) not in the dataset: {absent[:10]}; "
                         f"check --root and --dataset ({protocol.dataset})")
    found = {video_key(r.path, r.class_name) for r in records}
    missing = [k for k in keys if k not in found]
    if len(missing) == len(keys):
        raise ValueError(f"protocol '{name}': none of the {len(keys)} videos of {origin} is under the dataset root "
                         f"(it names them '<class>/<video stem>', e.g. {keys[:2]}); check --root, or pass the list "
                         "your copy matches with --video-list")
    if missing:
        log.warning("protocol %s: %d of %d listed videos are not under the dataset root: %s%s", name, len(missing),
                    len(keys), missing[:10], " ..." if len(missing) > 10 else "")
    return ProtocolSelection(protocol, classes, set(keys) - set(missing), missing, origin, part)


def _check_sha256(path: Path, expected: str, source: str, alternative: str) -> None:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != expected:
        raise ValueError(f"{path}: sha256 {digest[:12]}... is not the recorded {expected[:12]}... of the copy "
                         f"of {TRX}:{source}; the installation is damaged or the file was edited: "
                         f"reinstall evovideo, {alternative}")


def _classes_of(keys: list[str]) -> list[str]:
    return list(dict.fromkeys(k.rpartition("/")[0] for k in keys))


def _protocol(name: str) -> Protocol:
    if name not in PROTOCOLS:
        raise ValueError(f"unknown protocol '{name}'; known: {', '.join(PROTOCOLS)}")
    return PROTOCOLS[name]
