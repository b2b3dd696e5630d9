"""Help pages rendered from Markdown files in ``modstudio/resources/help`` (package data), in a
small non-modal window, so the text is edited as text and reviewed like the docs."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from modstudio.gui.resources import resource_file

GUIDE = "continual-learning.md"


def page_text(name: str) -> str:
    path = resource_file("help", name)
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return f"# Help is missing\n\nThe help file `{path}` was not found; the installation may be incomplete."


class HelpWindow(QDialog):
    def __init__(self, name: str, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"help-{name.removesuffix('.md')}")
        self.setWindowTitle(title)
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        self.browser.setMarkdown(page_text(name))
        self.browser.document().setDocumentMargin(18)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
        self.resize(760, 720)


def show_page(parent: QWidget, name: str, title: str) -> HelpWindow:
    """Show (or raise) the help window for ``name``; it does not block the studio."""
    for child in parent.findChildren(HelpWindow, options=Qt.FindChildOption.FindDirectChildrenOnly):
        if child.objectName() == f"help-{name.removesuffix('.md')}":
            child.show()
            child.raise_()
            child.activateWindow()
            return child
    window = HelpWindow(name, title, parent)
    window.show()
    return window


def show_guide(parent: QWidget) -> HelpWindow:
    return show_page(parent, GUIDE, "How continual learning works here")
