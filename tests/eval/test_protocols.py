"""Published few-shot protocols: shipped class and video lists, missing videos reported by name."""
from __future__ import annotations

from pathlib import Path

import pytest

from evovideo.eval.protocols import PROTOCOLS, protocol_classes, protocol_videos, select_protocol
from evovideo.eval.videos import dataset_records


def _hmdb51_layout(root: Path, classes: list[str], per_class: int = 3, names: dict | None = None) -> Path:
    """HMDB51 layout with empty files (selection reads names only); split tags cycle 1, 2, 0 (0 = unused).
    ``names``: class -> video stems to create (default: made-up names)."""
    lists = root / "testTrainMulti_7030_splits"
    lists.mkdir(parents=True)
    for c in classes:
        stems = (names or {}).get(c) or [f"Some_Film_{c}_f_cm_np1_fr_med_{k}" for k in range(per_class)]
        (root / c).mkdir()
        for n in stems:
            (root / c / f"{n}.avi").write_bytes(b"")
        (lists / f"{c}_test_split1.txt").write_text("".join(f"{n}.avi {(1, 2, 0)[k % 3]}\n"
                                                            for k, n in enumerate(stems)))
    return root


def _by_class(keys: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k in keys:
        cls, _, stem = k.rpartition("/")
        out.setdefault(cls, []).append(stem)
    return out


def test_shipped_arn_splits_have_the_published_sizes_and_are_disjoint():
    for name, n_test in (("hmdb51-arn", 10), ("ucf101-arn", 21)):
        test, val = protocol_classes(name), protocol_classes(name, "meta_val")
        assert len(test) == n_test and len(val) == 10 and not set(test) & set(val)
    assert set(PROTOCOLS) == {"hmdb51-arn", "ucf101-arn", "kinetics100-cmn", "ssv2-100-cmn", "ssv2-100-otam"}


def test_hmdb51_arn_uses_the_shipped_list_and_every_clip_of_a_split_file(tmp_path):
    """Default: the shipped video list, matched against every clip a split file names (tag 0 too: ARN
    lists all of a class's clips; split 1 leaves a third unused); a listed clip not on disk is named."""
    listed = _by_class(protocol_videos("hmdb51-arn"))
    on_disk = {c: stems[:-1] if c == "kick" else stems for c, stems in listed.items()}  # one kick clip absent
    root = _hmdb51_layout(tmp_path, [*listed, "brush_hair"], names=on_disk)
    sel = select_protocol("hmdb51-arn", dataset_records("hmdb51", root, every_clip=True)[0])
    assert sel.classes == protocol_classes("hmdb51-arn") and sel.missing == [f"kick/{listed['kick'][-1]}"]
    assert len(sel.video_keys) == 1292 - 1 and sel.describe()["video_list"].startswith("shipped hmdb51-arn.meta_test")
    split_only = select_protocol("hmdb51-arn", dataset_records("hmdb51", root)[0])  # tags 1 and 2 only
    assert len(split_only.missing) > 400  # a third of the listed clips: why selection reads every clip


def test_video_list_missing_videos_are_reported_by_name(tmp_path):
    classes = protocol_classes("hmdb51-arn")
    records, _ = dataset_records("hmdb51", _hmdb51_layout(tmp_path / "data", classes))
    listed = [f"{c}/Some_Film_{c}_f_cm_np1_fr_med_{k}" for c in classes for k in range(2)]
    listed.append("kick/Not_On_Disk_kick_f_cm_np1_fr_med_0")
    (tmp_path / "testlist03.txt").write_text("\n".join(listed) + "\n")
    sel = select_protocol("hmdb51-arn", records, video_list=tmp_path / "testlist03.txt")
    assert sel.missing == ["kick/Not_On_Disk_kick_f_cm_np1_fr_med_0"]
    assert len(sel.video_keys) == 20 and sel.describe()["missing_videos"] == 1


def test_read_video_list_keeps_class_names_with_spaces_and_drops_a_trailing_label(tmp_path):
    from evovideo.eval.protocols import read_video_list

    f = tmp_path / "list.txt"
    f.write_text("blasting sand/-kYzxMKp514_000086_000096\nApplyLipstick/v_ApplyLipstick_g01_c01.avi 1\n\n"
                 "Putting something, something and something on the table/177616\n")
    assert read_video_list(f) == ["blasting sand/-kYzxMKp514_000086_000096", "ApplyLipstick/v_ApplyLipstick_g01_c01",
                                  "Putting something, something and something on the table/177616"]


def test_a_missing_class_or_a_list_matching_nothing_is_an_error(tmp_path):
    records, _ = dataset_records("hmdb51", _hmdb51_layout(tmp_path / "a", ["fencing", "kick"]))
    with pytest.raises(ValueError, match="meta_test class"):
        select_protocol("hmdb51-arn", records)
    records, _ = dataset_records("hmdb51", _hmdb51_layout(tmp_path / "b", protocol_classes("hmdb51-arn")))
    with pytest.raises(ValueError, match="none of the 1292 videos .* --video-list"):
        select_protocol("hmdb51-arn", records)  # made-up names: the layout is not the published one


@pytest.mark.parametrize("name", ["kinetics100-cmn", "ssv2-100-cmn", "ssv2-100-otam", "ucf101-arn"])
@pytest.mark.parametrize("part", ["meta_test", "meta_val"])
def test_every_protocol_selects_its_shipped_list_from_a_layout_named_like_it(tmp_path, name, part):
    """Records named as the shipped list (selection reads names only); the last listed video, left
    out, is reported by name."""
    from evovideo.data.splits import VideoRecord

    keys = protocol_videos(name, part)
    records = [VideoRecord(str(tmp_path / f"{k}.mp4"), -1, k.rpartition("/")[0]) for k in keys[:-1]]
    sel = select_protocol(name, records, part=part)
    assert sel.classes == list(dict.fromkeys(k.rpartition("/")[0] for k in keys))
    assert sel.video_keys == set(keys[:-1]) and sel.missing == [keys[-1]] and sel.part == part


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
