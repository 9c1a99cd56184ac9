"""The package's structure, read from its imports (ast, nothing is imported): no circle between
subpackages, no import upwards, and Lightning only at the top.

The layers, bottom to top.  A unit may import units of lower layers only; the package root
(``evovideo/__init__.py``) is a lazy facade over all of them and is left out.  DESIGN.md §4 lists the
folders but draws no layering; this table is the one the code follows.
"""
from __future__ import annotations

import ast
from pathlib import Path

import evovideo

LAYERS = [
    ("registry", "atomic", "clip", "quiet", "provenance", "dotted"),  # generic helpers; the clip contract; code fingerprint; dotted keys
    ("modalities",),                    # gray / flow / log-mel from decoded frames and audio
    ("models",),                        # networks and their input configs
    ("tasks", "data"),                  # SSL losses and heads; decoding, datasets, sample builders
    ("hub",),                           # files: safetensors + config.json, the Hub, cards, transforms
    ("factory",),                       # the one place a string becomes an encoder
    ("eval",),                          # features, few-shot, probes
    ("evolution",),                     # genome, search, fitness (a candidate's trainer is passed in)
    ("lightning",),                     # LightningModules, DataModules, the default candidate trainer
    ("bench",),                         # benchmarks (project commands, not tests)
    ("commands",),                      # the subcommands: add_arguments(parser), run(args)
    ("cli",),                           # `evovideo`: dispatches to LightningCLI and the commands
    ("__main__",),
]
LIGHTNING_ALLOWED = {"lightning", "commands", "cli", "__main__", "bench"}
LIGHTNING_MODULES = {"lightning", "pytorch_lightning", "lightning_fabric"}

ROOT = Path(evovideo.__file__).resolve().parent
LAYER = {unit: i for i, units in enumerate(LAYERS) for unit in units}


def unit_of(path: Path) -> str:
    """The subpackage (or top-level module) a file belongs to; '' for the package root."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return "" if parts == ("__init__",) else parts[0]


def imports() -> list[tuple[str, str, str]]:
    """(importing unit, imported module, where) for every absolute import in the package."""
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
                if node.module == "evovideo":  # from evovideo import models, __version__
                    names = [f"evovideo.{a.name}" for a in node.names]
            else:
                continue
            where = f"{path.relative_to(ROOT.parent)}:{node.lineno}"
            found += [(unit_of(path), name, where) for name in names]
    return found


def unit_edges() -> dict[tuple[str, str], list[str]]:
    edges: dict[tuple[str, str], list[str]] = {}
    for unit, name, where in imports():
        parts = name.split(".")
        if parts[0] != "evovideo" or len(parts) < 2 or not unit:
            continue
        target = parts[1]
        if target != unit and target in LAYER:  # evovideo.__version__ and the like: the root, left out
            edges.setdefault((unit, target), []).append(where)
    return edges


def test_every_unit_has_a_layer() -> None:
    units = {unit_of(p) for p in ROOT.rglob("*.py")} - {""}
    assert units <= set(LAYER), f"add {sorted(units - set(LAYER))} to LAYERS in {__file__}"


def test_no_import_goes_up_or_around() -> None:
    """An import to the same or a higher layer is a circle waiting to happen (models -> hub -> models,
    lightning <-> evolution, commands <-> cli were three)."""
    bad = [f"{src} -> {dst} ({', '.join(where[:3])})" for (src, dst), where in sorted(unit_edges().items())
           if LAYER[dst] >= LAYER[src]]
    assert not bad, "imports against the layering:\n" + "\n".join(bad)


def test_no_cycle_between_subpackages() -> None:
    graph: dict[str, set[str]] = {}
    for src, dst in unit_edges():
        graph.setdefault(src, set()).add(dst)
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join(path[path.index(nxt):] + [nxt]) if nxt in path else f"{node} -> {nxt}")
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, "import cycles between subpackages: " + "; ".join(cycles)


def test_lightning_is_imported_only_at_the_top() -> None:
    bad = [f"{where} imports {name}" for unit, name, where in imports()
           if (name.split(".")[0] in LIGHTNING_MODULES or name.startswith("evovideo.lightning"))
           and unit not in LIGHTNING_ALLOWED]
    assert not bad, "nothing below evovideo/lightning imports Lightning (or evovideo.lightning):\n" + "\n".join(bad)
