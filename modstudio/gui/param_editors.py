"""One editor widget per parameter type, all with the same small interface: ``value()``,
``set_value(v)`` (silent) and a ``committed(value)`` signal fired once per user change."""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox, QWidget

from modstudio.graph.catalog import ParamSpec, ParamTypeError

INT_LIMIT = 2**31 - 1
COMPACT_WIDTH = 72  # px: a spin box in a narrow dock, still wide enough for "0.001000"


def compact(widget: QWidget) -> QWidget:
    """Let a form field be narrower than its widest value (a long title, 1e9 with 6 decimals), so
    a dock's form fits its column: combos elide their text, spin boxes scroll theirs."""
    if isinstance(widget, QComboBox):
        widget.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        widget.setMinimumContentsLength(6)
    else:
        widget.setMinimumWidth(COMPACT_WIDTH)
    return widget


class Editor(QObject):
    committed = Signal(object)
    invalid = Signal(str)  # a typed value the spec refuses, with the reason

    def __init__(self, widget: QWidget, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.widget = widget
        self._value: Any = None

    def value(self) -> Any:
        return self._value

    def set_value(self, value: Any) -> None:
        self._value = value
        self.widget.blockSignals(True)
        try:
            self._show(value)
        finally:
            self.widget.blockSignals(False)

    def _show(self, value: Any) -> None:
        raise NotImplementedError

    def _commit(self, value: Any) -> None:
        if value != self._value:
            self._value = value
            self.committed.emit(value)


def _zero_meaning(doc: str) -> str:
    """'number of classes; 0 = from the task' → 'from the task' (the spin box's text for 0)."""
    match = re.search(r"0 = ([^;,)]+)", doc)
    return match.group(1).strip() if match else ""


class IntEditor(Editor):
    def __init__(self, spec: ParamSpec) -> None:
        box = QSpinBox()
        box.setRange(int(max(spec.min if spec.min is not None else -INT_LIMIT, -INT_LIMIT)),
                     int(min(spec.max if spec.max is not None else INT_LIMIT, INT_LIMIT)))
        box.setKeyboardTracking(False)  # typing commits on Enter or focus-out, arrows at once
        box.setAccelerated(True)
        if box.minimum() == 0 and _zero_meaning(spec.doc):
            box.setSpecialValueText(_zero_meaning(spec.doc))
        super().__init__(box)
        box.valueChanged.connect(self._commit)

    def _show(self, value: Any) -> None:
        self.widget.setValue(int(value))


class FloatEditor(Editor):
    def __init__(self, spec: ParamSpec) -> None:
        box = QDoubleSpinBox()
        box.setDecimals(3)
        box.setRange(spec.min if spec.min is not None else -1e12, spec.max if spec.max is not None else 1e12)
        box.setSingleStep(0.05 if (spec.max is not None and spec.max <= 1.0) else 0.1)
        box.setKeyboardTracking(False)
        super().__init__(box)
        box.valueChanged.connect(lambda v: self._commit(round(float(v), 6)))

    def _show(self, value: Any) -> None:
        self.widget.setValue(float(value))


class BoolEditor(Editor):
    def __init__(self, spec: ParamSpec) -> None:
        super().__init__(QCheckBox())
        self.widget.toggled.connect(self._commit)

    def _show(self, value: Any) -> None:
        self.widget.setChecked(bool(value))


class ChoiceEditor(Editor):
    def __init__(self, spec: ParamSpec) -> None:
        combo = QComboBox()
        for choice in spec.choices:
            combo.addItem(str(choice), choice)
        super().__init__(combo)
        combo.activated.connect(lambda index: self._commit(combo.itemData(index)))

    def _show(self, value: Any) -> None:
        index = self.widget.findData(value)
        self.widget.setCurrentIndex(max(index, 0))


class TextEditor(Editor):
    """Shapes and integer lists typed as '1, 8, 8' (validated by the spec), or free text."""

    def __init__(self, spec: ParamSpec) -> None:
        edit = QLineEdit()
        self.spec = spec
        if spec.type in ("shape", "ints"):
            edit.setPlaceholderText(_zero_meaning(spec.doc.replace("empty =", "0 =")) or "e.g. 64 or 1, 8, 8")
        super().__init__(edit)
        edit.editingFinished.connect(self._on_edit_editing_finished)

    def _show(self, value: Any) -> None:
        if isinstance(value, list):
            self.widget.setText(", ".join(map(str, value)))
        else:
            self.widget.setText(str(value))
        self.widget.setStyleSheet("")

    def _on_edit_editing_finished(self) -> None:
        text = self.widget.text()
        try:
            value = self.spec.coerce(text) if self.spec.type in ("shape", "ints", "str") else text
        except ParamTypeError as exc:
            self._refuse(str(exc))
            return
        problem = self.spec.range_error(value) if self.spec.type != "str" else None
        if problem and not (self.spec.type == "shape" and value == []):
            self._refuse(problem)
            return
        self.widget.setStyleSheet("")
        self._commit(value)

    def _refuse(self, reason: str) -> None:
        self.widget.setStyleSheet("border-color: #e5484d;")
        self.invalid.emit(reason)


EDITORS = {"int": IntEditor, "float": FloatEditor, "bool": BoolEditor, "choice": ChoiceEditor,
           "shape": TextEditor, "ints": TextEditor, "str": TextEditor}


def make_editor(spec: ParamSpec) -> Editor:
    return EDITORS[spec.type](spec)
