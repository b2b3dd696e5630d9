"""The welcome page: what the studio shows when no project is open.

New, open, recent projects, and the examples with one line each: one click opens an example with
its graph and tasks, ready to train, so a fresh install leads to a trained model in a few clicks.
The page sits in a stack with the canvas (:func:`install`); any project change hides it.
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (QFrame, QGridLayout, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton,
                               QScrollArea, QSizePolicy, QStackedWidget, QVBoxLayout, QWidget)

from modstudio.gui import dialogs, settings
from modstudio.gui.icons import app_icon, category_icon

TAGLINE = "Compose networks from modules and learn tasks one after another, without forgetting the earlier ones."


def _label(text: str, name: str, wrap: bool = False) -> QLabel:
    label = QLabel(text)
    label.setObjectName(name)
    label.setWordWrap(wrap)
    return label


def _example_icon(name: str):
    return category_icon("Convolution" if any(w in name for w in ("conv", "signal", "cifar")) else "Dense")


class ExampleCard(QFrame):
    """One example: title and a line of text; click (or Enter/Space) opens it."""

    clicked = Signal(str)

    def __init__(self, name: str, title: str, description: str) -> None:
        super().__init__()
        self.name = name
        self.setObjectName("example-card")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName(f"Open the example {title}")
        self.setToolTip(f"Open “{title}”: its network and tasks, ready to train")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)
        icon = QLabel()
        icon.setPixmap(_example_icon(name).pixmap(QSize(28, 28), self.devicePixelRatioF()))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        text = QVBoxLayout()
        text.setSpacing(3)
        self.title_label = _label(title, "example-title")
        self.text_label = _label(description, "example-text", wrap=True)
        text.addWidget(self.title_label)
        text.addWidget(self.text_label)
        row = QHBoxLayout(self)
        row.setContentsMargins(14, 12, 14, 12)
        row.setSpacing(12)
        row.addWidget(icon)
        row.addLayout(text, 1)

    def mouseReleaseEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(event.position().toPoint()):
            self.clicked.emit(self.name)
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.clicked.emit(self.name)
            return
        super().keyPressEvent(event)


class WelcomePage(QWidget):
    new_requested = Signal()
    open_requested = Signal()
    recent_requested = Signal(str)
    example_requested = Signal(str)
    download_requested = Signal(str)  # an example whose benchmark is missing
    guide_requested = Signal()
    shortcuts_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcome")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.cards: dict[str, ExampleCard] = {}
        self.missing: list[str] = []  # examples whose benchmark is not downloaded yet: links under the cards
        self.docks_aside: list | None = None  # the bottom docks hidden while the page shows (see show())
        self.dock_in_front = None

        content = QWidget()
        content.setObjectName("welcome")
        content.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        content.setMaximumWidth(1080)
        outer = QVBoxLayout(content)
        outer.setContentsMargins(36, 32, 36, 32)
        outer.setSpacing(28)

        header = QHBoxLayout()
        header.setSpacing(18)
        logo = QLabel()
        logo.setPixmap(app_icon().pixmap(QSize(72, 72), self.devicePixelRatioF()))
        titles = QVBoxLayout()
        titles.setSpacing(4)
        titles.addWidget(_label("ModStudio", "welcome-title"))
        titles.addWidget(_label(TAGLINE, "welcome-tagline", wrap=True))
        header.addWidget(logo)
        header.addLayout(titles, 1)
        outer.addLayout(header)

        columns = QHBoxLayout()
        columns.setSpacing(32)
        outer.addLayout(columns, 1)

        # left: start, recent, learn
        left = QVBoxLayout()
        left.setSpacing(8)
        left.addWidget(_label("START", "welcome-section"))
        self.new_button = self._action_button("New project", QKeySequence.StandardKey.New, self.new_requested)
        self.open_button = self._action_button("Open…", QKeySequence.StandardKey.Open, self.open_requested)
        left.addWidget(self.new_button)
        left.addWidget(self.open_button)
        left.addSpacing(16)
        left.addWidget(_label("RECENT", "welcome-section"))
        self.recent_list = QListWidget()
        self.recent_list.setObjectName("welcome-recent")
        self.recent_list.setFrameShape(QFrame.Shape.NoFrame)
        self.recent_list.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.recent_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.recent_list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.recent_list.setWordWrap(False)
        self.recent_list.setCursor(Qt.CursorShape.PointingHandCursor)
        self.recent_list.itemActivated.connect(self._on_recent_list_item_activated)
        self.recent_list.itemClicked.connect(self._on_recent_list_item_activated)
        self.recent_empty = _label("No recent projects yet.", "welcome-empty")
        left.addWidget(self.recent_list)
        left.addWidget(self.recent_empty)
        left.addSpacing(16)
        left.addWidget(_label("LEARN", "welcome-section"))
        self.guide_button = self._action_button("How continual learning works", None, self.guide_requested)
        self.shortcuts_button = self._action_button("Keyboard shortcuts", QKeySequence.StandardKey.HelpContents,
                                                    self.shortcuts_requested)
        left.addWidget(self.guide_button)
        left.addWidget(self.shortcuts_button)
        left.addStretch(1)
        left_widget = QWidget()
        left_widget.setLayout(left)
        left_widget.setMinimumWidth(230)
        left_widget.setMaximumWidth(280)
        columns.addWidget(left_widget)

        # right: examples
        right = QVBoxLayout()
        right.setSpacing(8)
        right.addWidget(_label("EXAMPLES", "welcome-section"))
        right.addWidget(_label("Each opens with its network and its tasks, ready to train. Train it once with "
                               "finetune to see forgetting, then with expansion to see it gone.",
                               "example-text", wrap=True))
        self.examples_grid = QGridLayout()
        self.examples_grid.setSpacing(10)
        right.addLayout(self.examples_grid)
        self.missing_label = _label("", "example-text", wrap=True)  # links, not cards: the page fits at 1280×800
        self.missing_label.setTextFormat(Qt.TextFormat.RichText)
        self.missing_label.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse
                                                   | Qt.TextInteractionFlag.LinksAccessibleByKeyboard)
        self.missing_label.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.missing_label.linkActivated.connect(self.download_requested)
        right.addWidget(self.missing_label)
        right.addStretch(1)
        columns.addLayout(right, 1)

        scroll = QScrollArea()
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidgetResizable(True)
        holder = QWidget()
        holder.setObjectName("welcome")
        holder.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        centre = QHBoxLayout(holder)
        centre.setContentsMargins(0, 0, 0, 0)
        centre.addStretch(1)
        centre.addWidget(content, 100)
        centre.addStretch(1)
        scroll.setWidget(holder)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)
        self.refresh_examples()
        self.refresh_recent()

    def _action_button(self, text: str, shortcut, signal) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName("welcome-action")
        button.setCursor(Qt.CursorShape.PointingHandCursor)
        if shortcut is not None:
            keys = QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText)
            if keys:
                button.setToolTip(keys)
        button.clicked.connect(lambda checked=False: signal.emit())
        return button

    # ------------------------------------------------------------------ content

    def refresh(self) -> None:
        """Re-read the recent files and the examples (one whose benchmark was downloaded since, by
        `modstudio data get` in a terminal, appears now)."""
        self.refresh_recent()
        self.refresh_examples()

    def refresh_recent(self) -> None:
        self.recent_list.clear()
        files = settings.recent_files()[:6]
        row = QSize(0, self.recent_list.fontMetrics().lineSpacing() * 2 + 12)
        for path in files:
            p = Path(path)
            item = QListWidgetItem(f"{p.stem}\n{self._short_folder(p.parent)}")
            item.setData(Qt.ItemDataRole.UserRole, path)
            item.setToolTip(path)
            item.setSizeHint(row)
            self.recent_list.addItem(item)
        self.recent_list.setVisible(bool(files))
        self.recent_list.setFixedHeight(row.height() * len(files) + 4 if files else 0)
        self.recent_empty.setVisible(not files)

    @staticmethod
    def _short_folder(folder: Path) -> str:
        try:
            return "~/" + str(folder.relative_to(Path.home()))
        except ValueError:
            return str(folder)

    def recent_paths(self) -> list[str]:
        return [self.recent_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.recent_list.count())]

    def refresh_examples(self) -> None:
        """Cards for the examples whose data is here; a line of links for those that need a benchmark
        downloaded first (a click offers the download)."""
        for card in self.cards.values():
            self.examples_grid.removeWidget(card)
            card.hide()
            card.deleteLater()
        self.cards = {}
        from modstudio.examples import list_examples  # not at import time: it loads the data layer (numpy)

        examples = list_examples(include_unavailable=True)
        for i, example in enumerate(e for e in examples if e.available):
            card = ExampleCard(example.name, example.title, example.description)
            card.clicked.connect(self.example_requested)
            self.examples_grid.addWidget(card, i, 0)
            self.cards[example.name] = card
        missing = [e for e in examples if not e.available]
        self.missing = [e.name for e in missing]
        self.missing_label.setText(_missing_text(missing))
        self.missing_label.setVisible(bool(missing))

    def _on_recent_list_item_activated(self, item: QListWidgetItem) -> None:
        self.recent_requested.emit(item.data(Qt.ItemDataRole.UserRole))


def _missing_text(examples: list) -> str:
    """“At real scale, …: Split MNIST (5 × 2), Permuted MNIST (10 tasks) (MNIST, 12 MB); …”: the
    examples grouped by what they need, each title a link named after its example."""
    from modstudio.data.benchmarks import state

    groups: dict[tuple[str, ...], list] = {}
    for example in examples:
        groups.setdefault(example.missing, []).append(example)
    parts = []
    for benchmarks, group in groups.items():
        links = ", ".join(f'<a href="{html.escape(e.name)}">{html.escape(e.title)}</a>' for e in group)
        specs = [state(name).benchmark for name in benchmarks]
        names = " and ".join(b.title.split(" (")[0] for b in specs)
        size = sum(b.download_bytes for b in specs) / 1e6
        parts.append(f"{links} ({html.escape(names)}, {size:,.0f} MB)")
    return "At real scale, once their benchmark is downloaded (click one to get it): " + "; ".join(parts) + "."


def install(window) -> WelcomePage:
    """Put the welcome page in a stack with the window's canvas and wire it to the window's files.

    The page hides as soon as there is a project to look at: one opened, created, recovered, or
    the first edit or task added to the empty one.
    """
    page = WelcomePage()
    stack = QStackedWidget()
    stack.setObjectName("central-stack")
    view = window.takeCentralWidget()
    stack.addWidget(view)
    stack.addWidget(page)
    stack.setCurrentWidget(view)
    window.setCentralWidget(stack)
    window.welcome = page
    window.central_stack = stack

    files = window.files
    page.new_requested.connect(lambda: files.new_project() and hide(window))
    page.open_requested.connect(lambda: files.open_project())
    page.recent_requested.connect(lambda path: files.open_project(path))
    page.example_requested.connect(lambda name: open_example(window, name))
    page.download_requested.connect(lambda name: offer_download(window, name))
    page.shortcuts_requested.connect(window.show_shortcuts)

    def show_guide() -> None:
        from modstudio.gui.help import show_guide as show

        show(window)

    page.guide_requested.connect(show_guide)
    doc = window.document
    doc.project_replaced.connect(lambda: hide(window))
    doc.tasks_changed.connect(lambda: hide(window))
    doc.undo_stack.indexChanged.connect(lambda *_: hide(window))
    return page


def is_shown(window) -> bool:
    return window.central_stack.currentWidget() is window.welcome


def show(window) -> None:
    """The welcome page in the canvas's place, with the window's height: the bottom docks (no tasks,
    no run yet) step aside until it hides, so every section shows at the default size."""
    window.welcome.refresh()
    window.central_stack.setCurrentWidget(window.welcome)
    page = window.welcome
    if page.docks_aside is None:
        docks = _bottom_docks(window)
        page.docks_aside = [d for d in docks if not d.isHidden()]
        page.dock_in_front = next((d for d in page.docks_aside if not d.visibleRegion().isEmpty()), None)
        for dock in page.docks_aside:
            dock.hide()


def hide(window) -> None:
    stack = window.central_stack
    if stack.currentWidget() is not window.view:
        stack.setCurrentWidget(window.view)
        restore_docks(window)
        window.view.fit()
        window.view.setFocus()


def restore_docks(window) -> None:
    """The bottom docks back as they were before the welcome page (also before the layout is saved)."""
    page = window.welcome
    if page.docks_aside is None:
        return
    for dock in page.docks_aside:
        dock.show()
    front = page.dock_in_front or (page.docks_aside[0] if page.docks_aside else None)
    page.docks_aside, page.dock_in_front = None, None
    if front is not None:
        front.raise_()


def _bottom_docks(window) -> list:
    return [window.tasks_dock, window.training.dock]


def open_example(window, name: str) -> bool:
    """Open example ``name`` and say what to do next (train it)."""
    if not window.files.open_example(name):
        return False
    hide(window)
    doc = window.document
    keys = window.training.train_action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
    how = f"press Train{f' ({keys})' if keys else ''} to learn them one after another"
    doc.message.emit(f"“{doc.name}” is ready: {len(doc.project.tasks)} tasks — {how}.")
    return True


def offer_download(window, name: str) -> bool:
    """An example whose benchmark is missing: Add Tasks' download dialog, on that benchmark; the
    example opens once everything it needs is here (the page lists it with the others either way)."""
    from modstudio.examples import list_examples
    from modstudio.gui.benchmark_download import BenchmarkDownloadDialog

    info = next(e for e in list_examples(include_unavailable=True) if e.name == name)
    if info.missing:
        dialog = BenchmarkDownloadDialog(window)
        dialog.refresh(select=info.missing[0])
        dialogs.exec_dialog(dialog)
        dialog.deleteLater()
        window.welcome.refresh_examples()
        if info.missing:
            return False
    return open_example(window, name)
