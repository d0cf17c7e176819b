"""asof's pytest plugin changes another project's cassette layout only when it opts in.

Each case runs pytest in a child process on a throwaway project that uses
pytest-recording, with asof installed (as it is here), and reads which cassette
directory and name the fixtures gave.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

TEST = '''
def test_mine(vcr_cassette_dir, default_cassette_name):
    print("DIR=" + vcr_cassette_dir)
    print("NAME=" + default_cassette_name)
'''


def _run(project: Path, ini: str) -> dict[str, str]:
    (project / "tests").mkdir(parents=True)
    (project / "tests" / "test_mine.py").write_text(TEST)
    (project / "pytest.ini").write_text("[pytest]\n" + ini)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "tests"],
        cwd=project, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line
                 and line.split("=", 1)[0] in ("DIR", "NAME"))


@pytest.mark.integration
def test_another_project_keeps_pytest_recordings_layout(tmp_path: Path) -> None:
    found = _run(tmp_path / "other", "")
    assert Path(found["DIR"]) == tmp_path / "other" / "tests" / "cassettes" / "test_mine"
    assert found["NAME"] == "test_mine"


@pytest.mark.integration
def test_an_asof_plugin_project_opts_in(tmp_path: Path) -> None:
    found = _run(tmp_path / "plugin", "asof_cassettes = true\n")
    assert Path(found["DIR"]) == tmp_path / "plugin" / "cassettes" / "tests"
