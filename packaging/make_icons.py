"""Render the SVG icons to the PNG sizes desktops want, and to .ico / .icns for Windows and macOS.

    python packaging/make_icons.py

Writes ``packaging/icons/hicolor/<size>x<size>/{apps,mimetypes}/*.png`` (Linux), plus
``modstudio.ico`` and ``modstudio.icns`` beside them. The SVGs stay the source of truth: the
scalable folder of the Linux install uses them directly.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
APP_ID = "io.github.modstudio.ModStudio"
APP_SVG = ROOT / "modstudio" / "resources" / "icons" / "modstudio.svg"
MIME_SVG = HERE / "icons" / "application-x-modstudio.svg"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def render(svg: Path, size: int):
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    QSvgRenderer(str(svg)).render(painter)
    painter.end()
    return image


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # image plugins need one
    app.setApplicationName("make_icons")
    out = HERE / "icons" / "hicolor"
    for size in SIZES:
        for svg, kind, name in ((APP_SVG, "apps", APP_ID), (MIME_SVG, "mimetypes", "application-x-modstudio")):
            folder = out / f"{size}x{size}" / kind
            folder.mkdir(parents=True, exist_ok=True)
            render(svg, size).save(str(folder / f"{name}.png"))
    try:
        from PIL import Image
    except ImportError:
        print("Pillow is missing: no .ico/.icns written")
        return 0
    big = Image.open(out / "512x512" / "apps" / f"{APP_ID}.png")
    big.save(HERE / "icons" / "modstudio.ico", sizes=[(s, s) for s in (16, 24, 32, 48, 64, 128, 256)])
    try:
        big.save(HERE / "icons" / "modstudio.icns")
    except (OSError, ValueError) as exc:  # some Pillow builds cannot write ICNS
        print(f"no .icns written: {exc}")
    print(f"icons written under {HERE / 'icons'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
