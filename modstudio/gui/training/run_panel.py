"""Run settings: strategy and its parameters, scenario, optimiser, learning rate, batch size, epochs,
seed and device. Every change is one undoable ``SetProjectField`` on the project's settings.

The strategy list is read from the strategy classes' source (names, titles, docs, defaults), so the
panel shows them without importing torch at start-up; once torch is loaded the classes themselves
are used.
"""

from __future__ import annotations

import ast
import importlib.util
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFormLayout, QLabel, QSpinBox, QVBoxLayout, QWidget)

from modstudio.gui.edits import SetProjectField
from modstudio.gui.training.devices import DeviceCombo


@dataclass(frozen=True)
class StrategyInfo:
    name: str
    title: str
    doc: str
    defaults: dict[str, Any]
    path_based: bool


_catalog: dict[str, StrategyInfo] | None = None


def strategy_catalog() -> dict[str, StrategyInfo]:
    """name → StrategyInfo, in the engine's order."""
    global _catalog
    if _catalog is None:
        if "torch" in sys.modules:
            _catalog = _from_classes()
        else:
            try:
                _catalog = _from_source()
            except Exception:  # no sources (a frozen bundle): pay the import
                _catalog = _from_classes()
    return _catalog


def _from_classes() -> dict[str, StrategyInfo]:
    from modstudio.learn.strategies import STRATEGIES

    return {name: StrategyInfo(name, cls.title, cls.doc, dict(cls.defaults), bool(cls.path_based))
            for name, cls in STRATEGIES.items()}


def _from_source() -> dict[str, StrategyInfo]:
    spec = importlib.util.find_spec("modstudio.learn.strategies")
    folder = Path(next(iter(spec.submodule_search_locations)))
    classes: dict[str, dict[str, Any]] = {}
    bases: dict[str, str] = {}
    for file in sorted(folder.glob("*.py")):
        for node in ast.parse(file.read_text(encoding="utf-8")).body:
            if not isinstance(node, ast.ClassDef):
                continue
            attrs: dict[str, Any] = {}
            for stmt in node.body:
                target = value = None
                if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                    target, value = stmt.targets[0].id, stmt.value
                elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
                    target, value = stmt.target.id, stmt.value
                if target in ("name", "title", "doc", "defaults", "path_based"):
                    attrs[target] = ast.literal_eval(value)
            classes[node.name] = attrs
            if node.bases and isinstance(node.bases[0], ast.Name):
                bases[node.name] = node.bases[0].id

    def attr(cls: str, key: str, default):
        while cls:
            if key in classes.get(cls, {}):
                return classes[cls][key]
            cls = bases.get(cls, "")
        return default

    init = ast.parse((folder / "__init__.py").read_text(encoding="utf-8"))
    order = [elt.id for node in ast.walk(init) if isinstance(node, ast.Tuple)
             for elt in node.elts if isinstance(elt, ast.Name) and elt.id in classes]
    out = {}
    for cls in order:
        name = attr(cls, "name", "")
        if name:
            out[name] = StrategyInfo(name, attr(cls, "title", name), attr(cls, "doc", ""),
                                     dict(attr(cls, "defaults", {})), bool(attr(cls, "path_based", False)))
    if not out:
        raise ValueError("no strategies found in the sources")
    return out


class SciSpin(QDoubleSpinBox):
    """A spin box for values spanning decades (learning rates): shown as ``3e-3``, steps ×2 / ÷2."""

    def __init__(self, minimum: float = 0.0, maximum: float = 1e6) -> None:
        super().__init__()
        self.setDecimals(12)
        self.setRange(minimum, maximum)
        self.setKeyboardTracking(False)

    def textFromValue(self, value: float) -> str:  # noqa: N802 - Qt's name
        return f"{value:.4g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        from PySide6.QtGui import QValidator

        try:
            value = float(text)
        except ValueError:
            ok = all(c in "0123456789.eE+-" for c in text)
            return (QValidator.State.Intermediate if ok else QValidator.State.Invalid, text, pos)
        state = QValidator.State.Acceptable if self.minimum() <= value <= self.maximum() else QValidator.State.Intermediate
        return (state, text, pos)

    def stepBy(self, steps: int) -> None:  # noqa: N802
        value = self.value()
        if value <= 0:
            value = max(self.minimum(), 1e-4)
        self.setValue(value * (2.0 ** steps))


def _param_editor(default: Any) -> QWidget:
    if isinstance(default, bool):
        w = QComboBox()
        w.addItems(["no", "yes"])
        return w
    if isinstance(default, int):
        w = QSpinBox()
        w.setRange(0, 2_000_000_000)
        w.setKeyboardTracking(False)
        return w
    if isinstance(default, float) and (default == 0 or default >= 100 or default < 0.01):
        return SciSpin(0.0, 1e12)
    w = QDoubleSpinBox()
    w.setDecimals(4)
    w.setRange(0.0, 1e6)
    w.setSingleStep(0.1 if default >= 0.1 else 0.01)
    w.setKeyboardTracking(False)
    return w


class RunPanel(QWidget):
    SCENARIOS = (("task", "Task-incremental (task id given)"), ("class", "Class-incremental (task inferred)"))
    OPTIMIZERS = (("adam", "Adam"), ("adamw", "AdamW"), ("sgd", "SGD"))

    def __init__(self, document, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(4)
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setVerticalSpacing(4)
        self.strategy = QComboBox()
        self.strategy.setObjectName("run-strategy")
        for info in strategy_catalog().values():
            self.strategy.addItem(info.title, info.name)
        self.strategy.activated.connect(self._on_strategy_activated)
        form.addRow("Strategy", self.strategy)
        self.doc = QLabel()
        self.doc.setObjectName("dim")
        self.doc.setWordWrap(True)
        form.addRow(self.doc)
        self.params_form = QFormLayout()
        self.params_form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.params_form.setVerticalSpacing(4)
        form.addRow(self.params_form)
        self.scenario = QComboBox()
        for value, text in self.SCENARIOS:
            self.scenario.addItem(text, value)
        self.scenario.activated.connect(lambda i: self._set("scenario", self.scenario.itemData(i)))
        form.addRow("Scenario", self.scenario)
        self.optimizer = QComboBox()
        for value, text in self.OPTIMIZERS:
            self.optimizer.addItem(text, value)
        self.optimizer.activated.connect(lambda i: self._set("optimizer", self.optimizer.itemData(i)))
        form.addRow("Optimizer", self.optimizer)
        self.lr = SciSpin(1e-8, 1e6)
        self.lr.setObjectName("run-lr")
        self.lr.valueChanged.connect(lambda v: self._set("lr", float(v)))
        form.addRow("Learning rate", self.lr)
        self.batch_size = self._spin(1, 1 << 20, "batch_size")
        form.addRow("Batch size", self.batch_size)
        self.epochs = self._spin(1, 100_000, "epochs")
        self.epochs.setObjectName("run-epochs")
        form.addRow("Epochs per task", self.epochs)
        self.seed = self._spin(0, 2_147_483_647, "seed")
        form.addRow("Seed", self.seed)
        self.device = DeviceCombo()
        self.device.setObjectName("run-device")
        self.device.activated.connect(lambda i: self._set("device", self.device.itemData(i)))
        form.addRow("Device", self.device)
        layout.addLayout(form)
        layout.addStretch(1)
        self.param_widgets: dict[str, QWidget] = {}
        self._params_for: str | None = None
        document.project_changed.connect(self.refresh)
        document.project_replaced.connect(self.refresh)
        document.undo_stack.indexChanged.connect(self.refresh)
        self.refresh()

    def _spin(self, low: int, high: int, name: str) -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(low, high)
        spin.setKeyboardTracking(False)
        spin.valueChanged.connect(lambda v: self._set(name, int(v)))
        return spin

    # ------------------------------------------------------------------ model → widgets

    @property
    def settings(self):
        return self.document.project.settings

    def refresh(self, *args) -> None:
        s = self.settings
        widgets = (self.strategy, self.scenario, self.optimizer, self.lr, self.batch_size, self.epochs, self.seed,
                   self.device)
        for w in widgets:
            w.blockSignals(True)
        try:
            index = self.strategy.findData(s.strategy)
            if index < 0:
                self.strategy.addItem(s.strategy, s.strategy)
                index = self.strategy.count() - 1
            self.strategy.setCurrentIndex(index)
            info = strategy_catalog().get(s.strategy)
            self.doc.setText(info.doc if info else "Unknown strategy: the run will say which ones exist.")
            self.scenario.setCurrentIndex(max(self.scenario.findData(s.scenario), 0))
            self.optimizer.setCurrentIndex(max(self.optimizer.findData(s.optimizer), 0))
            self.lr.setValue(float(s.lr))
            self.batch_size.setValue(int(s.batch_size))
            self.epochs.setValue(int(s.epochs))
            self.seed.setValue(int(s.seed))
            self.device.select(s.device)
        finally:
            for w in widgets:
                w.blockSignals(False)
        self._refresh_params(info)

    def _refresh_params(self, info: StrategyInfo | None) -> None:
        name = info.name if info else None
        if name != self._params_for:
            while self.params_form.rowCount():
                self.params_form.removeRow(0)
            self.param_widgets.clear()
            self._params_for = name
            for key, default in (info.defaults.items() if info else ()):
                editor = _param_editor(default)
                editor.setObjectName(f"strategy-param-{key}")
                editor.setToolTip(f"default: {default}")
                if isinstance(editor, QComboBox):
                    editor.activated.connect(lambda i, k=key: self._set_param(k, bool(i)))
                elif isinstance(editor, QSpinBox):
                    editor.valueChanged.connect(lambda v, k=key: self._set_param(k, int(v)))
                else:
                    editor.valueChanged.connect(lambda v, k=key: self._set_param(k, float(v)))
                label = QLabel(key.replace("_", " "))
                label.setObjectName("dim")
                self.params_form.addRow(label, editor)
                self.param_widgets[key] = editor
        if info is None:
            return
        values = {**info.defaults, **self.settings.strategy_params}
        for key, editor in self.param_widgets.items():
            editor.blockSignals(True)
            if isinstance(editor, QComboBox):
                editor.setCurrentIndex(1 if values[key] else 0)
            else:
                editor.setValue(values[key])
            editor.blockSignals(False)

    # ------------------------------------------------------------------ widgets → model

    def _set(self, name: str, value: Any) -> None:
        if value is None or getattr(self.settings, name) == value:
            return
        if isinstance(value, float) and not math.isfinite(value):
            return
        self.document.push(SetProjectField(f"settings.{name}", value))

    def _on_strategy_activated(self, index: int) -> None:
        name = self.strategy.itemData(index)
        if name == self.settings.strategy:
            return
        stack = self.document.undo_stack
        stack.beginMacro(f"use {self.strategy.itemText(index)}")
        self.document.push(SetProjectField("settings.strategy", name))
        if self.settings.strategy_params:  # another strategy's parameters would be refused
            self.document.push(SetProjectField("settings.strategy_params", {}))
        stack.endMacro()

    def _set_param(self, key: str, value: Any) -> None:
        info = strategy_catalog().get(self.settings.strategy)
        params = dict(self.settings.strategy_params)
        if info is not None and info.defaults.get(key) == value:
            params.pop(key, None)  # defaults are not stored, so they follow the engine's
        else:
            params[key] = value
        if params != self.settings.strategy_params:
            self.document.push(SetProjectField("settings.strategy_params", params))
