"""First run: the welcome page with no project, examples that open in one click, recent files,
the help pages, and the theme switch."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from modstudio.examples import list_examples
from modstudio.gui import settings, theme, welcome
from tests.data.benchmark_files import benchmark_env  # noqa: F401  (fixture)


@pytest.fixture
def welcome_window(make_window, monkeypatch):
    from modstudio.gui.main_window import MainWindow

    windows = []
    original = MainWindow.__init__

    def init(self, project=None, path=None, show_welcome=True):  # what `modstudio` with no project does
        original(self, project, path, show_welcome=show_welcome)

    monkeypatch.setattr(MainWindow, "__init__", init)
    w = make_window()
    windows.append(w)
    return w


def test_the_welcome_page_shows_with_no_project_and_lists_the_examples(welcome_window):
    w = welcome_window
    assert welcome.is_shown(w) and w.welcome.isVisible() and not w.view.isVisible()
    examples = list_examples()
    assert list(w.welcome.cards) == [e.name for e in examples]
    for e in examples:
        card = w.welcome.cards[e.name]
        assert card.title_label.text() == e.title and card.text_label.text() == e.description
        assert card.isVisible()


def test_a_benchmark_example_appears_once_its_data_is_downloaded(benchmark_env, welcome_window):
    from modstudio.data.benchmarks import get

    w = welcome_window
    assert "split-mnist" not in w.welcome.cards and "split-mnist" in w.welcome.missing
    get("mnist")  # as `modstudio data get mnist` in a terminal would
    welcome.show(w)
    assert {"split-mnist", "permuted-mnist"} <= set(w.welcome.cards)
    assert "split-mnist" not in w.welcome.missing and "Split MNIST" not in w.welcome.missing_label.text()
    assert w.welcome.cards["split-mnist"].title_label.text() == "Split MNIST (5 × 2)"


def test_an_example_without_its_benchmark_is_a_link_that_offers_the_download_then_opens(
        benchmark_env, welcome_window, script, qtbot):
    w = welcome_window
    page = w.welcome
    assert "split-cifar10" not in page.cards and "split-cifar10" in page.missing
    assert page.missing_label.isVisible()
    text = page.missing_label.text()
    assert '<a href="split-cifar10">Split CIFAR-10 (5 × 2, conv net)</a> (CIFAR-10,' in text
    assert '<a href="split-cifar100">Split CIFAR-100 (10 × 10, conv net with residual blocks)</a>' in text
    offered = []

    def download(dialog):  # the user presses Download in Add Tasks' download dialog, then Close
        offered.append(dialog.choice.currentData())
        with qtbot.waitSignal(dialog.downloaded, timeout=30_000):
            assert dialog.start()
        return False

    script.answer("exec_dialog", download)
    page.missing_label.linkActivated.emit("split-cifar10")  # a click on its link
    assert offered == ["cifar10"]
    project = w.document.project
    assert project.name == "split CIFAR-10" and len(project.tasks) == 5 and w.document.report.ok
    assert [n.kind for n in project.graph.nodes.values()].count("conv_block") == 3
    assert not welcome.is_shown(w)
    welcome.show(w)
    assert "split-cifar10" in page.cards and "split-cifar10" not in page.missing
    assert "Split CIFAR-10 (" not in page.missing_label.text()


def test_closing_the_download_dialog_without_downloading_keeps_the_welcome_page(benchmark_env, welcome_window, script):
    w = welcome_window
    script.answer("exec_dialog", False)
    assert not welcome.offer_download(w, "split-cifar100")
    assert welcome.is_shown(w) and "split-cifar100" in w.welcome.missing
    assert len(script.called("exec_dialog")) == 1 and w.document.project.tasks == []


def test_the_links_to_the_examples_at_real_scale_show_at_1280_by_800(benchmark_env, welcome_window, qtbot):
    from PySide6.QtWidgets import QScrollArea

    w = welcome_window
    w.resize(1280, 800)
    w.default_layout()
    qtbot.wait(20)
    assert len(w.welcome.missing) == 4
    assert not w.welcome.missing_label.visibleRegion().isEmpty()
    assert not w.welcome.findChild(QScrollArea).verticalScrollBar().isVisible()


def test_a_plain_window_opens_on_the_canvas(window):
    assert not welcome.is_shown(window) and window.view.isVisible()


def test_one_click_on_an_example_opens_it_ready_to_train(welcome_window):
    w = welcome_window
    card = w.welcome.cards["split-digits"]
    QTest.mouseClick(card, Qt.MouseButton.LeftButton)
    project = w.document.project
    assert project.name == "split digits"
    assert len(project.graph.nodes) >= 3 and len(project.tasks) == 5
    assert w.document.report.ok
    assert not welcome.is_shown(w) and w.view.isVisible()
    assert len(w.scene.nodes) == len(project.graph.nodes)
    assert w.tasks_panel.tree.topLevelItemCount() == 5
    assert "ready" in w.statusBar().currentMessage()


def test_an_example_card_opens_from_the_keyboard(welcome_window):
    card = welcome_window.welcome.cards["split-signals"]
    card.setFocus()
    QTest.keyClick(card, Qt.Key.Key_Return)
    assert welcome_window.document.project.name == "split signals"


def test_recent_projects_are_listed_and_open(make_window, script, tmp_path):
    from modstudio.examples import build_example
    from modstudio.gui.main_window import MainWindow

    path = tmp_path / "mine.modstudio"
    build_example("split-digits").save(path, backup=False)
    settings.add_recent_file(path)
    w = MainWindow(show_welcome=True)
    try:
        w.show()
        assert w.welcome.recent_paths() == [str(path.resolve())]
        assert w.welcome.recent_list.isVisible() and not w.welcome.recent_empty.isVisible()
        item = w.welcome.recent_list.item(0)
        assert "mine" in item.text()
        w.welcome.recent_list.itemClicked.emit(item)
        assert w.document.path == path.resolve() or w.document.path == path
        assert not welcome.is_shown(w) and len(w.document.project.tasks) == 5
    finally:
        w.document.undo_stack.setClean()
        w.close()
        w.deleteLater()


def test_no_recent_projects_says_so(welcome_window):
    assert welcome_window.welcome.recent_paths() == []
    assert welcome_window.welcome.recent_empty.isVisible()


def test_new_project_and_first_edit_hide_the_welcome(welcome_window):
    w = welcome_window
    w.welcome.new_button.click()
    assert not welcome.is_shown(w)
    w.welcome_action.trigger()  # View → Welcome Page brings it back
    assert welcome.is_shown(w)
    w.palette.kind_activated.emit("linear")
    assert not welcome.is_shown(w) and len(w.document.project.graph.nodes) == 1


def test_open_from_the_welcome_asks_for_a_file(welcome_window, script):
    script.answer("ask_open_project", None)
    welcome_window.welcome.open_button.click()
    assert script.called("ask_open_project") and welcome.is_shown(welcome_window)


def test_help_pages(welcome_window, qtbot):
    from modstudio.gui.help import HelpWindow

    w = welcome_window
    w.welcome.guide_button.click()
    guides = [c for c in w.findChildren(HelpWindow) if c.isVisible()]
    assert len(guides) == 1
    text = guides[0].browser.toPlainText()
    for word in ("forgetting", "BWT", "finetune", "joint", "ewc", "replay", "lwf", "progressive", "expansion"):
        assert word in text
    w.guide_action.trigger()  # Help menu: the same window, raised, not a second one
    assert len([c for c in w.findChildren(HelpWindow) if c.isVisible()]) == 1
    guides[0].close()


def test_theme_switch_changes_palette_and_canvas(qapp, monkeypatch):
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtGui import QPalette

    monkeypatch.delenv(theme.THEME_ENV, raising=False)
    # windows of earlier tests wait for deletion; restyling them all would only cost time
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    print("widgets alive:", len(qapp.allWidgets()))
    try:
        assert theme.apply(qapp, "dark") == "dark" and theme.is_dark()
        dark_window = qapp.palette().color(QPalette.ColorRole.Window)
        dark_canvas, dark_text = theme.CANVAS_BG, theme.TEXT
        assert "#23272e" in qapp.styleSheet() and not re.search(r"\$[a-z]", qapp.styleSheet())
        assert theme.set_mode(qapp, "light") == "light" and theme.current() == "light"
        assert qapp.palette().color(QPalette.ColorRole.Window) != dark_window
        assert qapp.palette().color(QPalette.ColorRole.Window).lightness() > dark_window.lightness()
        assert theme.CANVAS_BG != dark_canvas and theme.TEXT != dark_text
        assert "#23272e" not in qapp.styleSheet()
        assert theme.stored_mode() == "light"  # remembered in the settings
        monkeypatch.setenv(theme.THEME_ENV, "dark")
        assert theme.stored_mode() == "dark"  # the environment wins
        assert theme.apply(qapp, "system") in ("light", "dark")
        assert theme.mode() == "system"
    finally:
        theme.apply(qapp, "dark")


def test_theme_menu_lists_the_modes(window):
    from modstudio.gui.main_window import window_menu

    view = window_menu(window, "View")
    menu = next(a.menu() for a in view.actions() if a.menu() and a.text().replace("&", "") == "Theme")
    assert [a.data() for a in menu.actions()] == ["system", "light", "dark"]


def test_the_welcome_page_shows_every_section_at_1280_by_800(welcome_window, qtbot):
    """The bottom docks (no tasks, no run yet) step aside while the page shows, so it needs no scroll
    bar; they come back, as they were, when an example opens."""
    from PySide6.QtWidgets import QScrollArea

    w = welcome_window
    w.resize(1280, 800)
    w.default_layout()
    qtbot.wait(20)
    assert w.tasks_dock.isHidden() and w.training.dock.isHidden()
    scroll = w.welcome.findChild(QScrollArea)
    assert not scroll.verticalScrollBar().isVisible() and not scroll.horizontalScrollBar().isVisible()
    for button in (w.welcome.new_button, w.welcome.open_button, w.welcome.guide_button, w.welcome.shortcuts_button,
                   *w.welcome.cards.values()):
        assert not button.visibleRegion().isEmpty()
    assert welcome.open_example(w, list_examples()[0].name)
    qtbot.wait(20)
    assert not w.tasks_dock.isHidden() and not w.training.dock.isHidden()
    assert not w.tasks_dock.visibleRegion().isEmpty()  # in front, as it was
