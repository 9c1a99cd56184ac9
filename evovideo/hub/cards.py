"""Model cards rendered from facts: a zoo entry (``PretrainedCfg``) or a checkpoint's config.json.

    python -m evovideo.hub.cards model_cards/          # regenerate one card per zoo entry
    python -m evovideo.hub.cards model_cards/ --check  # exit 1 if a card is missing or stale

The card's Hub metadata (YAML front matter: library_name, license, tags, datasets, model-index)
comes from ``huggingface_hub.ModelCardData``.  ``model-index`` lists only measured results;
figures quoted from the paper appear in their own table, marked as quoted, never as ours.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from evovideo.dotted import flatten_dotted
from evovideo.models.base import InputConfig
from evovideo.models.zoo import ZOO, EvalResult, PretrainedCfg

BASE_TAGS = ("evovideo", "video", "self-supervised-learning", "elo", "pytorch")


def _metadata(cfg: PretrainedCfg, title: str) -> str:
    from huggingface_hub import EvalResult as HubEvalResult
    from huggingface_hub import ModelCardData

    measured = [r for r in cfg.results if r.measured]
    eval_results = [
        HubEvalResult(
            task_type=r.task,
            dataset_type=r.dataset_type or re.sub(r"[^a-z0-9]+", "-", r.dataset.lower()).strip("-"),
            dataset_name=r.dataset,
            metric_type=r.metric,
            metric_value=r.value,
            metric_name=f"{r.metric} ({r.protocol})",
        )
        for r in measured
    ]
    data = ModelCardData(
        library_name="evovideo",
        license=cfg.license,
        tags=[*BASE_TAGS, cfg.architecture],
        datasets=list(cfg.datasets) or None,
        model_name=title if eval_results else None,
        eval_results=eval_results or None,
    )
    return data.to_yaml()


def _value(r: EvalResult) -> str:
    return f"{r.value:g}" + (f" ± {r.ci95:.2f}" if r.ci95 is not None else "")


def _table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def render_card(cfg: PretrainedCfg, *, title: str | None = None, load_as: str | None = None) -> str:
    """The README.md (front matter + markdown) for one set of weights."""
    title = title or cfg.name
    load_as = load_as or (f'evovideo.create_model("{cfg.name}", pretrained=True)' if cfg.name in ZOO else None)
    if load_as is None and cfg.hf_hub_id:
        load_as = f'evovideo.from_pretrained("hf-hub:{cfg.hf_hub_id}")'
    ic = cfg.resolved_input_config()
    lines = ["---", _metadata(cfg, title).rstrip(), "---", "", f"# {title}", "", cfg.summary, ""]

    lines += ["## Weights", ""]
    if cfg.file:
        lines += [
            f"Shipped inside the `evovideo` package (`evovideo/weights/{cfg.file}.safetensors`); "
            "loads with no network."
        ]
    elif cfg.hf_hub_id:
        rev = f" at revision `{cfg.hf_hub_revision}`" if cfg.hf_hub_revision else ""
        lines += [f"On the Hugging Face Hub: `{cfg.hf_hub_id}`{rev}."]
    else:
        lines += [
            "**Weights not yet published.** This entry documents the recipe; train the weights with",
            "",
            f"    evovideo fit -c {cfg.recipe}",
            "",
            "and load the exported student with `evovideo.from_pretrained(\"local-dir:<run>/student\")`.",
        ]
    lines.append("")

    if cfg.published and load_as:
        lines += [
            "## Use", "",
            "```python",
            "import evovideo",
            f"encoder = {load_as}  # eval mode",
            "transform = evovideo.transforms_for(encoder)   # the evaluation clip (centre window) of a video",
            "clip = transform(evovideo.data.decode_video(path))   # (C, T, H, W), sampled at the weights' frame rate",
            "features = encoder(clip[None])                  # (1, num_features)",
            "```", "",
        ]

    lines += ["## Architecture and input", "", f"Architecture: `{cfg.architecture}` (RGB student).", ""]
    if ic is not None:
        lines += _table(
            [(ic.modality, ic.in_chans, ic.num_frames, ic.stride, f"{ic.frame_rate:g}", ic.clip.short_side, ic.size,
              ", ".join(f"{m:g}" for m in ic.mean), ", ".join(f"{s:g}" for s in ic.std))],
            ("modality", "channels", "frames", "stride", "fps", "resize (short side)", "size", "mean", "std"),
        )
        lines.append("")

    lines += ["## Training", "", f"Pretraining data: {cfg.pretraining_data}", "", f"Recipe: `{cfg.recipe}`", ""]
    if cfg.lambdas:
        source = f" ({cfg.lambdas_source})" if cfg.lambdas_source else ""
        lines += [f"Loss weights λ pinned in the recipe{source}:", ""]
        lines += _table([(k, f"{v:g}" if isinstance(v, (int, float)) else v) for k, v in flatten_dotted(cfg.lambdas).items()],
                        ("term", "λ"))
        lines.append("")

    lines += ["## Evaluation", ""]
    measured = [r for r in cfg.results if r.measured]
    if measured:
        lines += _table(
            [(r.dataset, r.protocol, r.metric, _value(r), f"`{r.command}`") for r in measured],
            ("dataset", "protocol", "metric", "value", "command"),
        )
    else:
        lines += ["No evaluation of these weights has been measured yet."]
    lines.append("")
    quoted = [r for r in cfg.results if not r.measured]
    if quoted:
        lines += ["### Quoted from the paper (not measured with these weights)", ""]
        lines += _table([(r.dataset, r.protocol, r.metric, _value(r), r.source) for r in quoted],
                        ("dataset", "protocol", "metric", "value", "source"))
        lines.append("")

    if cfg.limitations:
        lines += ["## Limitations", "", cfg.limitations, ""]
    lines += ["## License", "", f"`{cfg.license}`", ""]
    lines += ["## Citation", "", f"Method: {cfg.paper}", "", "```bibtex", cfg.citation, "```", ""]
    return "\n".join(lines)


def lambdas_from_hparams(hparams: dict | None) -> dict[str, dict[str, float]] | None:
    """``{"tasks": ..., "distill": ...}`` from the ``pretrain`` hyper-parameters a run's export records
    (or a recipe's ``model.init_args``): the terms that train, i.e. without those at weight 0 (a
    recipe may list a term at 0 to give its ``task_args`` for a search; the plan drops it)."""
    if not hparams or "tasks" not in hparams:
        return None
    return {g: {k: v for k, v in (hparams.get(g) or {}).items() if v} for g in ("tasks", "distill")}


def cfg_from_config(config: dict, repo_id: str | None = None, facts: dict | None = None) -> PretrainedCfg:
    """A card's facts for a checkpoint that is not a zoo entry: its config.json ``extra``, then
    ``facts`` (e.g. ``{"recipe": ..., "pretraining_data": ..., "license": ...}``) over them."""
    extra = {**config.get("extra", {}), **(facts or {})}
    return PretrainedCfg(
        architecture=config["architecture"],
        tag=str(extra.get("tag", "custom")),
        summary=str(extra.get("summary", f"An ELo-pretrained `{config['architecture']}` RGB student.")),
        pretraining_data=str(extra.get("pretraining_data") or extra.get("dataset") or "not recorded in config.json"),
        recipe=str(extra.get("recipe", "not recorded in config.json")),
        license=str(extra.get("license", "apache-2.0")),
        hf_hub_id=repo_id,
        input_config=InputConfig.from_dict(config["input_config"]),
        datasets=tuple(extra.get("datasets", ())),
        lambdas=extra.get("lambdas") or lambdas_from_hparams(extra.get("pretrain")),
        lambdas_source=str(extra.get("lambdas_source", "")),
        results=tuple(EvalResult(**r) for r in extra.get("results", [])),
        limitations=str(extra.get("limitations", "")),
    )


def card_path(out_dir: str | Path, name: str) -> Path:
    return Path(out_dir) / f"{name}.md"


def write_cards(out_dir: str | Path) -> list[Path]:
    """Write one card per zoo entry into ``out_dir``; returns the paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, cfg in sorted(ZOO.items()):
        path = card_path(out_dir, name)
        path.write_text(render_card(cfg))
        paths.append(path)
    return paths


def stale_cards(out_dir: str | Path) -> list[str]:
    """Names of zoo entries whose card in ``out_dir`` is missing or differs from its entry."""
    return [
        name for name, cfg in sorted(ZOO.items())
        if not card_path(out_dir, name).is_file() or card_path(out_dir, name).read_text() != render_card(cfg)
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evovideo.hub.cards", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir", nargs="?", default="model_cards", help="folder of cards (default: model_cards)")
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 if a card is missing or stale")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_cards(args.out_dir)
        for name in stale:
            print(f"stale or missing: {card_path(args.out_dir, name)}; run python -m evovideo.hub.cards {args.out_dir}")
        return 1 if stale else 0
    for path in write_cards(args.out_dir):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
