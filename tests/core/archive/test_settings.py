"""The [archive] table: path, enabled, seed and finality, with environment overrides."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from asof.archive import Archive, archive_settings, default_archive_path, open_archive
from asof.config import load_config
from asof.errors import ArchiveError, ConfigError, InputError

from .helpers import at, balance_query, change, clock, covered, lines_of


def config_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "conf" / "asof.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


def test_default_path_is_in_the_data_dir(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data")}
    settings = archive_settings(load_config(None, env=env))
    assert settings.enabled
    assert settings.path == str(tmp_path / "data" / "asof" / "archive.sqlite")
    assert default_archive_path(env) == tmp_path / "data" / "asof" / "archive.sqlite"


def test_relative_paths_are_read_from_the_config_folder(tmp_path: Path) -> None:
    path = config_file(tmp_path, '[archive]\npath = "store/a.sqlite"\nseed = ["s.jsonl"]\n'
                                 '[archive.finality]\nsolana = 5\n')
    settings = archive_settings(load_config(path, env={"HOME": str(tmp_path)}))
    assert settings.path == str(tmp_path / "conf" / "store" / "a.sqlite")
    assert settings.seed == (tmp_path / "conf" / "s.jsonl",)
    assert settings.finality.horizon("solana") == timedelta(seconds=5)


def test_environment_overrides(tmp_path: Path) -> None:
    path = config_file(tmp_path, '[archive]\npath = "x.sqlite"\n')
    env = {"HOME": str(tmp_path), "ASOF_ARCHIVE_PATH": str(tmp_path / "env.sqlite"),
           "ASOF_ARCHIVE_ENABLED": "no"}
    settings = archive_settings(load_config(path, env=env))
    assert settings.path == str(tmp_path / "env.sqlite")
    assert not settings.enabled
    assert open_archive(load_config(path, env=env)) is None


@pytest.mark.parametrize(("text", "message"), [
    ("[archive]\ncolour = 1\n", "unknown key"),
    ("[archive]\nenabled = 'yes'\n", "enabled"),
    ("[archive]\npath = 5\n", "path"),
    ("[archive]\nseed = [1]\n", "seed"),
    ("[archive]\nfinality = 5\n", "finality"),
    ("[archive.finality]\nmoon = 5\n", "unknown chain"),
])
def test_mistakes_are_config_errors(tmp_path: Path, text: str, message: str) -> None:
    path = config_file(tmp_path, text)
    with pytest.raises(ConfigError, match=message):
        archive_settings(load_config(path, env={"HOME": str(tmp_path)}))


def test_open_archive_seeds_a_memory_archive(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "seed.jsonl").write_text(lines_of(
        covered(at(1), at(31)), change(at(3), 10)))
    path = config_file(tmp_path, '[archive]\npath = ":memory:"\nseed = ["seed.jsonl"]\n')
    archive = open_archive(load_config(path, env={"HOME": str(tmp_path)}), clock=clock())
    assert isinstance(archive, Archive)
    with archive:
        found = archive.lookup_balance(balance_query(at(4)))
        assert found is not None
        assert found.amount.raw == 10
    assert sorted(p.name for p in (tmp_path / "conf").iterdir()) == ["asof.toml", "seed.jsonl"]


def test_a_missing_seed_is_an_error(tmp_path: Path) -> None:
    path = config_file(tmp_path, '[archive]\npath = ":memory:"\nseed = ["nothing.jsonl"]\n')
    with pytest.raises(InputError, match="seed file not found"):
        open_archive(load_config(path, env={"HOME": str(tmp_path)}))


def test_an_unusable_default_path_runs_without_archive(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the data folder should be")
    env = {"HOME": str(tmp_path), "XDG_DATA_HOME": str(blocker)}
    with caplog.at_level("WARNING", logger="asof.archive"):
        assert open_archive(load_config(None, env=env)) is None
    assert "running without an archive" in caplog.text


def test_an_unusable_configured_path_is_an_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    path = config_file(tmp_path, f'[archive]\npath = "{blocker}/a.sqlite"\n')
    with pytest.raises(ArchiveError):
        open_archive(load_config(path, env={"HOME": str(tmp_path)}))
