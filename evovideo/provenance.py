"""Which code produced a result: a fingerprint of the installed evovideo package's behaviour.

    code_fingerprint()        # '3f9c0a1b2d4e': the same for two checkouts of the same code

A hash of every module's syntax tree with docstrings removed (comments are not in the tree), so
a documentation edit keeps the fingerprint and any change to what the code does moves it.  A
benchmark records it per run: runs of one arm made by different code (a decoder changed between
two parts of a benchmark) are then flagged instead of averaged as one arm.
"""
from __future__ import annotations

import ast
import functools
import hashlib
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def _without_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return tree


@functools.lru_cache(maxsize=None)
def code_fingerprint(root: Path = PACKAGE) -> str:
    """12 hex digits over ``root``'s ``*.py`` files (paths and docstring-free syntax trees)."""
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode())
        h.update(ast.dump(_without_docstrings(ast.parse(path.read_text(), str(path)))).encode())
    return h.hexdigest()[:12]


__all__ = ["code_fingerprint"]
