"""The packaging recipe, checked statically (building the bundle takes minutes: packaging/build.sh).

The desktop entry, AppStream metadata and MIME type must be valid and agree with each other and
with the app id the studio announces; the PyInstaller spec must name files that exist; the icons
must be there at the sizes desktops look for.
"""

from __future__ import annotations

import ast
import configparser
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from modstudio import __version__

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
LINUX = PACKAGING / "linux"
APP_ID = "io.github.modstudio.ModStudio"
MIME = "application/x-modstudio"
MIME_NS = "{http://www.freedesktop.org/standards/shared-mime-info}"


def test_the_app_announces_the_same_id():
    from modstudio.gui.app import APP_ID as app_id

    assert app_id == APP_ID


def desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str  # keys are case-sensitive
    parser.read(LINUX / f"{APP_ID}.desktop", encoding="utf-8")
    return parser["Desktop Entry"]


def test_desktop_entry_keys():
    entry = desktop_entry()
    assert entry["Type"] == "Application" and entry["Name"] == "ModStudio"
    assert entry["Exec"].split()[0] == "modstudio" and re.search(r"%[fFuU]", entry["Exec"])
    assert entry["Icon"] == APP_ID
    assert entry["Terminal"] == "false"
    assert MIME in entry["MimeType"].split(";") and entry["MimeType"].endswith(";")
    assert entry["Categories"].endswith(";") and "Development" in entry["Categories"].split(";")
    assert all(not k.startswith(" ") and re.fullmatch(r"[A-Za-z0-9-]+(\[[^]]+\])?", k) for k in entry)


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils not installed")
def test_desktop_entry_validates():
    done = subprocess.run(["desktop-file-validate", str(LINUX / f"{APP_ID}.desktop")], capture_output=True, text=True)
    assert done.returncode == 0 and "error" not in done.stdout, done.stdout


def test_metainfo_names_the_app_and_its_file_type():
    root = ET.parse(LINUX / f"{APP_ID}.metainfo.xml").getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    assert root.findtext("launchable") == f"{APP_ID}.desktop"
    assert root.findtext("name") == "ModStudio" and root.findtext("summary")
    assert root.findtext("metadata_license") and root.findtext("project_license") == "MIT"
    assert root.find("provides/binary").text == "modstudio"
    assert root.find("provides/mediatype").text == MIME
    assert __version__ in [r.get("version") for r in root.iter("release")]
    assert root.find("description/p") is not None


@pytest.mark.skipif(shutil.which("appstreamcli") is None, reason="appstream not installed")
def test_metainfo_validates():
    done = subprocess.run(["appstreamcli", "validate", "--no-net", str(LINUX / f"{APP_ID}.metainfo.xml")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_mime_type_declares_modstudio_projects():
    root = ET.parse(LINUX / "modstudio-mime.xml").getroot()
    assert root.tag == f"{MIME_NS}mime-info"
    (mime,) = root.findall(f"{MIME_NS}mime-type")
    assert mime.get("type") == MIME
    assert [g.get("pattern") for g in mime.findall(f"{MIME_NS}glob")] == ["*.modstudio"]
    assert mime.find(f"{MIME_NS}sub-class-of").get("type") == "application/zip"
    assert mime.find(f"{MIME_NS}generic-icon").get("name") == "application-x-modstudio"


def test_mime_magic_matches_a_saved_project(tmp_path):
    """The magic rule says: a zip whose first member is project.json. Check the saver agrees."""
    from modstudio.project import Project

    root = ET.parse(LINUX / "modstudio-mime.xml").getroot()
    outer = root.find(f"{MIME_NS}mime-type/{MIME_NS}magic/{MIME_NS}match")
    inner = outer.find(f"{MIME_NS}match")
    path = tmp_path / "p.modstudio"
    Project.new("magic").save(path, backup=False)
    head = path.read_bytes()[:64]
    for match in (outer, inner):
        value = match.get("value").encode().decode("unicode_escape").encode("latin-1")
        offset = int(match.get("offset"))
        assert head[offset:offset + len(value)] == value, (match.get("value"), head)


def spec_tree() -> ast.Module:
    return ast.parse((PACKAGING / "modstudio.spec").read_text("utf-8"))


def test_spec_references_files_that_exist():
    text = (PACKAGING / "modstudio.spec").read_text("utf-8")
    compile(text, "modstudio.spec", "exec")
    bases = {"ROOT": ROOT, "PACKAGING": PACKAGING}
    referenced = []
    for node in ast.walk(spec_tree()):  # ROOT / "a" / "b" and PACKAGING / "x"
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            parts, cur = [], node
            while isinstance(cur, ast.BinOp) and isinstance(cur.right, ast.Constant):
                parts.insert(0, cur.right.value)
                cur = cur.left
            if isinstance(cur, ast.Name) and cur.id in bases and parts:
                referenced.append(bases[cur.id].joinpath(*parts))
    referenced = {p for p in referenced if not any(q != p and str(q).startswith(str(p) + "/") for q in referenced)}
    assert PACKAGING / "modstudio_launcher.py" in referenced and ROOT / "modstudio" / "resources" in referenced
    optional = {PACKAGING / "icons"}  # .ico/.icns are made on their platform by make_icons.py
    missing = [p for p in referenced if not p.exists() and p.parent not in optional]
    assert not missing, missing
    assert f'APP_ID = "{APP_ID}"' in text
    assert "collect_submodules(\"modstudio\")" in text  # lazy imports must be bundled
    compile((PACKAGING / "modstudio_launcher.py").read_text("utf-8"), "launcher", "exec")


def test_spec_bundles_the_resources_the_studio_reads():
    from modstudio.gui.resources import resource_file

    for parts in (("icons", "modstudio.svg"), ("styles", "studio.qss"), ("help", "continual-learning.md"),
                  ("datasets", "digits.npz")):
        assert resource_file(*parts).is_file(), parts


def test_icons_at_every_size():
    from PySide6.QtGui import QImage

    for size in (16, 24, 32, 48, 64, 128, 256, 512):
        for kind, name in (("apps", APP_ID), ("mimetypes", "application-x-modstudio")):
            path = PACKAGING / "icons" / "hicolor" / f"{size}x{size}" / kind / f"{name}.png"
            image = QImage(str(path))
            assert not image.isNull() and image.width() == image.height() == size, path
    for svg in (ROOT / "modstudio" / "resources" / "icons" / "modstudio.svg",
                PACKAGING / "icons" / "application-x-modstudio.svg"):
        assert ET.parse(svg).getroot().tag.endswith("svg")


def test_scripts_parse():
    for script in ("build.sh", "linux/install.sh"):
        done = subprocess.run(["bash", "-n", str(PACKAGING / script)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    for script in ("smoke.py", "make_icons.py"):
        compile((PACKAGING / script).read_text("utf-8"), script, "exec")


def test_linux_install_puts_everything_in_place(tmp_path):
    env = {"PREFIX": str(tmp_path), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run(["bash", str(LINUX / "install.sh")], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    share = tmp_path / "share"
    for rel in (f"applications/{APP_ID}.desktop", f"metainfo/{APP_ID}.metainfo.xml", "mime/packages/modstudio.xml",
                f"icons/hicolor/scalable/apps/{APP_ID}.svg", f"icons/hicolor/256x256/apps/{APP_ID}.png",
                "icons/hicolor/48x48/mimetypes/application-x-modstudio.png"):
        assert (share / rel).is_file(), rel
