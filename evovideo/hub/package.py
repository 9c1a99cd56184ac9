"""Package a trained student as a zoo entry's embedded weights (``evovideo/weights/<arch.tag>.*``).

    evovideo fit -c recipes/pretrain/demo_synthetic.yaml --trainer.default_root_dir runs/zoo_synthetic
    python -m evovideo.hub.package runs/zoo_synthetic/<version>/student test_r2plus1d.elo_synthetic \\
        --recipe recipes/pretrain/demo_synthetic.yaml --data "..."

Loads the exported student strictly, then writes ``<name>.safetensors`` and ``<name>.json``
(config.json with ``extra``: recipe, the λ it was trained with (``tasks`` / ``distill`` from the
run's hyper-parameters), the pretraining data, and the run's hyper-parameters).  Then point the
entry in ``evovideo/models/zoo.py`` at ``file="<name>"`` and regenerate the cards.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import logging
import tempfile
from dataclasses import replace
from pathlib import Path

from evovideo.hub.cards import lambdas_from_hparams
from evovideo.hub.io import CONFIG_NAME, WEIGHTS_NAME, load_pretrained, save_pretrained
from evovideo.models.base import InputConfig
from evovideo.models.zoo import WEIGHTS_DIR

log = logging.getLogger(__name__)


def lambdas_of(config: dict) -> dict[str, dict[str, float]]:
    """The λ a student was trained with, from the ``pretrain`` hyper-parameters its export recorded."""
    lambdas = lambdas_from_hparams(config.get("extra", {}).get("pretrain"))
    if lambdas is None:
        raise KeyError("config.json has no extra.pretrain.tasks; export the student with PretrainModule")
    return lambdas


def recipe_input_config(recipe: str | Path, base: InputConfig) -> InputConfig:
    """``base`` with the clip the recipe's data section trained on (frames, stride, frame rate, size,
    resize, mean/std; ``SyntheticDataModule`` calls its frame rate ``fps``)."""
    import yaml

    data = (yaml.safe_load(Path(recipe).read_text()).get("data") or {}).get("init_args") or {}
    fields = {k: data[k] for k in ("num_frames", "stride", "size", "resize") if k in data}
    fields.update({k: tuple(data[k]) for k in ("mean", "std") if k in data})
    rate = data.get("frame_rate", data.get("fps"))
    if rate is not None:
        fields["frame_rate"] = float(rate)
    return replace(base, **fields)


def package(student_dir: str | Path, name: str, *, recipe: str, data: str, out_dir: Path = WEIGHTS_DIR) -> Path:
    """Copy the student into ``out_dir`` as ``<name>.safetensors`` + ``<name>.json`` with its provenance.

    The input config is the one the recipe's data actually fed the student (a run exports the
    architecture's default, which differs when the recipe trains at another size).
    """
    model = load_pretrained(student_dir)  # strict
    config = model.provenance.config
    if Path(recipe).is_file():
        trained = recipe_input_config(recipe, model.input_config)
        if trained != model.input_config:
            log.warning("%s: input config set from %s: %s (export said %s)", name, recipe, trained, model.input_config)
        model.input_config = trained
    extra = {
        "recipe": recipe,
        "lambdas": lambdas_of(config),
        "pretraining_data": data,
        "pretrain": config["extra"].get("pretrain", {}),
    }
    with tempfile.TemporaryDirectory() as tmp:
        save_pretrained(model, tmp, extra=extra)
        out_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(tmp) / WEIGHTS_NAME, out_dir / f"{name}.safetensors")
        shutil.copyfile(Path(tmp) / CONFIG_NAME, out_dir / f"{name}.json")
    return out_dir / f"{name}.safetensors"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evovideo.hub.package", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("student_dir", help="folder exported by the pretraining run (config.json + model.safetensors)")
    parser.add_argument("name", help="zoo entry name, arch.tag")
    parser.add_argument("--recipe", required=True, help="recipe the run used (path in the repository)")
    parser.add_argument("--data", required=True, help="exactly what the weights were trained on")
    args = parser.parse_args(argv)
    path = package(args.student_dir, args.name, recipe=args.recipe, data=args.data)
    print(f"wrote {path} ({path.stat().st_size / 2**20:.2f} MiB) and {path.with_suffix('.json')}")
    print(json.dumps(lambdas_of(json.loads(path.with_suffix(".json").read_text())), indent=2))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
