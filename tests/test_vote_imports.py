"""The vote server's modules import in one direction: ``app`` at the top, nothing back.

issue 10: blueprints once imported ``get_store`` back from ``voteserver.app`` and worked only
because those imports were deferred. They read the app through ``voteserver.extensions``
now. The graph is read from the source with ``ast`` (imports inside functions included), and
every module must import first, in an interpreter where none of the others is loaded yet.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from cyoa import voteserver

PACKAGE = "cyoa.voteserver"
SOURCE = Path(voteserver.__file__).resolve().parent
MODULES = sorted(path.stem for path in SOURCE.glob("*.py") if path.stem != "__init__")
# Above the factory: `cyoa serve`, which builds the app.
ABOVE_APP = {"serve"}


def imported_modules(path: Path) -> set[str]:
    """The voteserver modules ``path`` imports anywhere in it, deferred imports included."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if name.startswith(PACKAGE + "."):
                module = name.removeprefix(PACKAGE + ".").split(".")[0]
                if module in MODULES:
                    found.add(module)
    return found


def import_graph() -> dict[str, set[str]]:
    return {module: imported_modules(SOURCE / f"{module}.py") for module in MODULES}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path (first module repeated at the end), or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = "open"
        stack.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                return [*stack[stack.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[module] = "done"
        return None

    for module in sorted(graph):
        if module not in state and (cycle := visit(module)):
            return cycle
    return None


def test_the_graph_reader_sees_deferred_imports(tmp_path):
    """The reader itself: an import inside a function counts, as the issue asks."""
    source = tmp_path / "m.py"
    source.write_text(
        "from cyoa.voteserver import keys\n"
        "def late():\n    from cyoa.voteserver.app import create_app\n"
        "    import cyoa.voteserver.store\n"
    )
    assert imported_modules(source) == {"keys", "app", "store"}
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_voteserver_module_imports_the_app_back():
    graph = import_graph()
    importers = {module for module, targets in graph.items() if "app" in targets}
    assert importers - ABOVE_APP == set(), f"these import voteserver.app: {importers}"


def test_a_leaf_module_loads_without_the_app():
    """The package's ``__init__`` imports nothing back: parsing an SMS needs no Flask app."""
    assert imported_modules(SOURCE / "__init__.py") == set()
    loaded = subprocess.run(
        [sys.executable, "-c", f"import sys, {PACKAGE}.sms_parse; print(sorted(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"'{PACKAGE}.sms_parse'" in loaded
    assert f"'{PACKAGE}.app'" not in loaded and "'flask'" not in loaded


def test_voteserver_imports_have_no_cycle():
    assert find_cycle(import_graph()) is None


def test_app_imports_its_blueprints_at_the_top():
    """Nothing deferred in the factory: the blueprints are imported when the module is."""
    tree = ast.parse((SOURCE / "app.py").read_text())
    top = {node.module for node in tree.body if isinstance(node, ast.ImportFrom)}
    nested = [
        node
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef)
        for node in ast.walk(function)
        if isinstance(node, ast.Import | ast.ImportFrom)
    ]
    assert PACKAGE in top and f"{PACKAGE}.extensions" in top
    assert nested == []


IMPORT_EACH_FIRST = f"""
import importlib, sys
modules = sys.argv[1:]
for first in modules:
    for name in [n for n in sys.modules if n == "{PACKAGE}" or n.startswith("{PACKAGE}.")]:
        del sys.modules[name]  # as in a fresh interpreter, for the vote server's own code
    order = [first] + [m for m in reversed(modules) if m != first]
    for module in order:
        importlib.import_module("{PACKAGE}." + module)
    print("ok", first)
"""


@pytest.mark.parametrize("order", ["sorted", "reversed"])
def test_each_module_imports_first_in_a_fresh_interpreter(order):
    """Each module first, then all the others: no import order can hit a half-built module."""
    modules = MODULES if order == "sorted" else MODULES[::-1]
    done = subprocess.run(
        [sys.executable, "-W", "error::ImportWarning", "-c", IMPORT_EACH_FIRST, *modules],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == [word for m in modules for word in ("ok", m)]
