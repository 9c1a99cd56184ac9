"""Tasks that classify time: temporal order, arrow of time, temporal alignment.

Each classifies positives (ordered / forward / aligned, target 1) against negatives (shuffled /
reversed / shifted, target 0).  Both go through the tower in **one** forward,
``cat([positives, negatives])``: in train mode every BatchNorm batch then holds both labels in
equal numbers and the running statistics are fed both.  Two single-label forwards (positives in
the step's main forward, negatives in a second one) let the head separate the two by their
*batch* statistics, which eval mode does not have: measured on the tiny student,
``rgb/temporal_order`` alone, the eval-mode head scored chance (50.6% / 50.0%, 2 seeds) while one
mixed forward scored above it.  The step's main features of the tower are not reused here.

Temporal-order negatives carry no low-level cut that positives lack (see :func:`order_tuples`).
"""
from __future__ import annotations

from typing import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from evovideo.models.base import Encoder
from evovideo.tasks.base import TASKS, Task, TaskInputs, audio_mask, masked_loss, time_dim
from evovideo.tasks.heads import MLPHead
from evovideo.tasks.losses import binary_logistic_loss


def pooled_features(encoder: Encoder, x: torch.Tensor) -> torch.Tensor:
    # (B, C, T, H, W) -> (B, D)
    return encoder.pool(encoder.forward_features(x))


def order_tuples(x: torch.Tensor, dim: int, num_frames: int, generator: torch.Generator
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """Shuffle-and-learn frame tuples (Misra et al., 2016) at the length of the clip, with the
    same jumps in positives and negatives.

    Per sample, a positive walks ``num_frames`` frames of axis ``dim`` forwards, with steps ``g_j``
    drawn uniformly from ``1 .. (T - 1) // (num_frames - 1)``; a negative walks fresh steps from
    the same distribution with random signs, neither all + (ordered) nor all - (the reversal,
    the arrow of time's negative; shuffle-and-learn counts it as ordered), never landing on a
    frame twice.  Both walks are placed at a random offset and stretched back to ``T`` by the same
    nearest-frame index, so positives and negatives have the same number of held frames and of
    jumps, at the same places, and jumps of the same sizes: only their *direction* (the task)
    differs.  (Permuting contiguous chunks of the clip, as before, put jump cuts in every negative
    and none in any positive: a cut detector solved it.)

    Returns ``(positive, negative)``, each shaped like ``x``.
    """
    b, length = x.shape[0], x.shape[dim]
    n = num_frames
    if n < 3 or length < n:
        raise ValueError(f"temporal order needs 3 <= num_frames <= clip length, got num_frames={n} and "
                         f"{length} time steps on axis {dim}")
    top = max(1, (length - 1) // (n - 1))

    def steps() -> torch.Tensor:
        return torch.randint(1, top + 1, (b, n - 1), generator=generator)

    def place(walk: torch.Tensor) -> torch.Tensor:  # (B, n) relative positions -> absolute, random offset
        lo, hi = walk.min(1, keepdim=True).values, walk.max(1, keepdim=True).values
        room = (length - 1 - (hi - lo)).clamp_min(0)
        offset = (torch.rand(b, 1, generator=generator) * (room + 1)).floor().long().clamp_max(room)
        return walk - lo + offset

    zero = torch.zeros(b, 1, dtype=torch.long)
    pos = torch.cat([zero, steps().cumsum(1)], 1)
    neg = torch.zeros(b, n, dtype=torch.long)
    todo = torch.ones(b, dtype=torch.bool)
    for _ in range(200):  # rejection sampling; each draw is accepted with probability > 1/4
        k = int(todo.sum())
        if k == 0:
            break
        signs = torch.randint(0, 2, (k, n - 1), generator=generator) * 2 - 1
        walk = torch.cat([zero[:k], (signs * steps()[:k]).cumsum(1)], 1)
        sorted_walk = walk.sort(1).values
        ok = ~((signs == 1).all(1) | (signs == -1).all(1)) & (sorted_walk.diff(dim=1) > 0).all(1)
        ok &= (sorted_walk[:, -1] - sorted_walk[:, 0]) <= length - 1
        rows = todo.nonzero().squeeze(1)[ok]
        neg[rows] = walk[ok]
        todo[rows] = False
    if todo.any():  # practically unreachable: fall back to a swap of the first two frames
        neg[todo] = pos[todo][:, [1, 0, *range(2, n)]]
    stretch = torch.arange(length) * n // length  # (T,) nearest index into the tuple
    out = []
    for index in (place(pos)[:, stretch], place(neg)[:, stretch]):  # (B, T)
        shape = [b] + [1] * (x.dim() - 1)
        shape[dim] = length
        out.append(x.gather(dim, index.to(x.device).view(shape).expand_as(x)))
    return out[0], out[1]


def shuffle_chunks(x: torch.Tensor, dim: int, num_frames: int, generator: torch.Generator) -> torch.Tensor:
    """The negative of :func:`order_tuples` alone."""
    return order_tuples(x, dim, num_frames, generator)[1]


def reverse_time(x: torch.Tensor, modality: str) -> torch.Tensor:
    """Play the clip backwards; optical flow also changes sign (the motion runs the other way)."""
    out = x.flip(time_dim(modality))
    return -out if modality == "flow" else out


def mixed_forward(encoder: Encoder, positive: torch.Tensor, negative: torch.Tensor) -> torch.Tensor:
    """Pooled features of ``cat([positive, negative])`` in one forward: (B, ...) x 2 -> (2B, D)."""
    return pooled_features(encoder, torch.cat([positive, negative]))


def binary_targets(n: int, like: torch.Tensor) -> torch.Tensor:
    """(2n,) targets: n ones (positives) then n zeros (negatives)."""
    return torch.cat([torch.ones(n), torch.zeros(n)]).to(like)


class _BinaryTimeTask(Task):
    """Classify a positive clip (target 1) against a modified one (target 0), one mixed forward."""

    def __init__(self, modalities: Sequence[str], encoders: Mapping[str, Encoder], hidden: int = 128) -> None:
        super().__init__(modalities, encoders)
        self.head = MLPHead(encoders[self.modalities[0]].num_features, 1, hidden)

    def pair(self, x: torch.Tensor, modality: str, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def logits(self, encoder: Encoder, x: torch.Tensor, modality: str, generator: torch.Generator) -> torch.Tensor:
        """(2B,) logits of positives then negatives (used by the task and by ``evovideo bench tasks``)."""
        positive, negative = self.pair(x, modality, generator)
        return self.head(mixed_forward(encoder, positive, negative)).squeeze(1)

    def forward(self, inputs: TaskInputs) -> torch.Tensor:
        (m,) = self.modalities
        x = inputs.batch[m]
        logits = self.logits(inputs.encoders[m], x, m, inputs.generator)  # (2B,)
        keep = audio_mask(inputs.batch, self.modalities, x.shape[0])  # clips without audio are left out
        return masked_loss(binary_logistic_loss, logits, binary_targets(x.shape[0], logits), keep, pairs=True)


@TASKS.register("temporal_order")
class TemporalOrder(_BinaryTimeTask):
    """``m/temporal_order``: ordered vs shuffled shuffle-and-learn tuples of ``num_frames`` frames
    (:func:`order_tuples`).  Video: frames; audio: spectrogram columns."""

    def __init__(self, modalities: Sequence[str], encoders: Mapping[str, Encoder], hidden: int = 128,
                 num_frames: int = 4) -> None:
        super().__init__(modalities, encoders, hidden)
        if num_frames < 3:
            raise ValueError(f"num_frames must be >= 3 (with 2 the only shuffle is the reversal), got {num_frames}")
        self.num_frames = num_frames

    def pair(self, x, modality, generator):
        return order_tuples(x, time_dim(modality), self.num_frames, generator)


@TASKS.register("arrow_of_time")
class ArrowOfTime(_BinaryTimeTask):
    """``m/arrow_of_time``: forward playback vs reversed playback (flow is negated too)."""

    def pair(self, x, modality, generator):
        return x, reverse_time(x, modality)


# The first layer each modality's time course is read from (see TemporalAlignment): the deepest
# whose time axis still has about the clip's frames (tiny student: layer1, 8 steps; audio towers:
# layer2, 13 steps of a 1 s log-mel; R(2+1)D-18/50: layer1, 16 steps).
ALIGNMENT_TAPS = {"audio": "layer2", "rgb": "layer1", "flow": "layer1", "gray": "layer1"}
LAYERS = ("stem", "layer1", "layer2", "layer3", "layer4")


def time_course(fmap: torch.Tensor, modality: str, steps: int) -> torch.Tensor:
    """A feature map's course over time: (B, D, t, h, w) video / (B, D, f, t) audio -> (B, D, steps),
    averaged over space (frequency), time average-pooled to ``steps``."""
    x = fmap.mean(2) if modality == "audio" else fmap.mean((3, 4))
    return F.adaptive_avg_pool1d(x, steps)


def timed_layers(encoder: Encoder, first: str) -> list[str]:
    """``first`` and every later layer whose map keeps a time axis (>= 2 steps) on the encoder's
    example clip: a layer with one time step says nothing about *when* (centred over time it is 0)."""
    names = encoder.feature_layers
    if first not in names:
        raise ValueError(f"unknown layer '{first}' for {type(encoder).__name__}; known: {', '.join(names)}")
    cfg = encoder.input_config
    example = cfg.example_input(1)
    if cfg.modality != "audio":  # the time axis does not depend on the frame size: keep the forward cheap
        example = example[..., :32, :32]
    was_training = encoder.training
    encoder.eval()
    try:
        with torch.no_grad():
            maps = encoder.forward_intermediates(example, names[names.index(first):])
    finally:
        encoder.train(was_training)
    axis = 3 if cfg.modality == "audio" else 2
    return [name for name, m in maps.items() if m.shape[axis] >= 2]


@TASKS.register("temporal_alignment")
class TemporalAlignment(Task):
    """``a-b/temporal_alignment``: are ``a`` and ``b`` aligned in time?  Positive: both from the
    clip's span; negative: ``a`` from a window shifted within the same video (batch key
    ``<a>_shifted``, e.g. ``audio_shifted`` for ``audio-rgb``).  ``a`` and its shifted window go
    through tower ``a`` in one forward; ``b`` is the step's forward, tapped.  Clips without audio
    are left out.

    Synchrony is *when* things happen, so the task compares the two streams over time.  A tower's
    map at a layer is averaged over space (or frequency), pooled to ``time_steps`` steps and
    projected per step to ``dim``; a *course* sums such projections over layers and is centred over
    time.  The logit is ``s1 cos(first taps) + s2 cos(deep) + bias``: the courses of the first taps
    (``tap_a`` / ``tap_b``, defaults ``ALIGNMENT_TAPS``), plus those of every later layer that keeps
    a time axis (:func:`timed_layers`), so the whole tower learns from the task (a distillation
    term reading the audio tower's last layer then reads trained features, and no parameter is left
    without a gradient).  ``s2`` starts at 0, so the head starts as the first taps' alone.  Measured
    on event clips: after 200 steps on 800 fixed clips the first taps alone reached 79% held out and
    every design with the deep layers 54-57% (summed from step 0, zero-initialised, or gated); after
    1,000 steps on fresh clips the gated design reached 92.5 / 94.2% (seeds 0 / 1), the first taps
    alone 90.6 / 92.5%: slower to start, as good once learned.  It is the correlation of what each
    stream does when; SyncNet compares per-window embeddings in the same spirit.  Before, an MLP
    read the *pooled* last maps: the tiny student's last map has one time step, a global average
    over time keeps little of when, and the task stayed at chance (50.8% at 1,000 steps on the
    synthetic set, 48% at 1,000 steps on clips whose sounds follow visible flashes, where a
    hand-made envelope correlation separates 95% of pairs; see ``evovideo bench tasks``).
    """

    arity = "pair"

    def __init__(self, modalities: Sequence[str], encoders: Mapping[str, Encoder], dim: int = 32,
                 time_steps: int = 8, tap_a: str | None = None, tap_b: str | None = None) -> None:
        super().__init__(modalities, encoders)
        a, b = self.modalities
        if time_steps < 2:
            raise ValueError(f"time_steps must be >= 2 (a course over time), got {time_steps}")
        self.time_steps = time_steps
        self.layers_a = timed_layers(encoders[a], tap_a or ALIGNMENT_TAPS[a])
        self.layers_b = timed_layers(encoders[b], tap_b or ALIGNMENT_TAPS[b])
        # two courses per stream: its first tap alone, and the sum over every timed layer (``deep``)
        self.proj_a = nn.ModuleDict({n: nn.Linear(encoders[a].layer_channels(n), dim) for n in self.layers_a[:1]})
        self.proj_b = nn.ModuleDict({n: nn.Linear(encoders[b].layer_channels(n), dim) for n in self.layers_b[:1]})
        self.deep_a = nn.ModuleDict({n: nn.Linear(encoders[a].layer_channels(n), dim) for n in self.layers_a})
        self.deep_b = nn.ModuleDict({n: nn.Linear(encoders[b].layer_channels(n), dim) for n in self.layers_b})
        # cosine in [-1, 1] -> logits, learned; the deep courses' gate starts at 0 (see the class docstring)
        self.scale = nn.Parameter(torch.tensor([5.0, 0.0]))
        self.bias = nn.Parameter(torch.zeros(()))

    @classmethod
    def feature_modalities(cls, modalities: Sequence[str]) -> tuple[str, ...]:
        return (modalities[1],)  # b: the step's forward, tapped

    @classmethod
    def own_forward_modalities(cls, modalities: Sequence[str]) -> tuple[str, ...]:
        return (modalities[0],)  # a: the clip's window and the shifted one, one forward in logits()

    @classmethod
    def batch_keys(cls, modalities: Sequence[str]) -> tuple[str, ...]:
        return (*modalities, f"{modalities[0]}_shifted")

    @classmethod
    def taps(cls, modalities, args):
        b = modalities[1]
        first = args.get("tap_b") or ALIGNMENT_TAPS[b]
        return {b: LAYERS[LAYERS.index(first):] if first in LAYERS else (first,)}

    def course(self, maps: Mapping[str, torch.Tensor], modality: str, proj: nn.ModuleDict,
               layers: Sequence[str]) -> torch.Tensor:
        """Maps of ``layers`` -> (B, time_steps * dim): projected per step and layer, summed, centred
        over time, unit norm."""
        z = sum(proj[n](time_course(maps[n], modality, self.time_steps).transpose(1, 2)) for n in layers)  # (B, steps, dim)
        return F.normalize((z - z.mean(1, keepdim=True)).flatten(1), dim=1)

    def logits(self, encoder_a: Encoder, xa: torch.Tensor, xa_shifted: torch.Tensor,
               maps_b: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """(2B,) logits of aligned pairs then shifted pairs; ``maps_b``: ``b``'s maps by layer (its taps)."""
        a, b = self.modalities
        maps_a = encoder_a.forward_intermediates(torch.cat([xa, xa_shifted]), self.layers_a)  # (2B, ...) each
        logit = self.bias
        for i, (pa, pb, la, lb) in enumerate(((self.proj_a, self.proj_b, self.layers_a[:1], self.layers_b[:1]),
                                              (self.deep_a, self.deep_b, self.layers_a, self.layers_b))):
            za, zb = self.course(maps_a, a, pa, la), self.course(maps_b, b, pb, lb)
            logit = logit + self.scale[i] * (za * torch.cat([zb, zb])).sum(1)
        return logit

    def forward(self, inputs: TaskInputs) -> torch.Tensor:
        a, b = self.modalities
        maps_b = inputs.features[b].taps
        logits = self.logits(inputs.encoders[a], inputs.batch[a], inputs.batch[f"{a}_shifted"], maps_b)
        n = inputs.batch[b].shape[0]
        keep = audio_mask(inputs.batch, self.modalities, n)
        return masked_loss(binary_logistic_loss, logits, binary_targets(n, logits), keep, pairs=True)
