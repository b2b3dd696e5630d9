"""Per-user folders: each honours its environment variable, and defaults keep the names the
settings and recovery copies always used."""

from pathlib import Path

import appdirs
import pytest

from modstudio import user_dirs

ENVS = {"config": user_dirs.CONFIG_ENV, "data": user_dirs.DATA_ENV, "logs": user_dirs.LOG_ENV, "cache": user_dirs.CACHE_ENV}
FUNCS = {"config": user_dirs.config_dir, "data": user_dirs.data_dir, "logs": user_dirs.log_dir, "cache": user_dirs.cache_dir}


@pytest.mark.parametrize("name", list(ENVS))
def test_each_folder_honours_its_override(name, tmp_path, monkeypatch):
    for env in ENVS.values():
        monkeypatch.delenv(env, raising=False)
    target = tmp_path / name / "nested"
    monkeypatch.setenv(ENVS[name], str(target))
    assert FUNCS[name](create=False) == target and not target.exists()
    assert FUNCS[name](create=True) == target and target.is_dir()
    others = [FUNCS[n](create=False) for n in FUNCS if n != name]
    assert all(target != o for o in others)
    assert user_dirs.all_dirs()[name] == target


def test_overrides_expand_the_home_folder(monkeypatch):
    monkeypatch.setenv(user_dirs.CACHE_ENV, "~/somewhere")
    assert user_dirs.cache_dir(create=False) == Path.home() / "somewhere"


def test_defaults_are_the_appdirs_folders(monkeypatch):
    for env in ENVS.values():
        monkeypatch.delenv(env, raising=False)
    assert user_dirs.config_dir(create=False) == Path(appdirs.user_config_dir("modstudio", appauthor=False))
    assert user_dirs.data_dir() == Path(appdirs.user_data_dir("ModStudio"))
    assert user_dirs.log_dir(create=False) == Path(appdirs.user_log_dir("ModStudio"))
    assert user_dirs.cache_dir(create=False) == Path(appdirs.user_cache_dir("ModStudio"))


def test_settings_and_recovery_use_the_same_folders(tmp_path, monkeypatch):
    from modstudio.gui import settings
    from modstudio.project import recovery

    monkeypatch.setenv(user_dirs.CONFIG_ENV, str(tmp_path / "c"))
    monkeypatch.setenv(user_dirs.DATA_ENV, str(tmp_path / "d"))
    assert settings.config_dir() == tmp_path / "c" and (tmp_path / "c").is_dir()  # created, as before
    assert recovery.data_dir() == tmp_path / "d" and not (tmp_path / "d").exists()  # not created, as before
    assert recovery.recovery_dir() == tmp_path / "d" / "recovery"


def test_paths_and_logs_are_headless():
    from tests.test_layers import QT, import_with_blocked

    result = import_with_blocked(["modstudio.user_dirs", "modstudio.logs"], ["torch", *QT])
    assert result.returncode == 0, result.stderr
