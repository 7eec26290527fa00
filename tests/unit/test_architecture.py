"""The shape of the code, checked on every run: the import rules in ``.importlinter`` (the
layers, and no cycles) and the size limits — modules at most 300 lines, functions at most 40,
outside tests."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "handlers", "storage")
MAX_MODULE_LINES, MAX_FUNCTION_LINES = 300, 40


def test_the_import_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--config", ".importlinter", "--no-cache"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "BROKEN" not in done.stdout and "KEPT" in done.stdout


def sources() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def test_no_module_is_over_300_lines() -> None:
    long = {str(p.relative_to(ROOT)): n for p in sources()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert long == {}


def test_no_function_is_over_40_lines() -> None:
    long = {}
    for path in sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"] = lines
    assert long == {}


def test_every_test_module_has_its_own_name() -> None:
    """The test folders are not packages: two test modules of one name break collection."""
    names = [path.name for path in Path(__file__).resolve().parents[1].rglob("test_*.py")]
    assert sorted(n for n in set(names) if names.count(n) > 1) == []


def test_readmes_layout_names_every_package() -> None:
    """README's layout block names each top-level package and each package of bot/."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("```\nbot/\n") + 4
    layout = readme[start:readme.index("```", start)]
    named = {line.split()[0].rstrip("/") for line in layout.splitlines()
             if line.strip() and not line.startswith("    ") and line.split()[0].endswith("/")}
    wanted = {*PACKAGES, *(p.name for p in (ROOT / "bot").iterdir() if (p / "__init__.py").is_file())}
    assert not wanted - named, f"README's layout does not name: {sorted(wanted - named)}"
