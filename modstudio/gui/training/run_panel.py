"""Run settings: strategy and its parameters, scenario, optimiser, learning rate, batch size, epochs,
seed and device, then every other declared setting (schedule, early stopping, …), each with an
editor built from its spec. Every change is one undoable ``ChangeSettings`` on the project's settings.

What there is to choose comes from the declarations: the strategies and their typed parameters
from the strategy specs (``modstudio.project.strategy_specs``, torch-free, so the panel is built
without importing torch), the settings' titles, ranges and choices from ``SETTING_SPECS``.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFormLayout, QLabel, QLineEdit, QSpinBox, QVBoxLayout,
                               QWidget)

from modstudio.graph.catalog import ParamSpec
from modstudio.gui.param_editors import COMPACT_WIDTH, INT_LIMIT, compact
from modstudio.gui.training.devices import DeviceCombo
from modstudio.project import features, strategy_specs
from modstudio.project.commands import ChangeSettings
from modstudio.project.seeds import SeedListError, parse_seeds
from modstudio.project.settings import SETTING_SPECS


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


def _param_editor(spec: ParamSpec) -> QWidget:
    """An editor for one strategy parameter, ranged by its spec."""
    if spec.type in ("bool", "choice"):  # a combo whose item data are the values
        w = QComboBox()
        for text, value in ((("no", False), ("yes", True)) if spec.type == "bool" else
                            ((str(c), c) for c in spec.choices)):
            w.addItem(text, value)
        return w
    low = spec.min if spec.min is not None else 0
    high = spec.max if spec.max is not None else INT_LIMIT
    if spec.type == "int":
        w = QSpinBox()
        w.setRange(int(max(low, -INT_LIMIT)), int(min(high, INT_LIMIT)))
        w.setKeyboardTracking(False)
        return w
    default = float(spec.default)
    if default == 0 or default >= 100 or default < 0.01:
        return SciSpin(float(low), float(high))
    w = QDoubleSpinBox()
    w.setDecimals(4)
    w.setRange(float(low), float(high))
    w.setSingleStep(0.1 if default >= 0.1 else 0.01)
    w.setKeyboardTracking(False)
    return w


def _spec_tip(spec: ParamSpec) -> str:
    return f"{spec.doc} (default: {spec.default})"


def settings_summary(settings) -> str:
    """The next run in a few words (the inspector's project page): strategy, scenario, epochs and
    batch, optimiser and rate, in the run settings' own wording."""
    spec = strategy_specs.find(settings.strategy)
    strategy = spec.title if spec else f"{settings.strategy} (unknown)"
    text = RunPanel.CHOICE_TEXT
    scenario = text["scenario"].get(settings.scenario, settings.scenario)
    optimizer = text["optimizer"].get(settings.optimizer, settings.optimizer)
    epochs = f"{settings.epochs} epoch{'s' * (settings.epochs != 1)} per task"
    return (f"<b>{strategy}</b><br>{scenario}<br>{epochs}, batch {settings.batch_size}<br>"
            f"{optimizer} at {settings.lr:.4g}, seed {settings.seed}")


class RunPanel(QWidget):
    # The choices' wording here, per setting; the choices themselves are SETTING_SPECS' (a test keeps
    # them in step). A choice without wording shows its value.
    CHOICE_TEXT = {
        "scenario": {"task": "Task-incremental", "class": "Class-incremental"},
        "optimizer": {"adam": "Adam", "adamw": "AdamW", "sgd": "SGD"},
        "lr_schedule": {"constant": "Constant", "step": "Step", "cosine": "Cosine"},
        "evaluate": {"epoch": "Every epoch (live curves)", "task": "Each task's end (faster)"},
    }
    # Settings with a row of their own below; embed_data is about the file (the inspector shows it).
    # Every other declared setting gets a row built from its spec, so a new one appears by itself.
    OWN_ROWS = ("strategy", "scenario", "optimizer", "lr", "batch_size", "epochs", "seed", "device")
    NOT_HERE = ("embed_data",)

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
        for spec in strategy_specs.specs():
            self.strategy.addItem(spec.title, spec.name)
            self.strategy.setItemData(self.strategy.count() - 1, f"{spec.doc}\n{spec.reference}",
                                      Qt.ItemDataRole.ToolTipRole)
        self.strategy.activated.connect(self._on_strategy_activated)
        form.addRow(SETTING_SPECS["strategy"].label, self.strategy)
        self.doc = QLabel()
        self.doc.setObjectName("dim")
        self.doc.setWordWrap(True)
        form.addRow(self.doc)
        self.params_form = QFormLayout()
        self.params_form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.params_form.setVerticalSpacing(4)
        form.addRow(self.params_form)
        self.scenario = self._choices("scenario")
        form.addRow(SETTING_SPECS["scenario"].label, self.scenario)
        self.optimizer = self._choices("optimizer")
        form.addRow(SETTING_SPECS["optimizer"].label, self.optimizer)
        lr = SETTING_SPECS["lr"]
        self.lr = SciSpin(max(lr.min, 1e-12), lr.max)
        self.lr.setObjectName("run-lr")
        self.lr.setToolTip(lr.doc)
        self.lr.valueChanged.connect(lambda v: self._set("lr", float(v)))
        form.addRow(lr.label, self.lr)
        self.batch_size = self._spin("batch_size")
        form.addRow(SETTING_SPECS["batch_size"].label, self.batch_size)
        self.epochs = self._spin("epochs")
        self.epochs.setObjectName("run-epochs")
        form.addRow(SETTING_SPECS["epochs"].label, self.epochs)
        self.seed = self._spin("seed")
        form.addRow(SETTING_SPECS["seed"].label, self.seed)
        self.seeds = QLineEdit()
        self.seeds.setObjectName("run-seeds")
        self.seeds.setPlaceholderText("the seed above")
        self.seeds.setToolTip("Train the same settings once per seed, one run each (0-4, or 0,2,7); the Runs "
                              "tab shows their mean ± sd. Empty: one run with the seed above.")
        self.seeds.textChanged.connect(self._on_seeds_text_changed)
        form.addRow("Seeds", self.seeds)
        self.seeds_error = QLabel()
        self.seeds_error.setObjectName("error")
        self.seeds_error.setWordWrap(True)
        self.seeds_error.hide()
        form.addRow(self.seeds_error)
        self.device = DeviceCombo()
        self.device.setObjectName("run-device")
        self.device.setToolTip(SETTING_SPECS["device"].doc)
        self.device.activated.connect(lambda i: self._set("device", self.device.itemData(i)))
        form.addRow(SETTING_SPECS["device"].label, self.device)
        self.setting_widgets: dict[str, QWidget] = {}  # the rows built from specs alone
        for name, spec in SETTING_SPECS.items():
            if name not in self.OWN_ROWS and name not in self.NOT_HERE:
                self.setting_widgets[name] = self._setting_editor(name)
                form.addRow(spec.label, self.setting_widgets[name])
        for widget in (self.strategy, self.scenario, self.optimizer, self.lr, self.batch_size, self.epochs,
                       self.seed, self.device, *self.setting_widgets.values()):
            compact(widget)
        layout.addLayout(form)
        layout.addStretch(1)
        self.param_widgets: dict[str, QWidget] = {}
        self.param_labels: dict[str, QLabel] = {}
        self.class_heading: QLabel | None = None  # over the class-scenario parameters, and the note
        self.class_note: QLabel | None = None  # that stands for them in the task scenario
        self._params_for: str | None = None
        document.settings_changed.connect(self._on_document_settings_changed)
        document.project_replaced.connect(self.refresh)
        self.refresh()

    def _spin(self, name: str) -> QSpinBox:
        spec = SETTING_SPECS[name]
        spin = QSpinBox()
        spin.setRange(int(spec.min), int(min(spec.max, INT_LIMIT)))
        spin.setKeyboardTracking(False)
        spin.setToolTip(spec.doc)
        spin.valueChanged.connect(lambda v: self._set(name, int(v)))
        return spin

    def _choices(self, name: str) -> QComboBox:
        spec = SETTING_SPECS[name]
        combo = QComboBox()
        for value in spec.choices:
            combo.addItem(self.CHOICE_TEXT.get(name, {}).get(value, value), value)
        combo.setToolTip(spec.doc)
        combo.activated.connect(lambda i: self._set(name, combo.itemData(i)))
        return combo

    def _setting_editor(self, name: str) -> QWidget:
        """An editor for a setting from its spec alone (type, range, choices), wired to ``_set``."""
        spec = SETTING_SPECS[name]
        if spec.type not in ("bool", "choice", "int", "float"):  # pragma: no cover - a text setting needs a row
            raise AssertionError(f"no editor for setting {name} ({spec.type}): give it a row of its own")
        editor = _param_editor(spec)
        editor.setObjectName(f"run-{name}")
        editor.setToolTip(_spec_tip(spec))
        if isinstance(editor, QComboBox):
            for i in range(editor.count()):
                value = editor.itemData(i)
                editor.setItemText(i, self.CHOICE_TEXT.get(name, {}).get(value, editor.itemText(i)))
            editor.activated.connect(lambda i: self._set(name, editor.itemData(i)))
        elif isinstance(editor, QSpinBox):
            editor.valueChanged.connect(lambda v: self._set(name, int(v)))
        else:
            editor.valueChanged.connect(lambda v: self._set(name, float(v)))
        return editor

    def _on_document_settings_changed(self, settings) -> None:
        self.refresh()

    # ------------------------------------------------------------------ model → widgets

    @property
    def settings(self):
        return self.document.project.settings

    def refresh(self, *args) -> None:
        s = self.settings
        widgets = (self.strategy, self.scenario, self.optimizer, self.lr, self.batch_size, self.epochs, self.seed,
                   self.device, *self.setting_widgets.values())
        for w in widgets:
            w.blockSignals(True)
        try:
            index = self.strategy.findData(s.strategy)
            if index < 0:
                self.strategy.addItem(s.strategy, s.strategy)
                index = self.strategy.count() - 1
            self.strategy.setCurrentIndex(index)
            spec = strategy_specs.find(s.strategy)
            self.doc.setText(spec.doc if spec else "Unknown strategy: choose one of the list to train.")
            self.scenario.setCurrentIndex(max(self.scenario.findData(s.scenario), 0))
            self.optimizer.setCurrentIndex(max(self.optimizer.findData(s.optimizer), 0))
            self.lr.setValue(float(s.lr))
            self.batch_size.setValue(int(s.batch_size))
            self.epochs.setValue(int(s.epochs))
            self.seed.setValue(int(s.seed))
            self.device.select(s.device)
            for name, editor in self.setting_widgets.items():
                value = getattr(s, name)
                if isinstance(editor, QComboBox):
                    editor.setCurrentIndex(max(editor.findData(value), 0))
                else:
                    editor.setValue(value)
        finally:
            for w in widgets:
                w.blockSignals(False)
        self._refresh_params(spec)

    def _refresh_params(self, spec: strategy_specs.StrategySpec | None) -> None:
        """The strategy's parameters: its own first, then those only a class-incremental run uses
        (how it infers the task) under a heading of their own. Only the parameters that take effect
        with the chosen scenario and task inference are shown (``features.param_applies``); in the
        task scenario a line says how many more the class scenario has."""
        name = spec.name if spec else None
        if name != self._params_for:
            while self.params_form.rowCount():
                self.params_form.removeRow(0)
            self.param_widgets.clear()
            self.param_labels: dict[str, QLabel] = {}
            self._params_for = name
            params = list(spec.params if spec else ())
            general = [p for p in params if not features.class_only(spec, p.name)]
            inferred = [p for p in params if features.class_only(spec, p.name)]
            for param in general:
                self._add_param_row(param)
            self.class_heading = QLabel("Class scenario: inferring the task")
            self.class_heading.setObjectName("form-section")
            self.class_heading.setWordWrap(True)
            self.class_heading.setToolTip("Parameters only a class-incremental run uses: how it reads a prediction "
                                          "without the task id, and what that readout trains on")
            self.class_note = QLabel()
            self.class_note.setObjectName("dim")
            self.class_note.setWordWrap(True)
            if inferred:
                self.params_form.addRow(self.class_heading)
                for param in inferred:
                    self._add_param_row(param)
                self.params_form.addRow(self.class_note)
                self.class_note.setText(f"+ {len(inferred)} parameters for the class scenario")
                self.class_note.setToolTip("Choose the class-incremental scenario to set them: "
                                           + ", ".join(p.label for p in inferred))
        if spec is None:
            return
        values = {**spec.defaults(), **self.settings.strategy_params}
        for key, editor in self.param_widgets.items():
            editor.blockSignals(True)
            if isinstance(editor, QComboBox):
                editor.setCurrentIndex(max(editor.findData(values[key]), 0))
            else:
                editor.setValue(values[key])
            editor.blockSignals(False)
            self.params_form.setRowVisible(editor, features.param_applies(spec, key, self.settings.scenario,
                                                                          self.settings.strategy_params))
        class_scenario = self.settings.scenario == "class"
        if self.class_heading is not None and self.class_heading.parent() is not None:  # it has some
            self.params_form.setRowVisible(self.class_heading, class_scenario)
            self.params_form.setRowVisible(self.class_note, not class_scenario)

    def _add_param_row(self, param: ParamSpec) -> None:
        key = param.name
        editor = compact(_param_editor(param))
        editor.setObjectName(f"strategy-param-{key}")
        editor.setToolTip(_spec_tip(param))
        if isinstance(editor, QComboBox):
            editor.activated.connect(lambda i, k=key, e=editor: self._set_param(k, e.itemData(i)))
        elif isinstance(editor, QSpinBox):
            editor.valueChanged.connect(lambda v, k=key: self._set_param(k, int(v)))
        else:
            editor.valueChanged.connect(lambda v, k=key: self._set_param(k, float(v)))
        label = QLabel(param.label)
        label.setObjectName("dim")
        label.setToolTip(param.doc)
        self.params_form.addRow(label, editor)
        self.param_widgets[key] = editor
        self.param_labels[key] = label

    def natural_width(self) -> int:
        """The width at which every label and every choice shows in full, whichever strategy and
        scenario are chosen: the Training dock's settings column starts this wide."""
        from modstudio.gui.fit import combo_width

        metrics = self.fontMetrics()
        labels = [spec.label for name, spec in SETTING_SPECS.items() if name not in self.NOT_HERE]
        params = [p for spec in strategy_specs.specs() for p in spec.params]
        labels += [p.label for p in params]
        label = max(metrics.horizontalAdvance(text) for text in labels)
        combos = [c for c in self.findChildren(QComboBox) if c.parent() is not None]
        choices = [str(c) for p in params if p.type == "choice" for c in p.choices]
        field = max([combo_width(c) for c in combos] + [combo_width(self.strategy, choices), COMPACT_WIDTH + 24])
        margins = self.layout().contentsMargins()
        return label + 8 + field + margins.left() + margins.right()

    def seed_list(self) -> list[int] | None:
        """The seeds to train, one run each, or None for one run with the Seed setting; SeedListError
        (a ValueError naming the problem) for a list that is not one."""
        text = self.seeds.text().strip()
        return parse_seeds(text) if text else None

    def _on_seeds_text_changed(self, text: str) -> None:
        try:
            self.seed_list()
        except SeedListError as exc:
            self.seeds_error.setText(f"Seeds: {exc}")
            self.seeds_error.show()
        else:
            self.seeds_error.hide()

    def shown_params(self) -> list[str]:
        """The strategy parameters the panel shows now, in order."""
        return [key for key, editor in self.param_widgets.items() if self.params_form.isRowVisible(editor)]

    # ------------------------------------------------------------------ widgets → model

    def _set(self, name: str, value: Any) -> None:
        if value is None or getattr(self.settings, name) == value:
            return
        if isinstance(value, float) and not math.isfinite(value):
            return
        self.document.push(ChangeSettings(**{name: value}))

    def _on_strategy_activated(self, index: int) -> None:
        name = self.strategy.itemData(index)
        if name == self.settings.strategy:
            return
        # another strategy's parameters would be refused: they go in the same step
        self.document.push(ChangeSettings(f"use {self.strategy.itemText(index)}", strategy=name, strategy_params={}))

    def _set_param(self, key: str, value: Any) -> None:
        spec = strategy_specs.find(self.settings.strategy)
        params = dict(self.settings.strategy_params)
        if spec is not None and spec.defaults().get(key) == value:
            params.pop(key, None)  # defaults are not stored, so they follow the engine's
        else:
            params[key] = value
        if params != self.settings.strategy_params:
            self.document.push(ChangeSettings(strategy_params=params))
