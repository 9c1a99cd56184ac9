"""The published few-shot action-recognition protocols: which classes and videos an evaluation uses.

    sel = select_protocol("hmdb51-arn", root="/data/HMDB51")
    sel.classes        # the 10 meta-test class names (shipped, provenance in README.md here)
    sel.video_keys     # None (every video of those classes), or "<class>/<stem>" keys of --video-list
    sel.missing        # listed videos not found under root, by name (reported, never dropped silently)

Protocols draw ``PROTOCOL_EPISODES`` (10,000) seeded episodes by default, as recent few-shot
papers do (TRX, HyRSM, MoLo), and report mean ± 95% CI.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from evovideo.data.splits import VIDEO_EXTENSIONS

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
PROTOCOL_EPISODES = 10_000
TRX = "tobyperrett/trx@c5c23ec0bda1e47a5ce7f4f58a09e6fbee39dc86"


@dataclass(frozen=True)
class Protocol:
    """One published split: its dataset, the shipped class files (if any), and where it comes from."""

    name: str
    dataset: str  # the --dataset it reads: hmdb51, ucf101 or class-folders
    source: str  # repo@commit:path of the published file
    classes_shipped: bool  # meta-test classes ship in this package (else they come from --video-list)


PROTOCOLS = {
    p.name: p for p in (
        Protocol("hmdb51-arn", "hmdb51", f"{TRX}:splits/hmdb_ARN/testlist03.txt", True),
        Protocol("ucf101-arn", "ucf101", f"{TRX}:splits/ucf_ARN/testlist03.txt", True),
        Protocol("kinetics100-cmn", "class-folders", f"{TRX}:splits/kinetics_CMN/testlist03.txt", False),
        Protocol("ssv2-100-cmn", "class-folders", f"{TRX}:splits/ssv2_CMN/testlist03.txt", False),
        Protocol("ssv2-100-otam", "class-folders", f"{TRX}:splits/ssv2_OTAM/testlist07.txt", False),
    )
}


@dataclass
class ProtocolSelection:
    protocol: Protocol
    classes: list[str]
    video_keys: set[str] | None = None
    missing: list[str] = field(default_factory=list)

    def describe(self) -> dict:
        return {"protocol": self.protocol.name, "source": self.protocol.source, "classes": self.classes,
                "video_list": self.video_keys is not None, "missing_videos": len(self.missing),
                "missing": self.missing}


def protocol_classes(name: str, part: str = "meta_test") -> list[str]:
    """The shipped ``meta_test`` / ``meta_val`` class names of protocol ``name``."""
    path = HERE / f"{_protocol(name).name}.{part}.txt"
    if not path.is_file():
        raise ValueError(f"protocol '{name}' ships no {part} class list (see {HERE / 'README.md'}); "
                         "pass the published file with --video-list")
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def read_video_list(path: str | Path) -> list[str]:
    """``<class>/<video stem>`` keys, one per line, as the published lists are written (a suffix is dropped)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"video list '{path}' does not exist; pass the published file, e.g. TRX's "
                                "splits/hmdb_ARN/testlist03.txt")
    keys = []
    for line in path.read_text().splitlines():
        rel = line.split()[0] if line.strip() else ""
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


def select_protocol(name: str, records: list, *, video_list: str | Path | None = None) -> ProtocolSelection:
    """Meta-test classes and videos of protocol ``name`` among ``records`` (VideoRecord of the dataset).

    A shipped class absent from the dataset is an error; a listed video absent from it is
    reported by name and counted (``missing``), and the evaluation runs on the videos found."""
    protocol = _protocol(name)
    present = {r.class_name for r in records}
    keys = read_video_list(video_list) if video_list else None
    if protocol.classes_shipped:
        classes = protocol_classes(name)
    elif keys is None:
        raise ValueError(f"protocol '{name}' is defined by its video list ({protocol.source}): pass that file "
                         "with --video-list (see evovideo/eval/protocols/README.md)")
    else:
        classes = list(dict.fromkeys(k.split("/")[0] for k in keys))
    absent = [c for c in classes if c not in present]
    if absent:
        raise ValueError(f"protocol '{name}': {len(absent)} meta-test class(es) not in the dataset: {absent[:10]}; "
                         f"check --root and --dataset ({protocol.dataset})")
    if keys is None:
        return ProtocolSelection(protocol, classes)
    found = {video_key(r.path, r.class_name) for r in records}
    missing = [k for k in keys if k not in found]
    if missing:
        log.warning("protocol %s: %d of %d listed videos are not under the dataset root: %s%s", name, len(missing),
                    len(keys), missing[:10], " ..." if len(missing) > 10 else "")
    return ProtocolSelection(protocol, classes, set(keys) - set(missing), missing)


def _protocol(name: str) -> Protocol:
    if name not in PROTOCOLS:
        raise ValueError(f"unknown protocol '{name}'; known: {', '.join(PROTOCOLS)}")
    return PROTOCOLS[name]
