"""The clip contract (evovideo.clip.ClipSpec) and the clip samplers that own where clips start."""
from __future__ import annotations

import argparse
import json
import random

import pytest
import torch

import evovideo
from evovideo.clip import ClipSpec
from evovideo.data import DecodedVideo, InMemoryClipDataset, SampleBuilder


def _counting_video(t: int = 40, fps: float = 8.0) -> DecodedVideo:
    # frame i is filled with value 4 * i: a clip tells which frames it took
    frames = (torch.arange(t, dtype=torch.uint8) * 4)[:, None, None, None].expand(t, 16, 16, 3).contiguous()
    return DecodedVideo(frames, fps)


def _frame_ids(clip: torch.Tensor) -> list[int]:
    return [int(round(float(v) * 255 / 4)) for v in clip[0, :, 0, 0]]  # mean 0, std 1: back to frame ids


def test_one_eval_clip_per_video_is_the_centre_window() -> None:
    spec = ClipSpec(num_frames=4, stride=2, frame_rate=8.0, size=16, resize=16, mean=(0, 0, 0), std=(1, 1, 1))
    ds = InMemoryClipDataset([(_counting_video(), 0)], SampleBuilder(spec, train=False), train=False)
    # 40 frames = 5 s; the window is 4 x 2 / 8 = 1 s; the centre one starts at 2 s = frame 16
    assert _frame_ids(ds[0]["rgb"]) == [16, 18, 20, 22]


def test_uniform_eval_clips_still_span_first_to_last_window() -> None:
    spec = ClipSpec(num_frames=4, stride=2, frame_rate=8.0, size=16, resize=16, mean=(0, 0, 0), std=(1, 1, 1))
    ds = InMemoryClipDataset([(_counting_video(), 0)], SampleBuilder(spec, train=False), train=False,
                             clips_per_video=3)
    assert [_frame_ids(ds[i]["rgb"])[0] for i in range(3)] == [0, 16, 32]


def test_samplers_follow_pytorchvideo_clip_sampler_interface() -> None:
    from pytorchvideo.data.clip_sampling import ClipInfo, ClipSampler, ConstantClipsPerVideoSampler

    from evovideo.data import CentreClipSampler, RandomClipSampler, UniformClipSampler

    uniform = UniformClipSampler(1.0, 3)
    assert isinstance(uniform, ClipSampler)
    infos = [uniform(0.0, 5.0, {}) for _ in range(3)]
    assert all(isinstance(i, ClipInfo) for i in infos)
    assert [(i.clip_start_sec, i.clip_end_sec, i.clip_index, i.is_last_clip) for i in infos] == [
        (0.0, 1.0, 0, False), (2.0, 3.0, 1, False), (4.0, 5.0, 2, True)]
    assert CentreClipSampler(1.0)(0.0, 5.0, {}).clip_start_sec == 2.0
    assert RandomClipSampler(1.0)(0.0, 0.5, {}).clip_start_sec == 0.0  # shorter than the window: at 0
    a = RandomClipSampler(1.0).clip_at(0, 5.0, random.Random(3))
    assert a == RandomClipSampler(1.0)(0.0, 5.0, {"rng": random.Random(3)})  # the draw is the sample's RNG's
    # pytorchvideo's own sampler drives our dataset
    spec = ClipSpec(num_frames=4, stride=2, frame_rate=8.0, size=16, resize=16, mean=(0, 0, 0), std=(1, 1, 1))
    theirs = ConstantClipsPerVideoSampler(1.0, 2)
    ds = InMemoryClipDataset([(_counting_video(), 0)], SampleBuilder(spec, train=False), train=False,
                             clips_per_video=2, sampler=theirs)
    # its rule: start k * (duration - window) / clips, so 0 s and 2 s (frames 0 and 16)
    assert [_frame_ids(ds[i]["rgb"])[0] for i in range(2)] == [0, 16]


def test_our_sampler_drives_pytorchvideo_labeled_video_dataset(tmp_path) -> None:
    from pytorchvideo.data import LabeledVideoDataset

    from evovideo.data import UniformClipSampler
    from evovideo.data.encode import write_video

    path = write_video(tmp_path / "v.mp4", DecodedVideo(_counting_video().frames, 8.0))
    ds = LabeledVideoDataset([(str(path), {"label": 0})], UniformClipSampler(1.0, 3), decode_audio=False)
    clips = list(ds)
    assert len(clips) == 3 and [c["clip_index"] for c in clips] == [0, 1, 2]


def test_packaged_student_records_the_clip_it_was_trained_with() -> None:
    enc = evovideo.create_model("test_r2plus1d.elo_synthetic", pretrained=True)
    # recipes/pretrain/demo_synthetic.yaml: 8 frames, stride 2, SyntheticDataModule's 16 fps, resize 36, size 32
    assert enc.input_config.clip == ClipSpec(num_frames=8, stride=2, frame_rate=16.0, size=32, resize=36)


def test_config_without_frame_rate_and_resize_loads_with_the_old_defaults(tmp_path) -> None:
    enc = evovideo.create_model("r2plus1d_18")
    evovideo.save_pretrained(enc, tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["input_config"]["frame_rate"] == 25.0 and config["input_config"]["resize"] is None
    for key in ("frame_rate", "resize"):
        del config["input_config"][key]
    (tmp_path / "config.json").write_text(json.dumps(config))
    clip = evovideo.load_pretrained(tmp_path).input_config.clip
    assert (clip.frame_rate, clip.short_side) == (25.0, 128)  # every DataModule's default: 25 fps, 112 * 8/7


def test_clip_spec_refuses_bad_values_and_sample_builder_says_what_to_write() -> None:
    with pytest.raises(ValueError, match="resize = 20: must be None"):
        ClipSpec(size=32, resize=20)
    with pytest.raises(TypeError, match=r"write SampleBuilder\(ClipSpec\(num_frames=4\), \.\.\.\)"):
        SampleBuilder(num_frames=4)


def test_zipf_and_fewshot_sample_synthetic_clips_at_the_same_frame_rate() -> None:
    from evovideo.commands import zipf
    from evovideo.data.synthetic import SyntheticVideos
    from evovideo.eval.videos import labelled_videos

    enc = evovideo.create_model("test_r2plus1d")
    parser = argparse.ArgumentParser()
    zipf.add_arguments(parser)
    args = parser.parse_args(["--encoder", "test_r2plus1d", "--dataset", "synthetic", "--videos-per-class", "1"])
    zipf_ds, _ = zipf._videos(args, enc)
    fewshot_ds = labelled_videos("synthetic", enc, synthetic=SyntheticVideos(num_videos_per_class=1, stream="eval"))
    assert zipf_ds.builder.clip == fewshot_ds.dataset.builder.clip
    assert zipf_ds.builder.clip.frame_rate == 16.0  # the tiny encoders' contract: the synthetic set's rate


def test_a_datamodule_takes_the_contract_whole_or_field_by_field() -> None:
    from evovideo.lightning import SyntheticDataModule, UCF101DataModule
    from evovideo.tasks import RecipeError

    spec = ClipSpec(num_frames=4, stride=1, frame_rate=8.0, size=24, resize=28)
    dm = SyntheticDataModule(clip=spec, num_videos_per_class=2, num_classes=2)
    assert dm.clip == spec and dm.dataset("train").builder.clip == spec
    fields = SyntheticDataModule(num_frames=4, stride=1, fps=8, size=24, resize=28, num_videos_per_class=2)
    assert fields.clip == spec  # the same contract written field by field (the recipes' form)
    with pytest.raises(RecipeError, match=r"data.init_args.clip and data.init_args.size are both set"):
        UCF101DataModule(root="x", clip=spec, size=24)
    with pytest.raises(RecipeError, match=r"data.init_args: ClipSpec.resize = 64: .* >= size \(80\)"):
        SyntheticDataModule(size=80)  # the synthetic set's default resize 64 cannot hold an 80 px crop


def test_a_recipe_writes_the_contract_as_clip(tmp_path) -> None:
    from jsonargparse import ArgumentParser

    from evovideo.lightning import SyntheticDataModule

    parser = ArgumentParser(exit_on_error=False)
    parser.add_class_arguments(SyntheticDataModule, "data")
    cfg = parser.parse_object({"data": {"clip": {"num_frames": 4, "stride": 1, "frame_rate": 8.0, "size": 24}}})
    dm = parser.instantiate_classes(cfg)["data"]
    assert dm.clip == ClipSpec(num_frames=4, stride=1, frame_rate=8.0, size=24)


@pytest.mark.parametrize("key, value, rule", [("frame_rate", 0, "a number > 0"),
                                              ("resize", 100, r"null \(round\(size \* 8/7\)\) or an integer >= size")])
def test_config_json_clip_fields_are_checked(tmp_path, key, value, rule) -> None:
    from evovideo.hub.io import PretrainedLoadError

    evovideo.save_pretrained(evovideo.create_model("r2plus1d_18"), tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    config["input_config"][key] = value
    config["input_config"]["size"] = 112 if key == "frame_rate" else 128
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(PretrainedLoadError, match=rf"input_config.{key} = {value}: must be {rule}"):
        evovideo.load_pretrained(tmp_path)
