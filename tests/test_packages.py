"""The package convention: private `_module.py` files, re-exported by a short public `__init__`.

Outside code imports a package's names from the package itself, so a package can move its
insides without touching its callers. The layering itself is import-linter's contract
(pyproject.toml, run by scripts/test).
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVICE = ROOT / "service"
# The packages whose modules are all private, reached only through `__init__`.
PRIVATE_MODULE_PACKAGES = ["fhir", "questionnaire", "queue", "summary", "triage", "webhooks"]
# Still public modules: `intake` is being reshaped into one object per action (issue 16);
# `staff` and `web` keep theirs for now. Their `__init__`s follow the same `__all__` rule.
PACKAGES = [*PRIVATE_MODULE_PACKAGES, "intake", "staff"]
# Unit tests of a module's own internals, which no caller should need.
INTERNALS_UNDER_TEST = {
    ("tests/domain/test_conditions.py", "service.triage._conditions"),
    ("tests/domain/test_conditions.py", "service.triage._ruleset"),
    ("tests/domain/test_advice.py", "service.triage._advice"),
    ("tests/domain/test_fhir.py", "service.questionnaire._fhir"),
    ("tests/summary/test_no_fetching.py", "service.summary._pdf"),
}


def _bound_names(init: Path) -> set[str]:
    """The public names an `__init__` binds itself: what it imports and assigns."""
    names: set[str] = set()
    body = ast.parse(init.read_text(encoding="utf-8")).body
    # Names imported under `if typing.TYPE_CHECKING:` are bound by the package's `__getattr__` when
    # first used (service.summary's WeasyPrint names); the test below gets each of them.
    lazy = [
        node
        for block in body
        if isinstance(block, ast.If) and ast.unparse(block.test) == "typing.TYPE_CHECKING"
        for node in block.body
    ]
    for node in [*body, *lazy]:
        if isinstance(node, ast.ImportFrom):
            names.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {name for name in names if not name.startswith("_")}


@pytest.mark.parametrize("package", PACKAGES)
def test_a_package_lists_exactly_the_names_it_exports(package: str) -> None:
    module = importlib.import_module(f"service.{package}")
    exported = module.__all__
    assert len(exported) == len(set(exported)), f"service.{package}.__all__ repeats a name"
    assert set(exported) == _bound_names(SERVICE / package / "__init__.py")
    for name in exported:
        assert getattr(module, name) is not None, f"service.{package}.{name}"


@pytest.mark.parametrize("package", PRIVATE_MODULE_PACKAGES)
def test_a_package_keeps_its_modules_private(package: str) -> None:
    public = [
        path.name
        for path in (SERVICE / package).iterdir()
        if path.suffix == ".py" and not path.name.startswith("_")
    ]
    assert public == [], f"service/{package}: name these _module.py and re-export them"


def _private_imports(path: Path) -> list[str]:
    """The `service.<package>._<module>` modules a file imports from outside that package."""
    relative = path.relative_to(ROOT)
    own = ".".join(relative.with_suffix("").parts[:2]) if relative.parts[0] == "service" else ""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules = [node.module]
        elif isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        else:
            continue
        for module in modules:
            parts = module.split(".")
            private = len(parts) > 2 and parts[0] == "service" and parts[2].startswith("_")
            if private and ".".join(parts[:2]) != own:
                found.append(module)
    return found


def test_outside_code_imports_a_package_not_its_private_modules() -> None:
    found = {
        (path.relative_to(ROOT).as_posix(), module)
        for folder in (SERVICE, ROOT / "tests", ROOT / "bench", ROOT / "migrations")
        for path in folder.rglob("*.py")
        for module in _private_imports(path)
    }
    assert found - INTERNALS_UNDER_TEST == set()
    # A test of internals that no longer reaches them leaves the list.
    assert found >= INTERNALS_UNDER_TEST


def test_importing_the_models_loads_neither_rule_engine_nor_the_layers_above() -> None:
    # The models need only the stored codes: not the two CEL engines (cel-python is `celpy`,
    # common-expression-language is `cel`), and no package that itself imports the models.
    script = (
        "import sys, service.models\n"
        "print(' '.join(sorted(name for name in sys.modules if name.split('.')[0] in "
        "{'cel', 'celpy'} or name.split('.')[:2] in (['service', 'triage'], "
        "['service', 'queue'], ['service', 'webhooks'], ['service', 'questionnaire']))))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.split()
    assert loaded == []
