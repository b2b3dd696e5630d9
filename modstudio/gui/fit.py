"""Whether a widget's text shows in full, and how wide a column must be for it to: the default
layout sizes the docks with these (a palette that cut "Batch norm 1D" to "Batch norm …" made 1-D
and 2-D look the same), and the layout tests check with them that nothing is cut."""

from __future__ import annotations

from typing import Iterable

from PySide6.QtCore import QSize
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (QAbstractScrollArea, QComboBox, QLabel, QStyle, QStyleOptionComboBox, QTreeWidget,
                               QTreeWidgetItemIterator, QWidget)


def combo_width(combo: QComboBox, texts: Iterable[str] | None = None) -> int:
    """The width ``combo`` needs to show the widest of ``texts`` (default: its items) in full."""
    texts = [combo.itemText(i) for i in range(combo.count())] if texts is None else list(texts)
    metrics = combo.fontMetrics()
    text = max((metrics.horizontalAdvance(t) for t in texts), default=0)
    icon = combo.iconSize().width() + 4 if any(not combo.itemIcon(i).isNull() for i in range(combo.count())) else 0
    option = QStyleOptionComboBox()
    combo.initStyleOption(option)
    size = combo.style().sizeFromContents(QStyle.ContentsType.CT_ComboBox, option,
                                          QSize(text + icon + 4, metrics.height()), combo)
    return size.width()


def combo_elided(combo: QComboBox) -> bool:
    """The current text is wider than the field that shows it."""
    option = QStyleOptionComboBox()
    combo.initStyleOption(option)
    field = combo.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                         QStyle.SubControl.SC_ComboBoxEditField, combo)
    icon = combo.iconSize().width() + 4 if not combo.itemIcon(combo.currentIndex()).isNull() else 0
    return combo.fontMetrics().horizontalAdvance(combo.currentText()) + icon > field.width()


def label_elided(label: QLabel) -> bool:
    """A one-line label narrower than its text (a word-wrapped one wraps instead)."""
    if label.wordWrap() or not label.text():
        return False
    return label.sizeHint().width() > label.width() + 1


def tree_item_width(tree: QTreeWidget, item) -> int:
    """The width an item's text, icon and indentation take in column 0."""
    depth, parent = 0, item.parent()
    while parent is not None:
        depth, parent = depth + 1, parent.parent()
    indent = tree.indentation() * (depth + (1 if tree.rootIsDecorated() else 0))
    icon = tree.iconSize().width() if tree.iconSize().isValid() else tree.style().pixelMetric(
        QStyle.PixelMetric.PM_SmallIconSize)
    metrics = QFontMetrics(item.font(0))  # a category's bold font is wider than the tree's
    return indent + icon + 8 + metrics.horizontalAdvance(item.text(0)) + 8


def tree_width(tree: QTreeWidget) -> int:
    """The viewport width ``tree`` needs for every item to show in full."""
    widths, it = [0], QTreeWidgetItemIterator(tree)
    while it.value() is not None:
        widths.append(tree_item_width(tree, it.value()))
        it += 1
    return max(widths)


def elided_texts(root: QWidget) -> list[str]:
    """Every visible combo, one-line label and tree item under ``root`` whose text is cut, named."""
    cut = []
    for combo in root.findChildren(QComboBox):
        if combo.isVisible() and not combo.isEditable() and combo_elided(combo):
            cut.append(f"combo {combo.objectName() or '?'}: {combo.currentText()!r}")
    for label in root.findChildren(QLabel):
        if label.isVisible() and label_elided(label):
            cut.append(f"label {label.objectName() or '?'}: {label.text()!r}")
    for tree in root.findChildren(QTreeWidget):
        if not tree.isVisible():
            continue
        it = QTreeWidgetItemIterator(tree)
        while it.value() is not None:
            item = it.value()
            if not item.isHidden() and tree_item_width(tree, item) > tree.viewport().width():
                cut.append(f"tree item: {item.text(0)!r}")
            it += 1
    return cut


def sideways_scrollbars(root: QWidget) -> list[str]:
    """Every visible scroll area under ``root`` showing a horizontal scroll bar."""
    return [f"{type(area).__name__} {area.objectName() or '?'}" for area in root.findChildren(QAbstractScrollArea)
            if area.isVisible() and area.horizontalScrollBar().isVisible()]
