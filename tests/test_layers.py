"""The layers, checked: which of the project's own packages may import which, and what they may import
from outside (core never imports Qt, the window never touches onnxruntime, the app never needs torch).

Read from the source (every import statement, wherever it sits in a module, inside a function or
under ``TYPE_CHECKING`` too) and confirmed by importing: the core and the command line load without
Qt, and the window without evaluation or training, as napari checks its own layers.

Inside ``app/`` modules name their neighbours by position (relative imports), so the folders are
the architecture: core at the bottom; evaluation, then training, above it; the window, the API, the
server and the command line at the top, with no arrow back down-to-up and no circle.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app"
INSTALLED_AS = "reading_assistant"
# Each part of the app (a package, or a module at the top) and the parts it may import. The
# package's own __init__ (its version, nothing else) is below them all.
MAY_IMPORT = {
    "core": {"core"},
    "evaluation": {"core", "evaluation"},
    "training": {"core", "evaluation", "training"},
    "gui": {"core", "gui"},
    "api": {"core"},
    "server": {"core", "api"},
    "cli_output": {"core"},
    "cli": {"core", "evaluation", "training", "gui", "api", "server", "cli_output"},
    "__main__": {"cli"},
}
# part -> top-level modules from outside the project its code must never import
FORBIDDEN = {
    "core": {"PySide6", "shiboken6", "torch", "transformers", "optimum"},
    "gui": {"onnxruntime", "torch", "transformers", "optimum"},
    "evaluation": {"PySide6", "shiboken6", "torch"},
}
EVERYWHERE_BUT_TRAINING = {"torch", "transformers", "optimum"}


def module_name(path: Path) -> str:
    """'core.engine' for app/core/engine.py, 'core.documents' for its __init__, '' for the package's."""
    parts = list(path.relative_to(APP).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def part_of(module: str) -> str:
    return module.split(".")[0]


def project_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(APP.rglob("*.py"))}


def imports_of(path: Path) -> tuple[set[str], set[str]]:
    """(the project's modules ``path`` imports by position, the outside modules it imports by name)."""
    modules = project_modules()
    package = list(path.relative_to(APP).parts[:-1])
    tree = ast.parse(path.read_text(encoding="utf-8"))
    own, outside = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            outside |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            outside.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            target = package[: len(package) - node.level + 1] + (node.module.split(".") if node.module else [])
            for alias in node.names:  # "from . import server" names a module, "from .x import y" a name in x
                submodule = ".".join([*target, alias.name])
                own.add(submodule if submodule in modules else ".".join(target))
    return own, outside


def import_graph() -> dict[str, set[str]]:
    return {name: imports_of(path)[0] - {name} for name, path in project_modules().items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while not group or group[-1] != node:
                group.append(stack.pop())
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_inside_the_app_every_import_of_its_own_is_relative():
    absolute = [
        f"{path.relative_to(APP)} imports {name}"
        for path in project_modules().values()
        for name in sorted(imports_of(path)[1])
        if name == INSTALLED_AS
    ]
    assert absolute == []


def test_each_part_imports_only_the_parts_below_it():
    broken = []
    for name, targets in import_graph().items():
        part = part_of(name)
        for target in sorted(targets):
            if target and part_of(target) != part and part_of(target) not in MAY_IMPORT.get(part, set()):
                broken.append(f"{name} imports {target}")
    assert broken == []
    assert {part_of(name) for name in project_modules() if name} == set(MAY_IMPORT)


def test_no_module_imports_itself_back_through_others():
    assert circles(import_graph()) == []


def test_each_part_imports_only_the_outside_modules_it_may():
    broken = []
    for name, path in project_modules().items():
        part = part_of(name)
        forbidden = FORBIDDEN.get(part, EVERYWHERE_BUT_TRAINING if part != "training" else set())
        for outside in sorted(imports_of(path)[1] & forbidden):
            broken.append(f"{path.relative_to(APP)} imports {outside}")
    assert broken == []


def test_the_checker_sees_every_kind_of_import(tmp_path, monkeypatch):
    package = tmp_path / "app"
    (package / "gui").mkdir(parents=True)
    (package / "core").mkdir()
    for name in ("__init__.py", "api.py", "gui/__init__.py", "core/__init__.py", "core/engine.py"):
        (package / name).write_text("")
    module = package / "gui" / "m.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "from .. import api\n"
        "if TYPE_CHECKING:\n    from ..core.engine import QAEngine\n"
        "def f():\n    from PySide6.QtCore import QObject\n    import onnxruntime as ort\n"
    )
    monkeypatch.setattr(sys.modules[__name__], "APP", package)
    assert imports_of(module) == ({"api", "core.engine"}, {"typing", "PySide6", "onnxruntime"})
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_core_and_the_command_line_load_without_qt_and_the_window_without_evaluation():
    code = (
        f"import sys, {INSTALLED_AS}.cli, {INSTALLED_AS}.core.engine, {INSTALLED_AS}.evaluation.bench; "
        "print(sorted(m for m in ('PySide6', 'torch', 'transformers') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
    # What `reading-assistant` imports to open the window: its parser, then the window itself.
    code = (
        f"import sys; from {INSTALLED_AS} import cli; cli.window_parser().parse_args([]); "
        f"import {INSTALLED_AS}.gui.main; "
        f"print(sorted(m for m in sys.modules if m.startswith(('{INSTALLED_AS}.evaluation', "
        f"'{INSTALLED_AS}.training', 'torch', 'optimum'))))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
