"""One editor widget per parameter type, all with the same small interface: ``value()``,
``set_value(v)`` (silent) and a ``committed(value)`` signal fired once per user change.

Typed values (numbers, shapes, names) commit when the user pauses typing (``TYPING_PAUSE_MS``), so
the canvas's shapes follow as they type, and again on Enter or leaving the field if the text
changed since; each commit is one undo step."""

from __future__ import annotations

import re
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox, QWidget

from modstudio.graph.catalog import ParamSpec, ParamTypeError

INT_LIMIT = 2**31 - 1
COMPACT_WIDTH = 72  # px: a spin box in a narrow dock, still wide enough for "0.001000"
TYPING_PAUSE_MS = 300  # a pause this long in typing commits the typed value


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
        if value == self._value and self.widget.hasFocus():
            return  # the value just committed from what the user is typing: leave their text alone
        self._value = value
        self._typed = False
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

    def _follow_typing(self, edit: QLineEdit) -> None:
        """Commit what is typed into ``edit`` after a pause (``_commit_typed``), not only on Enter."""
        self._typed = False
        self._pause = QTimer(self)
        self._pause.setSingleShot(True)
        self._pause.setInterval(TYPING_PAUSE_MS)
        self._pause.timeout.connect(self._on_pause_timeout)
        edit.textEdited.connect(self._on_text_edited)

    def _on_text_edited(self, text: str) -> None:
        self._typed = True
        self._pause.start()

    def _on_pause_timeout(self) -> None:
        if self._typed and shiboken6.isValid(self.widget):  # the page may have moved on to another node
            self._typed = False
            self._commit_typed()

    def _typing_done(self) -> None:
        """Enter or focus-out: the commit happens now, so no pause commit follows."""
        self._typed = False
        if hasattr(self, "_pause"):
            self._pause.stop()

    def _commit_typed(self) -> None:
        raise NotImplementedError


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
        box.editingFinished.connect(self._typing_done)
        self._follow_typing(box.lineEdit())

    def _show(self, value: Any) -> None:
        self.widget.setValue(int(value))

    def _commit_typed(self) -> None:
        box = self.widget
        if box.lineEdit().hasAcceptableInput():  # "-" or "" mid-typing waits for more
            self._commit(int(box.valueFromText(box.cleanText())))


class FloatEditor(Editor):
    def __init__(self, spec: ParamSpec) -> None:
        box = QDoubleSpinBox()
        box.setDecimals(3)
        box.setRange(spec.min if spec.min is not None else -1e12, spec.max if spec.max is not None else 1e12)
        box.setSingleStep(0.05 if (spec.max is not None and spec.max <= 1.0) else 0.1)
        box.setKeyboardTracking(False)
        super().__init__(box)
        box.valueChanged.connect(lambda v: self._commit(round(float(v), 6)))
        box.editingFinished.connect(self._typing_done)
        self._follow_typing(box.lineEdit())

    def _show(self, value: Any) -> None:
        self.widget.setValue(float(value))

    def _commit_typed(self) -> None:
        box = self.widget  # the box's own text is left as typed (no "0.5" → "0.500" under the cursor)
        if box.lineEdit().hasAcceptableInput():
            self._commit(round(float(box.valueFromText(box.cleanText())), 6))


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
        self._follow_typing(edit)

    def _show(self, value: Any) -> None:
        if isinstance(value, list):
            self.widget.setText(", ".join(map(str, value)))
        else:
            self.widget.setText(str(value))
        self.widget.setStyleSheet("")

    def _on_edit_editing_finished(self) -> None:
        self._typing_done()
        self._take_text(tell=True)

    def _commit_typed(self) -> None:
        self._take_text(tell=False)  # a pause mid-typing ("1, 8,") marks the field, says nothing yet

    def _take_text(self, tell: bool) -> None:
        text = self.widget.text()
        try:
            value = self.spec.coerce(text) if self.spec.type in ("shape", "ints", "str") else text
        except ParamTypeError as exc:
            self._refuse(str(exc), tell)
            return
        problem = self.spec.range_error(value) if self.spec.type != "str" else None
        if problem and not (self.spec.type == "shape" and value == []):
            self._refuse(problem, tell)
            return
        self.widget.setStyleSheet("")
        self._commit(value)

    def _refuse(self, reason: str, tell: bool = True) -> None:
        self.widget.setStyleSheet("border-color: #e5484d;")
        if tell:
            self.invalid.emit(reason)


EDITORS = {"int": IntEditor, "float": FloatEditor, "bool": BoolEditor, "choice": ChoiceEditor,
           "shape": TextEditor, "ints": TextEditor, "str": TextEditor}


def make_editor(spec: ParamSpec) -> Editor:
    return EDITORS[spec.type](spec)
