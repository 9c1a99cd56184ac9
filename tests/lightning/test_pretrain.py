"""PretrainModule: λ = 0 removes terms and towers, recipe errors, custom tasks, DDP-safe gradients."""
from __future__ import annotations

from collections import Counter
from types import SimpleNamespace

import pytest
import torch

from evovideo.lightning import PretrainModule
from evovideo.tasks import TASKS, RecipeError, Task

TOWERS = {"flow": "test_flow", "gray": "test_gray", "audio": "test_audio"}
ALL_TERMS = {
    "rgb/reconstruction": 0.5, "rgb/future_prediction": 0.5, "rgb->flow/cross_modal_transfer": 0.3,
    "gray->rgb/cross_modal_transfer": 0.2, "rgb/temporal_order": 1.0, "flow/arrow_of_time": 1.0,
    "flow-rgb/cross_modal_embedding": 0.5, "audio-rgb/temporal_alignment": 0.4,
}


def make_batch(b: int = 3) -> dict:
    g = torch.Generator().manual_seed(1)
    return {
        "rgb": torch.randn(b, 3, 8, 32, 32, generator=g), "gray": torch.randn(b, 1, 8, 32, 32, generator=g),
        "flow": torch.randn(b, 2, 8, 32, 32, generator=g), "audio": torch.randn(b, 1, 64, 80, generator=g),
        "audio_shifted": torch.randn(b, 1, 64, 80, generator=g),
        "rgb_future": torch.randn(b, 3, 4, 32, 32, generator=g), "has_audio": torch.ones(b, dtype=torch.bool),
    }


def count_forwards(module: PretrainModule) -> Counter:
    calls: Counter = Counter()
    for m, enc in module.encoders.items():
        first = next(iter(enc.named_layers()))[1]
        first.register_forward_hook(lambda *_, m=m: calls.update([m]))
    return calls


def test_every_term_gets_a_gradient_so_ddp_needs_no_unused_parameter_search():
    module = PretrainModule(towers=TOWERS, tasks=ALL_TERMS, distill={"flow:layer3": 0.5, "audio:layer4->layer3": 0.2})
    terms = module.compute_losses(make_batch())
    assert set(terms) == set(ALL_TERMS) | {"flow:layer3", "audio:layer4->layer3"}
    torch.stack(list(terms.values())).sum().backward()
    missing = [n for n, p in module.named_parameters() if p.requires_grad and p.grad is None]
    assert missing == []


def test_lambda_zero_removes_the_term_and_an_unused_tower():
    tasks = {"rgb/reconstruction": 1.0, "flow-rgb/cross_modal_embedding": 0.5, "gray/arrow_of_time": 0.0,
             "audio-rgb/temporal_alignment": 0.0}
    module = PretrainModule(towers=TOWERS, tasks=tasks, distill={"gray:layer3": 0.0})
    assert set(module.encoders) == {"rgb", "flow"}  # gray and audio towers are not built
    assert set(module.tasks) == {"rgb/reconstruction", "flow-rgb/cross_modal_embedding"}
    assert len(module.distillers) == 0
    assert module.required_keys == ("rgb", "flow")
    calls = count_forwards(module)
    terms = module.compute_losses(make_batch())
    assert set(terms) == {"rgb/reconstruction", "flow-rgb/cross_modal_embedding"}
    assert calls == {"rgb": 1, "flow": 1}  # each tower runs once per step


def test_distilling_from_a_tower_no_task_trains_is_refused_without_a_pretrained_teacher(tmp_path, caplog):
    """Before: the flow tower was frozen at its random init with no warning, and its random features
    were distilled into the student."""
    from evovideo.hub import save_pretrained
    from evovideo.factory import create_model

    with pytest.raises(RecipeError, match=r"distill\['flow:layer3'\]: the flow tower is trained by no active task"
                                          r".*teachers: \{flow: local-dir:.*or set the weight to 0"):
        PretrainModule(towers=TOWERS, tasks={"rgb/reconstruction": 1.0}, distill={"flow:layer3": 1.0})
    torch.manual_seed(3)
    teacher = create_model("test_flow")
    save_pretrained(teacher, tmp_path / "flow_teacher")
    with caplog.at_level("WARNING"):
        module = PretrainModule(towers=TOWERS, tasks={"rgb/reconstruction": 1.0}, distill={"flow:layer3": 1.0},
                                teachers={"flow": f"local-dir:{tmp_path / 'flow_teacher'}"})
    assert "frozen pretrained teacher" in caplog.text
    assert module.plan.frozen == ("flow",)
    assert torch.equal(module.encoders["flow"].stem[0].weight, teacher.stem[0].weight)  # the teacher's weights
    assert not any(p.requires_grad for p in module.encoders["flow"].parameters())
    module.train()
    assert not module.encoders["flow"].training and module.student.training  # the teacher runs in eval mode
    torch.stack(list(module.compute_losses(make_batch()).values())).sum().backward()
    assert all(p.grad is not None for p in module.student.parameters())
    assert torch.equal(module.encoders["flow"].stem[1].running_mean, teacher.stem[1].running_mean)
    # a tower that a task trains may be distilled from without a teacher
    PretrainModule(towers=TOWERS, tasks={"flow/arrow_of_time": 1.0}, distill={"flow:layer3": 1.0})


def test_audio_distillation_and_audio_tasks_leave_clips_without_audio_out():
    """Before: distillation from the audio tower also compared clips whose audio track is missing."""
    module = PretrainModule(towers=TOWERS, tasks={"audio/reconstruction": 1.0, "audio-rgb/temporal_alignment": 1.0},
                            distill={"audio:layer4->layer3": 1.0}).eval()  # eval: BatchNorm does not mix clips
    batch = make_batch(4)
    batch["has_audio"] = torch.tensor([True, True, False, False])
    before = module.compute_losses(batch)
    changed = dict(batch)
    for key in ("audio", "audio_shifted"):
        changed[key] = batch[key].clone()
        changed[key][2:] = 100.0  # the clips without audio: must not matter
    after = module.compute_losses(changed)
    for key in before:
        assert torch.allclose(before[key], after[key]), key
    batch["has_audio"] = torch.zeros(4, dtype=torch.bool)
    assert all(float(v) == 0.0 for v in module.compute_losses(batch).values())


def test_a_step_whose_terms_are_all_masked_warns_once_and_is_counted(caplog):
    """Before: a recipe whose terms all need audio trained on silent files with train/loss exactly 0
    and no word."""
    module = PretrainModule(towers=TOWERS, tasks={"audio-rgb/temporal_alignment": 1.0})
    logged = {}
    module.log = lambda name, value, **kw: logged.__setitem__(name, float(value))
    batch = make_batch()
    batch["has_audio"] = torch.zeros(3, dtype=torch.bool)
    with caplog.at_level("WARNING"):
        module.training_step(batch, 0)
        module.training_step(batch, 1)
    assert caplog.text.count("was masked for the whole batch") == 1
    assert logged["train/masked_terms"] == 1.0 and logged["train/loss"] == 0.0


def test_warmup_is_scaled_to_a_shortened_run():
    """Before: candidates of budget 10 ran a warm-up of 20 steps and were scored mid-warm-up."""
    from evovideo.lightning.pretrain import scale_warmup

    cfg = {"model": {"init_args": {"warmup_steps": 20}}, "trainer": {"max_steps": 300}}
    assert scale_warmup(cfg, 10)["model"]["init_args"]["warmup_steps"] == 1
    cfg = {"model": {"init_args": {"warmup_steps": 2000}}, "trainer": {"max_epochs": 100}}
    assert scale_warmup(cfg, 2000)["model"]["init_args"]["warmup_steps"] == 200
    cfg = {"model": {"init_args": {"warmup_steps": 20}}, "trainer": {"max_steps": 300}}
    assert scale_warmup(cfg, 600)["model"]["init_args"]["warmup_steps"] == 20  # not shortened: unchanged


@pytest.mark.parametrize("kwargs,match", [
    (dict(student="nope"), r"student: unknown model 'nope'.*known: .*test_r2plus1d"),
    (dict(student="test_flow"), r"student: 'test_flow' is a flow encoder, not rgb; rgb encoders: .*test_r2plus1d"),
    (dict(towers={"flow": "test_gray"}), r"towers\['flow'\]: 'test_gray' is a gray encoder.*test_flow"),
    (dict(towers={"depth": "test_flow"}), r"towers: unknown modality 'depth'; known: flow, gray, audio"),
    (dict(tasks={"rgb/reconstruction": 1.5}), r"tasks\['rgb/reconstruction'\] = 1.5: .*\[0, 1\]"),
    (dict(tasks={"rgb/reconstruction": -0.1}), r"\[0, 1\]"),
    (dict(tasks={"rgb/reconstruction": 0.0}), r"every weight is 0"),
    (dict(tasks={"flow/arrow_of_time": 1.0}, towers={}), r"tasks\['flow/arrow_of_time'\] needs a flow tower.*test_flow"),
    (dict(tasks={"rgb/reconstruction": 1.0}, distill={"flow:layer9": 1.0}, towers=TOWERS),
     r"distill\['flow:layer9'\]: test_flow has no layer 'layer9'; known: stem, layer1"),
    (dict(distill={"rgb:layer3": 1.0}), r"distill\['rgb:layer3'\]: unknown tower modality"),
    (dict(tasks={"rgb/reconstruction": 1.0}, task_args={"rgb/recon": {}}), r"task_args\['rgb/recon'\]: no such term"),
    (dict(tasks={"flow-rgb/cross_modal_embedding": 1.0}, towers=TOWERS,
          task_args={"flow-rgb/cross_modal_embedding": {"loss": "cosine"}}),
     r"task_args\['flow-rgb/cross_modal_embedding'\].*unknown loss 'cosine'; known: triplet, infonce"),
])
def test_bad_recipes_name_the_field_and_the_choices(kwargs, match):
    kwargs = {"tasks": {"rgb/reconstruction": 1.0}, **kwargs}
    with pytest.raises(RecipeError, match=match):
        PretrainModule(**kwargs)


def test_check_data_names_missing_keys_and_the_way_out():
    module = PretrainModule(towers=TOWERS, tasks={"rgb/reconstruction": 1.0, "audio-rgb/temporal_alignment": 0.5})
    module.check_data(SimpleNamespace(batch_keys={"rgb", "audio", "audio_shifted"}))  # fine
    with pytest.raises(RecipeError, match=r"does not produce audio, audio_shifted \(needed by audio-rgb/temporal_alignment\)"
                                          r".*data.init_args.modalities"):
        module.check_data(SimpleNamespace(modalities=["rgb"], future_frames=0, audio_shift=0.0))


class _Energy(Task):
    """A user's task: push the pooled features towards zero."""

    def __init__(self, modalities, encoders, scale: float = 1.0):
        super().__init__(modalities, encoders)
        self.scale = torch.nn.Parameter(torch.tensor(scale))

    def forward(self, inputs):
        return self.scale * inputs.features[self.modalities[0]].pooled.pow(2).mean()


def test_a_user_registers_a_task_without_editing_evovideo():
    if "user_energy" not in TASKS:
        TASKS.register("user_energy")(_Energy)
    module = PretrainModule(tasks={"rgb/user_energy": 0.7}, task_args={"rgb/user_energy": {"scale": 2.0}})
    terms = module.compute_losses(make_batch())
    assert set(terms) == {"rgb/user_energy"} and terms["rgb/user_energy"].item() > 0
    assert module.tasks["rgb/user_energy"].scale.item() == 2.0


@pytest.mark.slow
def test_run_pretraining_returns_the_student_and_lambdas_override_the_recipe(tmp_path):
    from pathlib import Path

    from evovideo.hub import load_pretrained
    from evovideo.lightning import run_pretraining
    from evovideo.lightning.pretrain import load_recipe

    recipe = load_recipe(Path(__file__).resolve().parents[2] / "recipes" / "pretrain" / "all_modalities_synthetic.yaml")
    recipe["data"]["init_args"].update(num_videos_per_class=2, batch_size=2, modalities=["rgb", "flow"])
    no_audio = {"tasks": {"audio-rgb/temporal_alignment": 0.0, "rgb/future_prediction": 0.0}, "distill": {"flow:layer3": 0.0}}
    student = run_pretraining(recipe, lambdas=no_audio, max_steps=2, root_dir=tmp_path,
                              trainer_overrides={"enable_progress_bar": False, "enable_model_summary": False})
    assert student.model_name == "test_r2plus1d"
    logged = {k for k in student.pretrain_metrics if k.startswith("train/")}
    assert "train/flow-rgb/cross_modal_embedding" in logged and "train/loss" in logged
    assert not {"train/audio-rgb/temporal_alignment", "train/flow:layer3"} & logged
    saved = load_pretrained(tmp_path / "logs" / "version_0" / "student")
    assert all(torch.equal(a, b) for a, b in zip(saved.state_dict().values(), student.state_dict().values()))


def test_export_records_the_preprocessing_the_data_fed():
    from evovideo.lightning.datamodules import SyntheticDataModule
    from evovideo.lightning.pretrain import trained_input_config
    from evovideo.models import model_input_config

    base = model_input_config("test_r2plus1d")
    dm = SyntheticDataModule(num_frames=4, stride=3, size=40, fps=12, resize=48)
    cfg = trained_input_config(base, dm)
    assert (cfg.num_frames, cfg.stride, cfg.size) == (4, 3, 40)
    assert (cfg.frame_rate, cfg.resize) == (12.0, 48)  # the whole clip contract, frame rate and resize too
    assert cfg.mean == base.mean and cfg.modality == "rgb"
    assert trained_input_config(base, object()) == base  # a user's own data module: defaults kept


def test_a_plain_loop_without_a_trainer_draws_fresh_task_randomness_every_step():
    """Without a Trainer, ``global_step`` stays 0: the step generator gave every step the same
    temporal-order tuples, so a plain loop (``evovideo bench tasks``) let the head memorise a
    fixed set of walks per batch row instead of learning order (held-out accuracy at chance)."""
    module = PretrainModule(tasks={"rgb/temporal_order": 1.0})
    module.train()
    batch = make_batch(4)
    first, second = (module.compute_losses(batch)["rgb/temporal_order"] for _ in range(2))
    assert not torch.equal(first, second)  # same weights, same batch: only the drawn tuples differ
    module.eval()  # evaluation stays reproducible: it does not advance the draws
    assert torch.equal(module.compute_losses(batch)["rgb/temporal_order"],
                       module.compute_losses(batch)["rgb/temporal_order"])
