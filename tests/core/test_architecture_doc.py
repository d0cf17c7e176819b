"""docs/architecture.md stays current: it names every module of the core and every
first-party plugin and contrib distribution, and its module tables name only modules
that exist."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"
PACKAGE = ROOT / "core" / "src" / "asof"
# The first cell of a row in a module table: | `archive/store` | ...
TABLE_ROW = re.compile(r"^\| `(?P<name>[\w/]+)` \|", re.MULTILINE)


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def core_modules() -> set[str]:
    """Every module under core/src/asof as the page names it: ``records``,
    ``archive/store``, ``cli/state`` (``__init__`` and ``__main__`` left out)."""
    return {
        path.relative_to(PACKAGE).with_suffix("").as_posix()
        for path in PACKAGE.rglob("*.py")
        if path.name not in {"__init__.py", "__main__.py"}
    }


def distributions() -> set[str]:
    """The name of every distribution under plugins/ and contrib/."""
    names = set()
    for project in [*ROOT.glob("plugins/*/pyproject.toml"), *ROOT.glob("contrib/*/pyproject.toml")]:
        names.add(tomllib.loads(project.read_text(encoding="utf-8"))["project"]["name"])
    return names


def test_the_scan_finds_the_tree() -> None:
    modules = core_modules()
    assert {"records", "archive/store", "cli/app", "portfolio/answer"} <= modules
    assert {"asof-helius", "asof-etherscan"} <= distributions()


def test_every_core_module_is_named() -> None:
    text = doc_text()
    missing = sorted(name for name in core_modules() if f"`{name}`" not in text)
    assert not missing, f"docs/architecture.md does not name: {missing}"


def test_every_distribution_is_named() -> None:
    text = doc_text()
    missing = sorted(name for name in distributions() if f"`{name}`" not in text)
    assert not missing, f"docs/architecture.md does not name: {missing}"


def test_module_tables_name_only_existing_modules() -> None:
    known = core_modules() | {"__init__", "__main__"}
    rows = {m["name"] for m in TABLE_ROW.finditer(doc_text())}
    module_rows = {name for name in rows if not name.startswith("asof-")}
    assert module_rows, "no module table found"
    stale = sorted(module_rows - known)
    assert not stale, f"docs/architecture.md names modules that do not exist: {stale}"
