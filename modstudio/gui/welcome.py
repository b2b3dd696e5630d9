"""The welcome page: what the studio shows when no project is open.

New, open, recent projects, and the examples with one line each: one click opens an example with
its graph and tasks, ready to train, so a fresh install leads to a trained model in a few clicks.
The page sits in a stack with the canvas (:func:`install`); any project change hides it.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (QFrame, QGridLayout, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton,
                               QScrollArea, QSizePolicy, QStackedWidget, QVBoxLayout, QWidget)

from modstudio.gui import settings
from modstudio.gui.icons import app_icon, category_icon

TAGLINE = "Compose networks from modules and learn tasks one after another, without forgetting the earlier ones."


def _label(text: str, name: str, wrap: bool = False) -> QLabel:
    label = QLabel(text)
    label.setObjectName(name)
    label.setWordWrap(wrap)
    return label


def _example_icon(name: str):
    return category_icon("Convolution" if "conv" in name or "signal" in name else "Dense")


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
    guide_requested = Signal()
    shortcuts_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcome")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.cards: dict[str, ExampleCard] = {}

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
        left_widget.setFixedWidth(280)
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
        for card in self.cards.values():
            self.examples_grid.removeWidget(card)
            card.hide()
            card.deleteLater()
        self.cards = {}
        from modstudio.examples import list_examples  # not at import time: it loads the data layer (numpy)

        for i, example in enumerate(list_examples()):
            card = ExampleCard(example.name, example.title, example.description)
            card.clicked.connect(self.example_requested)
            self.examples_grid.addWidget(card, i, 0)
            self.cards[example.name] = card

    def _on_recent_list_item_activated(self, item: QListWidgetItem) -> None:
        self.recent_requested.emit(item.data(Qt.ItemDataRole.UserRole))


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
    window.welcome.refresh()
    window.central_stack.setCurrentWidget(window.welcome)


def hide(window) -> None:
    stack = window.central_stack
    if stack.currentWidget() is not window.view:
        stack.setCurrentWidget(window.view)
        window.view.fit()
        window.view.setFocus()


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
