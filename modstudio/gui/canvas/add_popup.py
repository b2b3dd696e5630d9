"""The searchable palette at the cursor (right-click → Add…, or a double-click on empty canvas): a
line edit over a list of the catalog's kinds, filtered as the user types; Enter (or a click) adds
the highlighted kind where the popup was opened, Escape closes it."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, Signal
from PySide6.QtWidgets import QFrame, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from modstudio.graph import catalog
from modstudio.gui.icons import category_icon
from modstudio.gui.palette import kind_matches

KIND_ROLE = Qt.ItemDataRole.UserRole + 1


class AddPopup(QFrame):
    kind_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setObjectName("add-popup")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.search = QLineEdit(placeholderText="Add a module…")
        self.search.setObjectName("add-popup-search")
        self.search.setClearButtonEnabled(True)
        self.list = QListWidget()
        self.list.setObjectName("add-popup-list")
        self.list.setUniformItemSizes(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self.search)
        layout.addWidget(self.list)
        for category, specs in catalog.categories().items():
            for spec in specs:
                item = QListWidgetItem(category_icon(category), f"{spec.title}  ·  {category}")
                item.setData(KIND_ROLE, spec.kind)
                item.setToolTip(spec.doc)
                self.list.addItem(item)
        width = self.list.sizeHintForColumn(0) + self.list.verticalScrollBar().sizeHint().width() + 16
        self.resize(max(260, width), 320)
        self.search.textChanged.connect(self._on_search_text_changed)
        self.search.installEventFilter(self)  # arrows and Enter in the line edit drive the list
        self.list.itemActivated.connect(self._on_list_item_activated)
        self.list.itemClicked.connect(self._on_list_item_activated)
        self._on_search_text_changed("")

    def visible_kinds(self) -> list[str]:
        return [self.list.item(i).data(KIND_ROLE) for i in range(self.list.count()) if not self.list.item(i).isHidden()]

    def current_kind(self) -> str | None:
        item = self.list.currentItem()
        return item.data(KIND_ROLE) if item is not None and not item.isHidden() else None

    def popup(self, global_pos: QPoint) -> None:
        """Show with its top-left at ``global_pos`` (kept on the screen) and the search focused."""
        screen = self.screen().availableGeometry() if self.screen() else None
        pos = QPoint(global_pos)
        if screen is not None:
            pos.setX(max(screen.left(), min(pos.x(), screen.right() - self.width())))
            pos.setY(max(screen.top(), min(pos.y(), screen.bottom() - self.height())))
        self.move(pos)
        self.show()
        self.search.setFocus(Qt.FocusReason.PopupFocusReason)

    def accept_current(self) -> bool:
        kind = self.current_kind()
        if kind is None:
            return False
        self.close()
        self.kind_chosen.emit(kind)
        return True

    def _on_search_text_changed(self, text: str) -> None:
        first = None
        for i in range(self.list.count()):
            item = self.list.item(i)
            shown = kind_matches(catalog.get(item.data(KIND_ROLE)), text)
            item.setHidden(not shown)
            if shown and first is None:
                first = item
        self.list.setCurrentItem(first)

    def _on_list_item_activated(self, item: QListWidgetItem) -> None:
        self.list.setCurrentItem(item)
        self.accept_current()

    def _step(self, delta: int) -> None:
        rows = [i for i in range(self.list.count()) if not self.list.item(i).isHidden()]
        if not rows:
            return
        current = self.list.currentRow()
        index = rows.index(current) + delta if current in rows else 0
        self.list.setCurrentRow(rows[max(0, min(index, len(rows) - 1))])

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.search and event.type() == QEvent.Type.KeyPress:
            key = event.key()
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.accept_current()
                return True
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up, Qt.Key.Key_PageDown, Qt.Key.Key_PageUp):
                step = {Qt.Key.Key_Down: 1, Qt.Key.Key_Up: -1, Qt.Key.Key_PageDown: 8, Qt.Key.Key_PageUp: -8}[key]
                self._step(step)
                return True
            if key == Qt.Key.Key_Escape:
                self.close()
                return True
        return super().eventFilter(watched, event)
