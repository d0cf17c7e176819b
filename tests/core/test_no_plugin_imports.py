"""The core imports nothing from any plugin (DESIGN.md): removing a plugin's
distribution removes that provider and nothing else."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import asof

CORE = Path(asof.__file__).parent
ROOT = CORE.parents[2]
PLUGIN_MODULES = sorted(p.name for p in (ROOT / "plugins").glob("*/src/asof_*"))


def _imported(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


def test_the_plugins_are_where_this_test_looks() -> None:
    assert {"asof_allium", "asof_helius", "asof_pacifica"} <= set(PLUGIN_MODULES)


def test_no_core_module_names_a_plugin_module() -> None:
    offending = {
        str(path.relative_to(CORE)): sorted(name for name in _imported(path)
                                            if name.startswith("asof_"))
        for path in sorted(CORE.rglob("*.py"))
    }
    assert {k: v for k, v in offending.items() if v} == {}


def test_importing_every_core_module_loads_no_plugin() -> None:
    modules = []
    for path in sorted(CORE.rglob("*.py")):
        parts = path.relative_to(CORE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules.append(".".join(("asof", *parts)))
    script = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name.rstrip('.'))\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('asof_'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True)
    assert json.loads(done.stdout.splitlines()[-1]) == []
