"""Data loading speed: the evovideo UCF101 train loader vs pytorchvideo's stock path vs the raw decoder.

All three read the same train list of a UCF101 layout, the same clip length (num_frames x
stride at frame_rate fps), the same crop size and DataLoader workers, and time clips/s in interleaved
rounds after a warm-up batch (median round reported):

  evovideo      UCF101DataModule train loader (RGB only): seek once, decode, convert only the
                sampled frames to RGB at the resized size (swscale), crop, normalise
  pytorchvideo  pytorchvideo.data.Ucf101 (LabeledVideoDataset, PyAV, decode_audio=False) +
                the stock transform (subsample T, /255, normalise, short-side resize, crop, flip)
                done with torchvision.transforms.v2 (pytorchvideo.transforms does not import)
  raw decoder   the decoder alone on random clips of the same videos: every frame of the clip
                window decoded to full-size RGB (PyAV; TorchCodec's frames-played-at also,
                when it is installed), nothing else

  evovideo bench data --root /data/UCF101                 # a real UCF101 (or any UCF101 layout)
  evovideo bench data --synthetic                         # synthetic clips written as AVI files
  evovideo bench data --from-clip ../shared/realclips/ucf101_applyeyemakeup_mpeg4_mp3.avi
                                                          # copies of one real clip in the layout
Targets: evovideo >= 2x pytorchvideo and >= 0.8x the raw decoder.
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    p = parser.add_argument
    src = parser.add_mutually_exclusive_group()
    src.add_argument("--root", help="a UCF101 root (UCF-101/ + ucfTrainTestlist/)")
    src.add_argument("--synthetic", action="store_true", help="write synthetic clips in the UCF101 layout (default)")
    src.add_argument("--from-clip", help="copy this video file --copies times into a UCF101 layout")
    p("--copies", type=int, default=24, help="--from-clip: number of copies (default 24)")
    p("--container", choices=["avi", "mp4"], default="avi", help="--synthetic: MPEG-4 AVI or H.264 MP4")
    p("--synthetic-size", type=int, default=240, help="--synthetic: frame side in pixels (default 240)")
    p("--split", type=int, default=1)
    p("--num-frames", type=int, default=16)
    p("--stride", type=int, default=2)
    p("--frame-rate", type=float, default=25.0)
    p("--size", type=int, default=112)
    p("--batch-size", type=int, default=8)
    p("--loader-workers", type=int, default=0, help="DataLoader worker processes for every loader (default 0)")
    p("--clips", type=int, default=96, help="clips timed per loader after one warm-up batch (default 96)")
    p("--rounds", type=int, default=4, help="interleaved rounds; the median round is reported (default 4)")
    p("--backend", choices=["pyav", "torchcodec", "auto"], default="pyav", help="evovideo decoder (default pyav)")
    p("--json", help="also write the figures to this JSON file")


def _layout_from_clip(clip: Path, copies: int, dest: Path) -> Path:
    lists = dest / "ucfTrainTestlist"
    lists.mkdir(parents=True)
    classes = ["ClassA", "ClassB"]
    (lists / "classInd.txt").write_text("".join(f"{i + 1} {c}\n" for i, c in enumerate(classes)))
    train, test = [], []
    for i in range(copies):
        c = classes[i % 2]
        rel = f"{c}/v_{c}_g{i // 2 + 1:02d}_c01{clip.suffix}"
        (dest / "UCF-101" / c).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(clip, dest / "UCF-101" / rel)
        train.append(f"{rel} {i % 2 + 1}\n")
        test.append(f"{rel}\n")
    for s in (1, 2, 3):
        (lists / f"trainlist{s:02d}.txt").write_text("".join(train))
        (lists / f"testlist{s:02d}.txt").write_text("".join(test[:2]))
    return dest


class _Stream:
    """Endless batches of a DataLoader (epochs repeat), counting clips."""

    def __init__(self, loader) -> None:
        self.loader, self.it = loader, None

    def take(self, clips: int) -> float:
        """Seconds to read ``clips`` clips (whole batches)."""
        n, t0 = 0, time.perf_counter()
        while n < clips:
            if self.it is None:
                self.it = iter(self.loader)
            try:
                batch = next(self.it)
            except StopIteration:
                self.it = None
                continue
            n += len(batch["label"]) if isinstance(batch, dict) else len(batch)
        return n / (time.perf_counter() - t0)


def _measure(loaders: dict, clips: int, rounds: int) -> dict[str, float]:
    """Median clips/s per loader over ``rounds`` interleaved rounds (one warm-up batch each first),
    so a busy machine slows every loader alike rather than whichever ran last."""
    streams = {name: _Stream(loader) for name, loader in loaders.items()}
    for s in streams.values():
        s.take(1)
    rates: dict[str, list[float]] = {name: [] for name in streams}
    for _ in range(rounds):
        for name, s in streams.items():
            rates[name].append(s.take(max(1, clips // rounds)))
    return {name: statistics.median(r) for name, r in rates.items()}


def _pytorchvideo_loader(root: Path, args, records):
    import torch
    from pytorchvideo.data import Ucf101, make_clip_sampler
    from torch.utils.data import DataLoader
    from torchvision.transforms import v2

    from evovideo.modalities import default_resize
    from evovideo.models.base import KINETICS_MEAN, KINETICS_STD

    listing = Path(tempfile.mkdtemp()) / "train.txt"
    listing.write_text("".join(f"{r.path} {r.label}\n" for r in records))
    resize = default_resize(args.size)
    mean = torch.tensor(KINETICS_MEAN).view(3, 1, 1, 1)
    std = torch.tensor(KINETICS_STD).view(3, 1, 1, 1)
    spatial = v2.Compose([v2.Resize(resize, antialias=True), v2.RandomCrop(args.size), v2.RandomHorizontalFlip()])

    def transform(sample: dict) -> dict:
        video = sample["video"]  # (C, T, H, W) float 0..255
        idx = torch.linspace(0, video.shape[1] - 1, args.num_frames).round().long()
        video = (video[:, idx] / 255.0 - mean) / std
        video = spatial(video.permute(1, 0, 2, 3)).permute(1, 0, 2, 3)
        return {"video": video, "label": sample["label"]}

    clip_sec = args.num_frames * args.stride / args.frame_rate
    ds = Ucf101(str(listing), make_clip_sampler("random", clip_sec), transform=transform, decode_audio=False)
    return DataLoader(ds, batch_size=args.batch_size, num_workers=args.loader_workers,
                      collate_fn=lambda b: {"video": torch.stack([s["video"] for s in b]),
                                            "label": torch.tensor([s["label"] for s in b])})


class _RawClips:
    """The decoder alone: one random clip window per item, every frame to full-size RGB."""

    def __init__(self, records, clip_sec: float, num_frames: int, backend: str) -> None:
        self.records, self.clip_sec, self.num_frames, self.backend = records, clip_sec, num_frames, backend

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, i: int):
        import av
        import numpy as np

        path = self.records[i].path
        if self.backend == "torchcodec":
            from torchcodec.decoders import VideoDecoder

            dec = VideoDecoder(path, dimension_order="NHWC", seek_mode="approximate")
            start = random.uniform(0, max(dec.metadata.duration_seconds - self.clip_sec, 0))
            step = self.clip_sec / self.num_frames
            return dec.get_frames_played_at([start + k * step for k in range(self.num_frames)]).data
        with av.open(path) as c:
            vs = c.streams.video[0]
            duration = float(vs.duration * vs.time_base) if vs.duration else c.duration / av.time_base
            start = random.uniform(0, max(duration - self.clip_sec, 0))
            c.seek(int(start / vs.time_base) + (vs.start_time or 0), stream=vs, backward=True)
            frames = []
            for f in c.decode(vs):
                if f.time is not None and f.time < start - 1e-6:
                    continue
                if f.time is not None and f.time >= start + self.clip_sec:
                    break
                frames.append(f.to_ndarray(format="rgb24"))
        return np.stack(frames)


def run(args: argparse.Namespace) -> int:
    import torch
    from torch.utils.data import DataLoader

    from evovideo.data import parse_ucf101
    from evovideo.data.decode import torchcodec_available
    from evovideo.lightning.datamodules import UCF101DataModule

    torch.set_num_threads(1)
    tmp = Path(tempfile.mkdtemp(prefix="evovideo-bench-"))
    if args.root:
        root, source = Path(args.root), args.root
    elif args.from_clip:
        root, source = _layout_from_clip(Path(args.from_clip), args.copies, tmp / "ucf"), f"{args.copies} x {args.from_clip}"
    else:
        from evovideo.data.synthetic import SyntheticVideos, write_ucf101_layout

        ds = SyntheticVideos(num_videos_per_class=4, num_classes=6, num_frames=96, size=args.synthetic_size, fps=25)
        write_ucf101_layout(tmp / "ucf", ds, container=args.container)
        root, source = tmp / "ucf", f"synthetic {args.synthetic_size}x{args.synthetic_size} {args.container}, {len(ds)} files"
    records, _ = parse_ucf101(root, args.split, "train")
    clip_sec = args.num_frames * args.stride / args.frame_rate
    print(f"data: {source}; {len(records)} train videos; clip {args.num_frames} frames x stride {args.stride} "
          f"({clip_sec:.2f} s), crop {args.size}, batch {args.batch_size}, workers {args.loader_workers}, {args.clips} clips")

    dm = UCF101DataModule(root=str(root), split=args.split, num_frames=args.num_frames, stride=args.stride,
                          frame_rate=args.frame_rate, size=args.size, batch_size=args.batch_size,
                          num_workers=args.loader_workers, backend=args.backend)
    dm.setup("fit")
    loaders = {f"evovideo ({args.backend})": dm.train_dataloader(),
               "pytorchvideo Ucf101 (stock)": _pytorchvideo_loader(root, args, records)}
    for b in ["pyav"] + (["torchcodec"] if torchcodec_available() else []):
        loaders[f"raw decoder ({b})"] = DataLoader(
            _RawClips(records, clip_sec, args.num_frames, b), batch_size=args.batch_size, shuffle=True,
            num_workers=args.loader_workers, collate_fn=lambda x: x)
    rows = _measure(loaders, args.clips, args.rounds)
    ours = rows[f"evovideo ({args.backend})"]
    raw_ref = rows[f"raw decoder ({'torchcodec' if args.backend == 'torchcodec' else 'pyav'})"]
    print(f"\n| loader | clips/s | evovideo is |\n|---|---|---|")
    for name, v in rows.items():
        print(f"| {name} | {v:.1f} | {ours / v:.2f}x |")
    print(f"\nvs pytorchvideo: {ours / rows['pytorchvideo Ucf101 (stock)']:.2f}x (target >= 2x); "
          f"vs raw decoder: {ours / raw_ref:.2f}x (target >= 0.8x)")
    if args.json:
        Path(args.json).write_text(json.dumps({"source": source, "clips_per_s": rows, "args": vars(args)}, indent=2, default=str))
    shutil.rmtree(tmp, ignore_errors=True)
    return 0
