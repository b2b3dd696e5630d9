"""Log files: one rotating file in the log folder, never growing past its size."""

import logging

import pytest

from modstudio import logs


@pytest.fixture(autouse=True)
def _detach():
    yield
    logs.stop_logging()


def test_logs_go_to_the_log_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("MODSTUDIO_LOG_DIR", str(tmp_path / "logs"))
    path = logs.setup_logging()
    assert path == tmp_path / "logs" / "modstudio.log" == logs.log_file()
    logging.getLogger("modstudio.something").warning("hello from a module")
    logging.getLogger("elsewhere").warning("not ours")
    text = path.read_text("utf-8")
    assert "hello from a module" in text and "ModStudio" in text and "not ours" not in text
    assert logs.recent_lines(1) == [text.splitlines()[-1]]


def test_logs_rotate_at_the_size_limit(tmp_path):
    path = logs.setup_logging(tmp_path, max_bytes=2_000, backup_count=2)
    log = logging.getLogger("modstudio.test")
    for i in range(200):
        log.info("line %03d %s", i, "x" * 40)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["modstudio.log", "modstudio.log.1", "modstudio.log.2"]
    assert all((tmp_path / f).stat().st_size <= 2_000 for f in files)
    assert "line 199" in path.read_text("utf-8")  # the newest is in the current file


def test_setup_again_replaces_the_handler(tmp_path):
    logs.setup_logging(tmp_path / "a")
    logs.setup_logging(tmp_path / "b")
    ours = [h for h in logging.getLogger("modstudio").handlers if isinstance(h, logging.FileHandler)]
    assert len(ours) == 1 and ours[0].baseFilename == str(tmp_path / "b" / "modstudio.log")


def test_an_unwritable_folder_disables_logging_instead_of_failing(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert logs.setup_logging(blocker / "logs") is None
    assert "logging disabled" in capsys.readouterr().err


def test_level_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("MODSTUDIO_LOG_LEVEL", "debug")
    logs.setup_logging(tmp_path)
    assert logging.getLogger("modstudio").level == logging.DEBUG
