"""The structure holds: imports go one way between the rooms with no cycle inside any (import-linter's
contracts in pyproject.toml), and no project module imports another from inside a function, where a
check of module-level imports would not see a cycle."""
import ast
import importlib
import subprocess
import sys
from pathlib import Path

from api.cli.main import COMMANDS, build_parser

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("agent", "api", "evals", "tools", "memory", "migrations")


def test_import_contracts_are_kept():
    linter = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(linter), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "broken" not in result.stdout.split("Contracts:")[-1].replace("0 broken", "")


def _function_level_project_imports(path: Path, base: Path = ROOT) -> list[str]:
    found = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for func in ast.walk(tree):
        if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(func):
            names = ([node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0
                     else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            found += [f"{path.relative_to(base)}:{node.lineno} imports {n}" for n in names
                      if n.split(".")[0] in PACKAGES]
    return found


def test_no_project_import_hides_inside_a_function():
    offenders = [hit for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))
                 for hit in _function_level_project_imports(path)]
    assert offenders == []


def test_the_check_sees_an_import_inside_a_function(tmp_path):
    sample = tmp_path / "probe.py"
    sample.write_text("import os\n\ndef f():\n    import torch\n    from agent import nodes\n    return nodes\n")
    assert _function_level_project_imports(sample, tmp_path) == ["probe.py:5 imports agent"]


def test_every_command_names_a_function_of_its_module():
    """The CLI imports a command's module by name when it runs; a typo there would surface only then."""
    for target in COMMANDS.values():
        module, name = target.split(":")
        assert callable(getattr(importlib.import_module(f"api.cli.{module}"), name)), target
    actions = build_parser()._subparsers._group_actions[0].choices
    assert {c for c, _ in COMMANDS} == set(actions)
