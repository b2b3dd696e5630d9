"""Start the studio: one QApplication, the theme, a window, an optional project to open."""

from __future__ import annotations

import sys
from pathlib import Path


def run(project_path: str | None = None, argv: list[str] | None = None) -> int:
    from PySide6.QtWidgets import QApplication

    from modstudio.gui import theme
    from modstudio.gui.icons import app_icon
    from modstudio.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("ModStudio")
    app.setOrganizationName("ModStudio")
    app.setWindowIcon(app_icon())
    theme.apply(app)
    window = MainWindow()
    window.show()
    if project_path:
        path = Path(project_path)
        if path.suffix.lower() == ".modstudio" or path.is_file():
            window.files.open_project(str(path))
        else:
            window.open_paths([str(path)])
    else:
        window.files.offer_recovery()
    return app.exec()
