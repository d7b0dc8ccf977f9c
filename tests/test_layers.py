"""The layers, checked: core never imports Qt, the window never touches onnxruntime, the app never needs torch.

Read from the source (every import statement, wherever it sits in a module) and confirmed by
importing: the core and the command line load without Qt, as napari checks its own layers.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app"
# package folder -> top-level modules its code must never import
FORBIDDEN = {
    "core": {"PySide6", "shiboken6", "torch", "transformers", "optimum"},
    "gui": {"onnxruntime", "torch", "transformers", "optimum"},
    "evaluation": {"PySide6", "shiboken6", "torch"},
}
EVERYWHERE_BUT_TRAINING = {"torch", "transformers", "optimum"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_each_layer_imports_only_what_it_may():
    broken = []
    for path in sorted(APP.rglob("*.py")):
        layer = path.relative_to(APP).parts[0] if len(path.relative_to(APP).parts) > 1 else ""
        forbidden = FORBIDDEN.get(layer, EVERYWHERE_BUT_TRAINING if layer != "training" else set())
        for name in sorted(imported_modules(path) & forbidden):
            broken.append(f"{path.relative_to(APP)} imports {name}")
    assert broken == []


def test_the_checker_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from PySide6.QtCore import QObject\n    import onnxruntime as ort\n")
    assert imported_modules(module) == {"PySide6", "onnxruntime"}


def test_the_core_and_the_command_line_load_without_qt():
    code = (
        "import sys, reading_assistant.cli, reading_assistant.core.engine, reading_assistant.evaluation.bench; "
        "print(sorted(m for m in ('PySide6', 'torch', 'transformers') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
