"""Every ``torch.load`` of the project and its tests refuses pickled code."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_every_torch_load_in_the_project_sets_weights_only() -> None:
    unsafe = []
    for path in sorted([*REPO.glob("tests/**/*.py"), *REPO.glob("specnb/**/*.py")]):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "load"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "torch"
            ):
                flags = {k.arg: k.value for k in node.keywords}
                value = flags.get("weights_only")
                if not (isinstance(value, ast.Constant) and value.value is True):
                    unsafe.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert unsafe == []
