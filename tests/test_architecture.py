"""The layering the package relies on, read from the source of every module (no import needed).

- Only ``et_denoise.gui`` imports Qt (PySide6, shiboken6, pyqtgraph, superqt).
- ``et_denoise.engine`` imports neither ``et_denoise.gui`` nor ``et_denoise.cli``.
- ``et_denoise.cli`` reaches the GUI only inside a function (opening the app), so the
  command line starts without Qt; it never imports Qt itself.
- TensorFlow and the libraries built on it are imported only inside functions of
  ``et_denoise.engine.n2v``, which runs them on its one network thread.
- Dask and distributed are imported only inside functions (a volume denoised in slabs),
  so neither the window nor the command line pays for them at start.

``tests/test_engine_boundary.py`` checks the same boundary at run time.
"""

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "et_denoise"
QT = ("PySide6", "shiboken6", "pyqtgraph", "superqt")
TENSORFLOW = ("tensorflow", "keras", "n2v", "csbdeep", "bioimageio")
DASK = ("dask", "distributed")


@dataclass(frozen=True)
class Import:
    module: str      # the importing module, e.g. "et_denoise.engine.jobs"
    target: str      # what it imports, absolute, e.g. "numpy" or "et_denoise.gui.model"
    line: int
    top_level: bool  # outside every function (runs when the module is imported)

    def __str__(self) -> str:
        return f"{self.module}:{self.line} imports {self.target}"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports_of(path: Path) -> list[Import]:
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                found.extend(Import(module, alias.name, child.lineno, not in_function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[:len(package.split(".")) - child.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                found.append(Import(module, base, child.lineno, not in_function))
            visit(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

    visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)), False)
    return found


IMPORTS = [item for path in sorted(PACKAGE.rglob("*.py")) for item in _imports_of(path)]


def _is(target: str, names) -> bool:
    return any(target == name or target.startswith(name + ".") for name in names)


def _in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_the_source_tree_is_read():
    modules = {item.module for item in IMPORTS}
    assert {"et_denoise.engine.jobs", "et_denoise.gui.model", "et_denoise.cli"} <= modules
    assert any(item.target == "PySide6.QtCore" for item in IMPORTS)


def test_only_the_gui_imports_qt():
    offenders = [str(item) for item in IMPORTS if _is(item.target, QT) and not _in(item.module, "et_denoise.gui")]
    assert offenders == []


def test_the_engine_imports_neither_the_gui_nor_the_command_line():
    offenders = [str(item) for item in IMPORTS if _in(item.module, "et_denoise.engine")
                 and _is(item.target, ("et_denoise.gui", "et_denoise.cli"))]
    assert offenders == []


def test_the_command_line_opens_the_gui_only_from_inside_a_function():
    offenders = [str(item) for item in IMPORTS if _in(item.module, "et_denoise.cli")
                 and _is(item.target, ("et_denoise.gui",)) and item.top_level]
    assert offenders == []


def test_tensorflow_is_imported_lazily_and_only_by_the_n2v_engine():
    offenders = [str(item) for item in IMPORTS if _is(item.target, TENSORFLOW)
                 and (item.top_level or not _in(item.module, "et_denoise.engine.n2v"))]
    assert offenders == []


def test_dask_is_imported_only_inside_functions():
    offenders = [str(item) for item in IMPORTS if _is(item.target, DASK) and item.top_level]
    assert offenders == []


@pytest.mark.parametrize("source, expected", [
    ("import PySide6.QtCore\n", [("PySide6.QtCore", True)]),
    ("def f():\n    from pyqtgraph import ImageItem\n", [("pyqtgraph", False)]),
    ("from . import jobs\nfrom ..gui import model\n", [("et_denoise.engine", True), ("et_denoise.gui", True)]),
])
def test_the_reader_sees_top_level_lazy_and_relative_imports(tmp_path, monkeypatch, source, expected):
    package = tmp_path / "et_denoise"
    (package / "engine").mkdir(parents=True)
    path = package / "engine" / "probe.py"
    path.write_text(source)
    monkeypatch.setattr(f"{__name__}.PACKAGE", package)
    assert [(item.target, item.top_level) for item in _imports_of(path)] == expected
