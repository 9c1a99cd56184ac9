"""Published few-shot protocols: shipped class lists, video lists, missing videos reported by name."""
from __future__ import annotations

from pathlib import Path

import pytest

from evovideo.eval.protocols import PROTOCOLS, protocol_classes, select_protocol
from evovideo.eval.videos import dataset_records


def _hmdb51_layout(root: Path, classes: list[str], per_class: int = 3) -> Path:
    """HMDB51 layout with empty files (selection reads names only)."""
    lists = root / "testTrainMulti_7030_splits"
    lists.mkdir(parents=True)
    for c in classes:
        names = [f"Some_Film_{c}_f_cm_np1_fr_med_{k}.avi" for k in range(per_class)]
        (root / c).mkdir()
        for n in names:
            (root / c / n).write_bytes(b"")
        (lists / f"{c}_test_split1.txt").write_text("".join(f"{n} {1 + k % 2}\n" for k, n in enumerate(names)))
    return root


def test_shipped_arn_splits_have_the_published_sizes_and_are_disjoint():
    for name, n_test in (("hmdb51-arn", 10), ("ucf101-arn", 21)):
        test, val = protocol_classes(name), protocol_classes(name, "meta_val")
        assert len(test) == n_test and len(val) == 10 and not set(test) & set(val)
    assert set(PROTOCOLS) == {"hmdb51-arn", "ucf101-arn", "kinetics100-cmn", "ssv2-100-cmn", "ssv2-100-otam"}


def test_hmdb51_arn_selects_its_meta_test_classes_and_every_video(tmp_path):
    classes = protocol_classes("hmdb51-arn") + protocol_classes("hmdb51-arn", "meta_val") + ["brush_hair"]
    records, _ = dataset_records("hmdb51", _hmdb51_layout(tmp_path, classes))
    sel = select_protocol("hmdb51-arn", records)
    assert sel.classes == protocol_classes("hmdb51-arn") and sel.video_keys is None and not sel.missing


def test_video_list_missing_videos_are_reported_by_name(tmp_path):
    classes = protocol_classes("hmdb51-arn")
    records, _ = dataset_records("hmdb51", _hmdb51_layout(tmp_path / "data", classes))
    listed = [f"{c}/Some_Film_{c}_f_cm_np1_fr_med_{k}" for c in classes for k in range(2)]
    listed.append("kick/Not_On_Disk_kick_f_cm_np1_fr_med_0")
    (tmp_path / "testlist03.txt").write_text("\n".join(listed) + "\n")
    sel = select_protocol("hmdb51-arn", records, video_list=tmp_path / "testlist03.txt")
    assert sel.missing == ["kick/Not_On_Disk_kick_f_cm_np1_fr_med_0"]
    assert len(sel.video_keys) == 20 and sel.describe()["missing_videos"] == 1


def test_a_protocol_defined_by_its_list_needs_it_and_a_missing_class_is_an_error(tmp_path):
    records, _ = dataset_records("hmdb51", _hmdb51_layout(tmp_path, ["fencing", "kick"]))
    with pytest.raises(ValueError, match="--video-list"):
        select_protocol("kinetics100-cmn", records)
    with pytest.raises(ValueError, match="meta-test class"):
        select_protocol("hmdb51-arn", records)


def test_fewshot_command_protocol_refuses_the_wrong_dataset(tmp_path, capsys):
    from evovideo.cli import main

    assert main(["fewshot", "--encoder", "test_r2plus1d", "--protocol", "hmdb51-arn", "--dataset", "ucf101",
                 "--root", str(tmp_path)]) == 2
    assert "--protocol hmdb51-arn reads --dataset hmdb51, not 'ucf101'" in capsys.readouterr().err


def test_fewshot_command_protocol_defaults_to_10000_episodes_and_writes_the_selection(tmp_path, monkeypatch, capsys):
    """The command's wiring (classes, video list, episodes, results.json), features stubbed: no decoding."""
    import json

    import torch

    import evovideo.eval.pipeline as pipeline
    from evovideo.cli import main
    from evovideo.eval.features import FeatureSet
    from evovideo.eval.fewshot import evaluate_fewshot

    classes = protocol_classes("hmdb51-arn")
    root = _hmdb51_layout(tmp_path / "data", classes, per_class=4)
    (tmp_path / "list.txt").write_text("".join(f"{c}/Some_Film_{c}_f_cm_np1_fr_med_{k}\n" for c in classes
                                               for k in range(3)) + "pour/Gone_pour_u_nm_np1_fr_med_0\n")
    seen = {}

    def fake(encoder, dataset, *, way, shots, query, episodes, seed, classes, video_keys, **kw):
        seen.update(dataset=dataset, episodes=episodes, classes=classes, videos=len(video_keys))
        labels = torch.arange(len(classes)).repeat_interleave(3)
        fs = FeatureSet(torch.randn(len(labels), 8), labels, [f"v{i}" for i in range(len(labels))], {})
        return evaluate_fewshot(fs.features, fs.labels, way=way, shots=shots, query=query, episodes=5,
                                seed=seed), fs

    monkeypatch.setattr(pipeline, "fewshot_eval", fake)
    out = tmp_path / "out"
    assert main(["fewshot", "--encoder", "test_r2plus1d", "--protocol", "hmdb51-arn", "--root", str(root),
                 "--video-list", str(tmp_path / "list.txt"), "--shot", "1", "--query", "2", "--no-cache",
                 "--out", str(out)]) == 0
    assert seen == {"dataset": "hmdb51", "episodes": 10_000, "classes": classes, "videos": 30}
    printed = capsys.readouterr().out
    assert "missing: 1 listed video(s)" in printed and "pour/Gone_pour_u_nm_np1_fr_med_0" in printed
    res = json.loads((out / "results.json").read_text())
    assert res["protocol"]["missing"] == ["pour/Gone_pour_u_nm_np1_fr_med_0"]
    assert res["protocol"]["source"].startswith("tobyperrett/trx@")
