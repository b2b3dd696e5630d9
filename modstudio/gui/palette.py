"""The palette: every catalog kind by category, searchable, dragged onto the canvas as MIME data."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QLineEdit, QStyle, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from modstudio.graph import catalog
from modstudio.gui.canvas.view import KIND_MIME
from modstudio.gui.icons import category_icon

KIND_ROLE = Qt.ItemDataRole.UserRole + 1


def kind_tooltip(spec: catalog.KindSpec) -> str:
    rows = "".join(f"<tr><td><i>{p.name}</i></td><td>{p.doc}</td></tr>" for p in spec.params)
    params = f"<table cellspacing=4>{rows}</table>" if rows else ""
    return f"<b>{spec.title}</b> <span style='color:#9aa4b1'>({spec.kind})</span><br>{spec.doc}{params}"


def kind_matches(spec: catalog.KindSpec, text: str) -> bool:
    """Whether every word of a search names the kind (its title, name, category or doc): the
    palette's search and the canvas's add popup filter alike."""
    hay = f"{spec.title} {spec.kind} {spec.category} {spec.doc}".lower()
    return all(word in hay for word in text.lower().split())


class KindTree(QTreeWidget):
    """A tree whose drags carry the kind name in ``KIND_MIME``."""

    def mimeTypes(self) -> list[str]:
        return [KIND_MIME]

    def mimeData(self, items) -> QMimeData:
        mime = QMimeData()
        kinds = [i.data(0, KIND_ROLE) for i in items if i.data(0, KIND_ROLE)]
        if kinds:
            mime.setData(KIND_MIME, kinds[0].encode("utf-8"))
            mime.setText(kinds[0])
        return mime


class Palette(QWidget):
    kind_activated = Signal(str)  # double-click: add at the view's centre

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit(placeholderText="Search modules…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._on_search_text_changed)
        self.tree = KindTree()
        self.tree.setHeaderHidden(True)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setIndentation(12)
        self.tree.itemDoubleClicked.connect(self._on_tree_item_double_clicked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self.items: dict[str, QTreeWidgetItem] = {}
        for category, specs in catalog.categories().items():
            top = QTreeWidgetItem(self.tree, [category])
            top.setIcon(0, category_icon(category))
            top.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = top.font(0)
            font.setBold(True)
            top.setFont(0, font)
            for spec in specs:
                item = QTreeWidgetItem(top, [spec.title])
                item.setData(0, KIND_ROLE, spec.kind)
                item.setIcon(0, category_icon(category))
                item.setToolTip(0, kind_tooltip(spec))
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)
                self.items[spec.kind] = item
        self.tree.expandAll()

    def _on_search_text_changed(self, text: str) -> None:
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            shown = 0
            for j in range(top.childCount()):
                item = top.child(j)
                visible = kind_matches(catalog.get(item.data(0, KIND_ROLE)), text)
                item.setHidden(not visible)
                shown += visible
            top.setHidden(shown == 0)
            top.setExpanded(True)

    def natural_width(self) -> int:
        """The width at which every kind's title shows in full, beside a vertical scroll bar."""
        from modstudio.gui.fit import tree_width

        scrollbar = self.tree.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        margins = self.layout().contentsMargins()
        return tree_width(self.tree) + 2 * self.tree.frameWidth() + scrollbar + margins.left() + margins.right()

    def visible_kinds(self) -> list[str]:
        return [k for k, item in self.items.items() if not item.isHidden() and not item.parent().isHidden()]

    def _on_tree_item_double_clicked(self, item: QTreeWidgetItem, column: int) -> None:
        kind = item.data(0, KIND_ROLE)
        if kind:
            self.kind_activated.emit(kind)
