"""Parse the official on-disk layouts into lists of ``VideoRecord`` (path, label, class name).

UCF101 (as unpacked from UCF101.rar + UCF101TrainTestSplits-RecognitionTask.zip)::

    root/UCF-101/<Class>/v_<Class>_gXX_cYY.avi     (or root/<Class>/...)
    root/ucfTrainTestlist/classInd.txt             "1 ApplyEyeMakeup"
    root/ucfTrainTestlist/trainlist0N.txt          "ApplyEyeMakeup/v_...avi 1"
    root/ucfTrainTestlist/testlist0N.txt           "ApplyEyeMakeup/v_...avi"

HMDB51 (hmdb51_org.rar, each class rar unpacked; test_train_splits.rar)::

    root/<class>/<video>.avi                       (or root/hmdb51_org/<class>/...)
    root/testTrainMulti_7030_splits/<class>_test_splitN.txt   "<video>.avi 1"  1=train 2=test 0=unused

Kinetics: CSV annotations ``label,youtube_id,time_start,time_end,split`` in
``root/annotations/<split>.csv`` (or ``root/<split>.csv``) with videos anywhere under
``root/<split>/`` named ``<youtube_id>_<start:06d>_<end:06d>.<ext>`` (or ``<youtube_id>.<ext>``);
or, without CSVs, class folders ``root/<split>/<class>/*.mp4``.

Folder (unlabeled): every video file under ``root``, recursively; label -1.
"""
from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

VIDEO_EXTENSIONS = (".avi", ".mp4", ".mkv", ".webm", ".mov", ".m4v", ".mpg", ".mpeg", ".flv", ".3gp", ".ogv")
UCF101_SPLIT_DIR = "ucfTrainTestlist"
HMDB51_SPLIT_DIR = "testTrainMulti_7030_splits"
FOLDS = ("train", "val", "test")


@dataclass(frozen=True)
class VideoRecord:
    path: str
    label: int = -1
    class_name: str = ""


def _is_video(p: Path) -> bool:
    return p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS


def videos_under(folder: Path) -> list[Path]:
    """Every video file under ``folder`` (recursive, sorted).  Entries named like a video that are
    not readable files (a dangling symlink, a folder called ``x.avi``) are named in one warning
    instead of vanishing from the scan."""
    vids, odd = [], []
    for p in folder.rglob("*"):
        if p.suffix.lower() not in VIDEO_EXTENSIONS:
            continue
        if p.is_file():
            vids.append(p)
        elif p.is_symlink() and not p.exists():
            odd.append(f"{p} (a dangling symlink)")
        elif p.is_dir():
            odd.append(f"{p} (a folder)")
        else:
            odd.append(f"{p} (not a regular file)")
    if odd:
        shown = "; ".join(sorted(odd)[:5]) + (f"; and {len(odd) - 5} more" if len(odd) > 5 else "")
        log.warning("%s: skipping %d entr%s named like a video that %s not a readable file: %s", folder, len(odd),
                    "y" if len(odd) == 1 else "ies", "is" if len(odd) == 1 else "are", shown)
    return sorted(vids)


def _check_split(split: int) -> None:
    if split not in (1, 2, 3):
        raise ValueError(f"split must be 1, 2 or 3 (the official folds), got {split}")


def _check_fold(fold: str) -> None:
    if fold not in FOLDS:
        raise ValueError(f"fold must be one of {', '.join(FOLDS)}, got '{fold}'")


def _check_official_fold(fold: str, dataset: str) -> None:
    if fold == "val":
        raise ValueError(f"{dataset} has no validation list, and its test list must not select a model: carve "
                         "validation from the training list (evovideo.data.carve_validation; DataModule "
                         "val_fraction > 0), or validate nothing and test the last checkpoint (val_fraction 0)")
    _check_fold(fold)


def _video_dir(root: Path, candidates: tuple[str, ...]) -> Path:
    for name in candidates:
        d = root / name
        if d.is_dir():
            return d
    return root


def _need(path: Path, what: str) -> Path:
    if not path.is_file():
        raise FileNotFoundError(f"missing {path}: expected {what}")
    return path


def parse_ucf101(root: str | Path, split: int = 1, fold: str = "train") -> tuple[list[VideoRecord], list[str]]:
    """UCF101 records of ``fold`` ('train' or 'test') for official ``split`` (1-3) and the 101 class names.

    UCF101 has no validation list: carve one from the training list by group
    (``evovideo.data.groups.carve_validation``), never use the test list to select a model."""
    _check_split(split)
    _check_official_fold(fold, "UCF101")
    root = Path(root)
    lists = root / UCF101_SPLIT_DIR
    if not lists.is_dir():
        raise FileNotFoundError(
            f"missing {lists}: expected the official split folder '{UCF101_SPLIT_DIR}/' (classInd.txt, "
            "trainlist01-03.txt, testlist01-03.txt from UCF101TrainTestSplits-RecognitionTask.zip) in the UCF101 root"
        )
    class_ind = _need(lists / "classInd.txt", "lines '<index> <ClassName>' (1-based)")
    classes: dict[str, int] = {}
    for line in class_ind.read_text().splitlines():
        if line.strip():
            idx, name = line.split()
            classes[name] = int(idx) - 1
    names = [n for n, _ in sorted(classes.items(), key=lambda kv: kv[1])]
    list_name = f"{'train' if fold == 'train' else 'test'}list{split:02d}.txt"
    listing = _need(lists / list_name, "lines '<Class>/<video>.avi [label]'")
    videos = _video_dir(root, ("UCF-101", "UCF101", "videos"))
    records = []
    for line in listing.read_text().splitlines():
        if not line.strip():
            continue
        rel = line.split()[0]
        cls = rel.split("/")[0]
        if cls not in classes:
            raise ValueError(f"{listing}: class '{cls}' of '{rel}' is not in {class_ind}")
        records.append(VideoRecord(str(videos / rel), classes[cls], cls))
    _check_class_folders(videos, {r.class_name for r in records})
    return records, names


def parse_hmdb51(root: str | Path, split: int = 1, fold: str = "train") -> tuple[list[VideoRecord], list[str]]:
    """HMDB51 records of ``fold`` ('train' or 'test') for official ``split`` (1-3): tag 1 = train,
    2 = test, 0 = unused; classes in sorted order.  No validation list: see ``parse_ucf101``."""
    _check_official_fold(fold, "HMDB51")
    return _hmdb51_records(root, split, {"1"} if fold == "train" else {"2"})


def hmdb51_every_clip(root: str | Path, split: int = 1) -> tuple[list[VideoRecord], list[str]]:
    """Every HMDB51 clip a split file lists (tags 1, 2 and 0 = unused by that split), classes in sorted
    order.  Published few-shot video lists (ARN) use every clip of a class, the unused ones included."""
    return _hmdb51_records(root, split, {"0", "1", "2"})


def _hmdb51_records(root: str | Path, split: int, tags: set[str]) -> tuple[list[VideoRecord], list[str]]:
    _check_split(split)
    root = Path(root)
    lists = root / HMDB51_SPLIT_DIR
    if not lists.is_dir():
        raise FileNotFoundError(
            f"missing {lists}: expected the official split folder '{HMDB51_SPLIT_DIR}/' "
            "(<class>_test_split1-3.txt from test_train_splits.rar) in the HMDB51 root"
        )
    files = sorted(lists.glob(f"*_test_split{split}.txt"))
    if not files:
        raise FileNotFoundError(f"no '<class>_test_split{split}.txt' files in {lists}: expected one per class (51)")
    names = [f.name[: -len(f"_test_split{split}.txt")] for f in files]
    videos = _video_dir(root, ("hmdb51_org", "hmdb51", "videos"))
    records = []
    for label, (name, f) in enumerate(zip(names, files)):
        for line in f.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[1] in tags:
                records.append(VideoRecord(str(videos / name / parts[0]), label, name))
    _check_class_folders(videos, {r.class_name for r in records})
    return records, names


def _check_class_folders(videos: Path, classes: set[str]) -> None:
    for cls in sorted(classes):
        d = videos / cls
        if not d.is_dir():
            raise FileNotFoundError(f"missing class folder {d}: expected the videos of class '{cls}' there")
        if not any(_is_video(p) for p in d.iterdir()):
            raise FileNotFoundError(
                f"class folder {d} is empty: expected video files ({', '.join(VIDEO_EXTENSIONS[:3])}, ...)"
            )


def parse_kinetics(root: str | Path, fold: str = "train") -> tuple[list[VideoRecord], list[str]]:
    """Kinetics records of ``fold`` from CSV annotations if present, else class folders."""
    _check_fold(fold)
    root = Path(root)
    csv_path = _kinetics_csv(root, fold)
    if csv_path is not None:
        return _kinetics_from_csv(root, fold, csv_path)
    fold_dir = _kinetics_fold_dir(root, fold)
    classes = sorted(d.name for d in fold_dir.iterdir() if d.is_dir())
    if not classes:
        raise FileNotFoundError(
            f"no annotations/{fold}.csv in {root} and no class folders in {fold_dir}: expected "
            f"'{root}/annotations/{fold}.csv' (label,youtube_id,time_start,time_end,split) or '{fold_dir}/<class>/*.mp4'"
        )
    train_dir = _kinetics_fold_dir(root, "train") if fold != "train" else fold_dir
    names = sorted(d.name for d in train_dir.iterdir() if d.is_dir()) if train_dir.is_dir() else classes
    index = {n: i for i, n in enumerate(names)}
    records = []
    for cls in classes:
        vids = videos_under(fold_dir / cls)
        if not vids:
            raise FileNotFoundError(f"class folder {fold_dir / cls} is empty: expected video files (.mp4, ...)")
        records += [VideoRecord(str(p), index.get(cls, -1), cls) for p in vids]
    return records, names


def _kinetics_fold_dir(root: Path, fold: str) -> Path:
    names = {"train": ("train",), "val": ("val", "validate", "valid"), "test": ("test",)}[fold]
    for n in names:
        if (root / n).is_dir():
            return root / n
    raise FileNotFoundError(f"missing {root / names[0]}: expected the '{fold}' videos there")


def _kinetics_csv(root: Path, fold: str) -> Path | None:
    names = {"train": ("train",), "val": ("val", "validate"), "test": ("test",)}[fold]
    for folder in (root / "annotations", root):
        for n in names:
            if (folder / f"{n}.csv").is_file():
                return folder / f"{n}.csv"
    return None


def _kinetics_from_csv(root: Path, fold: str, csv_path: Path) -> tuple[list[VideoRecord], list[str]]:
    def rows(path: Path) -> list[dict]:
        with open(path, newline="") as fh:
            reader = csv.DictReader(fh)
            missing = {"youtube_id", "time_start", "time_end"} - set(reader.fieldnames or [])
            if missing:
                raise ValueError(f"{path}: missing columns {sorted(missing)}; expected label,youtube_id,time_start,time_end,split")
            return list(reader)

    data = rows(csv_path)
    train_csv = _kinetics_csv(root, "train")
    label_rows = rows(train_csv) if train_csv is not None and train_csv != csv_path else data
    names = sorted({r["label"] for r in label_rows if r.get("label")})
    index = {n: i for i, n in enumerate(names)}
    fold_dir = _kinetics_fold_dir(root, fold)
    files: dict[str, Path] = {}
    for p in videos_under(fold_dir):
        files.setdefault(p.stem, p)
    records, missing = [], 0
    for r in data:
        yt, t0, t1 = r["youtube_id"], int(float(r["time_start"])), int(float(r["time_end"]))
        p = files.get(f"{yt}_{t0:06d}_{t1:06d}") or files.get(yt)
        if p is None:
            missing += 1
            continue
        label = r.get("label") or ""
        records.append(VideoRecord(str(p), index.get(label, -1), label))
    if missing:
        log.warning("%s: %d of %d annotated videos are not under %s (deleted from YouTube?); using the %d found",
                    csv_path, missing, len(data), fold_dir, len(records))
    if not records:
        raise FileNotFoundError(
            f"none of the {len(data)} videos in {csv_path} found under {fold_dir}: expected files named "
            "'<youtube_id>_<start:06d>_<end:06d>.mp4' (or '<youtube_id>.mp4')"
        )
    return records, names


def scan_folder(root: str | Path) -> list[VideoRecord]:
    """Every video file under ``root`` (recursive, sorted), unlabeled."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"missing folder {root}: expected a folder of video files")
    vids = videos_under(root)
    if not vids:
        raise FileNotFoundError(f"no video files under {root}: expected files ending in {', '.join(VIDEO_EXTENSIONS)}")
    return [VideoRecord(str(p), -1, p.parent.name) for p in vids]
