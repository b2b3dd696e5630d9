"""The inspector: the selected module's name and params, each change one undoable SetParam; with
nothing selected, the project's name, its file setting and a summary of the next run (whose
settings have their one form in the Training dock's run settings)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QPushButton, QScrollArea, QStackedWidget, QVBoxLayout, QWidget)

from modstudio.graph.catalog import fmt_shape
from modstudio.graph.commands import RenameNode, SetParam
from modstudio.gui.canvas.node_item import fmt_count
from modstudio.gui.icons import category_icon
from modstudio.gui.param_editors import Editor, compact, make_editor
from modstudio.gui.training.run_panel import settings_summary
from modstudio.project.commands import ChangeSettings, RenameProject
from modstudio.project.settings import SETTING_SPECS

def _label(text: str = "", name: str | None = None, wrap: bool = True) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(wrap)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if name:
        label.setObjectName(name)
    return label


class NodePage(QWidget):
    """Editors for one node; rebuilt when another node is selected, refreshed on every edit."""

    def __init__(self, inspector: "Inspector") -> None:
        super().__init__()
        self.inspector = inspector
        self.node_id: str | None = None
        self.editors: dict[str, Editor] = {}
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(10, 10, 10, 10)
        self.layout_.setSpacing(8)
        head = QHBoxLayout()
        self.icon = QLabel()
        self.title = _label(name="heading", wrap=False)
        head.addWidget(self.icon)
        head.addWidget(self.title, 1)
        self.layout_.addLayout(head)
        self.doc = _label(name="dim")
        self.layout_.addWidget(self.doc)
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.layout_.addLayout(self.form)
        self.output = _label()
        self.layout_.addWidget(self.output)
        self.refusal = _label(name="error")
        self.layout_.addWidget(self.refusal)
        self.layout_.addStretch(1)
        self.name_edit: QLineEdit | None = None

    @property
    def document(self):
        return self.inspector.document

    def show_node(self, node_id: str) -> None:
        node = self.document.graph.nodes[node_id]
        if node_id != self.node_id:
            self.node_id = node_id
            self._build(node)
        self.refresh()

    def _build(self, node) -> None:
        # Old editors may fire editingFinished while being destroyed: silence them first.
        for widget in [self.name_edit, *(e.widget for e in self.editors.values())]:
            if widget is not None:
                widget.blockSignals(True)
        while self.form.rowCount():
            self.form.removeRow(0)
        self.editors.clear()
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("node-name")
        self.name_edit.editingFinished.connect(self._on_name_edit_editing_finished)
        self.form.addRow("Name", self.name_edit)
        spec = node.spec
        self.icon.setPixmap(category_icon(spec.category).pixmap(22, 22))
        self.title.setText(spec.title)
        self.doc.setText(f"{spec.doc} <span style='color:#6b7280'>({spec.category})</span>")
        for pspec in spec.params:
            editor = make_editor(pspec)
            editor.setParent(self)
            editor.widget.setObjectName(f"param-{pspec.name}")
            editor.widget.setToolTip(pspec.doc)
            editor.committed.connect(lambda value, name=pspec.name: self._on_editor_committed(name, value))
            editor.invalid.connect(self._on_editor_invalid)
            label = QLabel(pspec.name.replace("_", " "))
            label.setToolTip(pspec.doc)
            self.form.addRow(label, editor.widget)
            self.editors[pspec.name] = editor
        self.refusal.clear()

    def refresh(self) -> None:
        if self.node_id not in self.document.graph.nodes:
            return
        node = self.document.graph.nodes[self.node_id]
        if not self.name_edit.hasFocus():
            self.name_edit.setText(node.name)
        for name, editor in self.editors.items():
            editor.set_value(node.params.get(name))
        report = self.document.report.nodes.get(self.node_id) if self.document.report else None
        if report is None:
            self.output.setText("")
        elif report.error is not None:
            self.output.setText(f"<span style='color:#ff7b7f'>⚠ {report.error.message}</span>")
        else:
            inputs = ", ".join(fmt_shape(s) for s in report.in_shapes) or "—"
            count = fmt_count(report.param_count) or "no parameters"
            self.output.setText(f"in {inputs} → <b>out {fmt_shape(report.shape)}</b><br>{count}")

    def _on_editor_committed(self, name: str, value: Any) -> None:
        error = self.document.push(SetParam(self.node_id, name, value))
        self.refusal.setText(f"Refused: {error}" if error else "")
        if error:
            self.refresh()

    def _on_editor_invalid(self, reason: str) -> None:
        self.refusal.setText(f"Refused: {reason}")
        self.document.message.emit(reason)

    def _on_name_edit_editing_finished(self) -> None:
        if self.node_id not in self.document.graph.nodes:
            return
        name = self.name_edit.text().strip()
        if name and name != self.document.graph.nodes[self.node_id].name:
            error = self.document.push(RenameNode(self.node_id, name))
            self.refusal.setText(f"Refused: {error}" if error else "")
        elif not name:
            self.refusal.setText("Refused: a module's name cannot be empty")
            self.name_edit.setText(self.document.graph.nodes[self.node_id].name)


class ProjectPage(QWidget):
    """Project name, a summary of the network and of the next run, and the file's own setting
    (whether task data is embedded). The training settings have one form, the run settings of the
    Training dock: here they are summarised, with a button that opens that form (two forms over the
    same settings had drifted apart in names and editors)."""

    # Settings about the file rather than the run: edited here, not in the run settings.
    FILE_SETTINGS = ("embed_data",)

    def __init__(self, inspector: "Inspector") -> None:
        super().__init__()
        self.inspector = inspector
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.setSpacing(8)
        layout.addWidget(_label("Project", name="heading"))
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("project-name")
        self.name_edit.editingFinished.connect(self._on_name_edit_editing_finished)
        form.addRow("Name", self.name_edit)
        self.setting_widgets: dict[str, QComboBox] = {}
        for name in self.FILE_SETTINGS:
            spec = SETTING_SPECS[name]
            combo = compact(QComboBox())
            for choice in spec.choices:
                combo.addItem(str(choice), choice)
            combo.setObjectName(f"setting-{name}")
            combo.setToolTip(spec.doc)
            combo.activated.connect(lambda i, n=name, w=combo: self._set(n, w.itemData(i)))
            form.addRow(spec.label, combo)
            self.setting_widgets[name] = combo
        layout.addLayout(form)
        self.summary = _label(name="dim")
        layout.addWidget(self.summary)
        layout.addSpacing(6)
        layout.addWidget(_label("Next run", name="heading"))
        self.run_summary = _label()
        self.run_summary.setObjectName("run-summary")
        layout.addWidget(self.run_summary)
        self.run_settings_button = QPushButton("Run settings…")
        self.run_settings_button.setObjectName("open-run-settings")
        self.run_settings_button.setToolTip("Strategy, scenario, optimiser and every other training setting, "
                                            "in the Training panel")
        self.run_settings_button.clicked.connect(inspector.run_settings_requested)
        row = QHBoxLayout()
        row.addWidget(self.run_settings_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.hint = _label("Select a module on the canvas to edit its parameters.", name="dim")
        layout.addWidget(self.hint)
        layout.addStretch(1)

    @property
    def document(self):
        return self.inspector.document

    def refresh(self) -> None:
        project = self.document.project
        if not self.name_edit.hasFocus():
            self.name_edit.setText(project.name)
        graph, report = self.document.graph, self.document.report
        tasks = len(project.tasks)
        parts = [f"{len(graph.nodes)} modules, {len(graph.edges)} connections, {tasks} task{'s' * (tasks != 1)}"]
        if report is not None:
            parts.append(report.summary())
        self.summary.setText("<br>".join(parts))
        self.run_summary.setText(settings_summary(project.settings))
        for name, combo in self.setting_widgets.items():
            combo.blockSignals(True)
            combo.setCurrentIndex(max(combo.findData(getattr(project.settings, name)), 0))
            combo.blockSignals(False)

    def _set(self, name: str, value: Any) -> None:
        if getattr(self.document.project.settings, name) != value:
            self.document.push(ChangeSettings(**{name: value}))

    def _on_name_edit_editing_finished(self) -> None:
        name = self.name_edit.text().strip()
        if name and name != self.document.project.name:
            self.document.push(RenameProject(name))
        elif not name:
            self.name_edit.setText(self.document.project.name)


class Inspector(QScrollArea):
    run_settings_requested = Signal()  # the project page's "Run settings…": the window shows that form

    def __init__(self, document, scene, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document, self.scene = document, scene
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.pages = QStackedWidget()
        self.node_page = NodePage(self)
        self.project_page = ProjectPage(self)
        self.multi_page = QWidget()
        multi = QVBoxLayout(self.multi_page)
        multi.setContentsMargins(10, 10, 10, 10)
        self.multi_label = _label(name="heading")
        multi.addWidget(self.multi_label)
        multi.addWidget(_label("Group them (Ctrl+G), copy, duplicate or delete them together; "
                               "drag any of them to move all.", name="dim"))
        multi.addStretch(1)
        for page in (self.project_page, self.node_page, self.multi_page):
            self.pages.addWidget(page)
        self.setWidget(self.pages)
        scene.selectionChanged.connect(self._on_scene_selection_changed)
        document.undo_stack.indexChanged.connect(self._on_undo_stack_index_changed)
        document.checked.connect(self._on_document_checked)
        document.project_replaced.connect(self._on_scene_selection_changed)
        document.name_changed.connect(self._on_document_name_changed)
        document.settings_changed.connect(self._on_document_settings_changed)
        document.tasks_changed.connect(self._on_document_tasks_changed)
        self._on_scene_selection_changed()

    def _on_scene_selection_changed(self) -> None:
        try:
            ids = self.scene.selected_node_ids()
        except RuntimeError:  # scene already gone while the window closes
            return
        if len(ids) == 1:
            self.node_page.show_node(ids[0])
            self.pages.setCurrentWidget(self.node_page)
        elif ids:
            self.multi_label.setText(f"{len(ids)} modules selected")
            self.pages.setCurrentWidget(self.multi_page)
        else:
            self.node_page.node_id = None
            self.project_page.refresh()
            self.pages.setCurrentWidget(self.project_page)

    def _on_undo_stack_index_changed(self, index: int = 0) -> None:
        page = self.pages.currentWidget()
        if page is self.node_page:
            if self.node_page.node_id in self.document.graph.nodes:
                self.node_page.refresh()
            else:
                self._on_scene_selection_changed()
        elif page is self.project_page:
            self.project_page.refresh()

    def _on_document_checked(self, report=None) -> None:
        self._on_undo_stack_index_changed()

    def _on_document_name_changed(self, name: str) -> None:
        self._on_undo_stack_index_changed()

    def _on_document_settings_changed(self, settings) -> None:
        self._on_undo_stack_index_changed()

    def _on_document_tasks_changed(self) -> None:
        self._on_undo_stack_index_changed()
