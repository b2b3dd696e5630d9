"""Colours and the style sheet: one place, so the canvas, palette and panels agree.

Two themes, dark and light, each a Fusion palette, a set of canvas colours and the values for the
``modstudio/resources/styles/studio.qss`` template. The user picks "system" (the default: follow the
desktop's colour scheme through ``QStyleHints.colorScheme()``, Qt 6.5+, and switch live when it
changes), "light" or "dark" (View → Theme, stored in the settings; ``MODSTUDIO_THEME`` overrides).

The canvas items read the module attributes (``theme.CANVAS_BG``, ``theme.TEXT``, …) at paint
time, so switching a theme swaps those attributes and repaints.
"""

from __future__ import annotations

import os
from string import Template

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from modstudio.gui.resources import resource_file

MODES = ("system", "light", "dark")
THEME_ENV = "MODSTUDIO_THEME"
SETTINGS_KEY = "ui/theme"

CATEGORY_COLORS = {
    "Input / output": "#3a9d6e",
    "Dense": "#3d7bd9",
    "Convolution": "#7a5bd6",
    "Pooling": "#a35bc9",
    "Shape": "#6b7a8f",
    "Activation": "#e0912f",
    "Normalization": "#2ba3b8",
    "Regularization": "#d06b8f",
    "Merge": "#8a9a2b",
    "Blocks": "#4a5fc1",
}
FALLBACK_COLOR = "#7d8590"

# Canvas colours per theme; the module attributes below hold the current theme's.
CANVAS = {
    "dark": {
        "CANVAS_BG": QColor("#1d2025"), "GRID_MINOR": QColor("#24282e"), "GRID_MAJOR": QColor("#2c3138"),
        "NODE_BODY": QColor("#2a2f37"), "NODE_BORDER": QColor("#3b424c"), "NODE_SELECTED": QColor("#f2c94c"),
        "TEXT": QColor("#e6e9ed"), "TEXT_DIM": QColor("#9aa4b1"), "EDGE": QColor("#8792a2"),
        "EDGE_SELECTED": QColor("#f2c94c"), "PORT": QColor("#c9d1db"), "OK": QColor("#4cc38a"),
        "REFUSED": QColor("#e5484d"), "ERROR": QColor("#e5484d"),
        "GROUP_FILL": QColor(120, 150, 200, 28), "GROUP_BORDER": QColor(140, 170, 220, 120),
    },
    "light": {
        "CANVAS_BG": QColor("#f4f5f7"), "GRID_MINOR": QColor("#eaecef"), "GRID_MAJOR": QColor("#dde1e6"),
        "NODE_BODY": QColor("#ffffff"), "NODE_BORDER": QColor("#c3cad4"), "NODE_SELECTED": QColor("#b07d00"),
        "TEXT": QColor("#1f2328"), "TEXT_DIM": QColor("#5d6673"), "EDGE": QColor("#7d8794"),
        "EDGE_SELECTED": QColor("#b07d00"), "PORT": QColor("#59626f"), "OK": QColor("#1f9d63"),
        "REFUSED": QColor("#d1242f"), "ERROR": QColor("#d1242f"),
        "GROUP_FILL": QColor(61, 123, 217, 20), "GROUP_BORDER": QColor(61, 123, 217, 110),
    },
}

# Window palette and style-sheet values per theme. "control" outlines what can be clicked or typed
# into (fields, buttons, combo boxes, check and radio indicators); "border" is for quiet dividers
# (cards, plot axes) that need not stand out. "check" is the mark drawn on a checked indicator
# (filled with "accent"), "highlighted_text" the text on a "highlight".
CHROME = {
    "dark": {
        "window": "#272b32", "base": "#1f2228", "alternate": "#252930", "text": "#e6e9ed", "disabled": "#6b7280",
        "tooltip": "#30353d", "button": "#2d323a", "button_hover": "#353b45", "highlight": "#3d6fb6",
        "highlighted_text": "#ffffff", "link": "#8fb4ff", "placeholder": "#8b94a1", "bright": "#ff6b6b",
        "chrome": "#23272e", "separator": "#1b1e23", "hover": "#323843", "border": "#3b424c", "field": "#1f2228",
        "control": "#7b8390", "accent": "#5b8def", "check": "#ffffff", "dim": "#9aa4b1", "error": "#ff7b7f",
        "page": "#1d2025", "card": "#252930", "card_hover": "#2b3038",
    },
    "light": {
        "window": "#eef0f3", "base": "#ffffff", "alternate": "#f5f6f8", "text": "#1f2328", "disabled": "#9aa1ab",
        "tooltip": "#ffffff", "button": "#fbfbfc", "button_hover": "#eef1f5", "highlight": "#2f6bc6",
        "highlighted_text": "#ffffff", "link": "#1f5fbf", "placeholder": "#6b7380", "bright": "#d1242f",
        "chrome": "#e6e9ed", "separator": "#d0d5dc", "hover": "#d9dee5", "border": "#c3cad4", "field": "#ffffff",
        "control": "#7b8390", "accent": "#3d7bd9", "check": "#ffffff", "dim": "#5d6673", "error": "#c62828",
        "page": "#f4f5f7", "card": "#ffffff", "card_hover": "#f7f9fc",
    },
}

# Which colour is drawn on which, for the WCAG AA check (tests/gui/test_theme.py): text needs a
# contrast ratio of 4.5:1 with every background it appears on, the outlines and marks of controls
# and of the canvas's graphics 3:1 (WCAG 1.4.3 and 1.4.11). Disabled text is exempt, as in WCAG.
_SURFACES = ("window", "base", "alternate", "button", "button_hover", "tooltip", "chrome", "hover", "field",
             "page", "card", "card_hover")
TEXT_PAIRS = {
    "text": _SURFACES,
    "dim": ("window", "base", "alternate", "button", "tooltip", "chrome", "field", "page", "card", "card_hover"),
    "placeholder": ("field", "base"),
    "link": ("window", "base", "page", "card"),
    "error": ("window", "base", "field"),
    "highlighted_text": ("highlight",),
}
CONTROL_PAIRS = {
    "control": ("window", "base", "button", "chrome", "field", "card"),
    "accent": ("window", "base", "field", "button"),  # focus outline, default button, checked indicator
    "check": ("accent",),
}
CANVAS_TEXT_PAIRS = {"TEXT": ("NODE_BODY", "CANVAS_BG"), "TEXT_DIM": ("NODE_BODY", "CANVAS_BG")}
CANVAS_MARK_PAIRS = {
    "EDGE": ("CANVAS_BG",), "EDGE_SELECTED": ("CANVAS_BG",), "PORT": ("NODE_BODY", "CANVAS_BG"),
    "NODE_SELECTED": ("NODE_BODY", "CANVAS_BG"), "OK": ("NODE_BODY", "CANVAS_BG"),
    "REFUSED": ("NODE_BODY", "CANVAS_BG"), "ERROR": ("NODE_BODY", "CANVAS_BG"),
}


def relative_luminance(color) -> float:
    """WCAG 2's relative luminance of an sRGB colour (0 black … 1 white)."""
    c = QColor(color)

    def linear(v: float) -> float:
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(c.redF()) + 0.7152 * linear(c.greenF()) + 0.0722 * linear(c.blueF())


def contrast_ratio(a, b) -> float:
    """WCAG 2's contrast ratio of two opaque colours, 1 … 21."""
    hi, lo = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


CANVAS_BG = GRID_MINOR = GRID_MAJOR = NODE_BODY = NODE_BORDER = NODE_SELECTED = QColor()
TEXT = TEXT_DIM = EDGE = EDGE_SELECTED = PORT = OK = REFUSED = ERROR = GROUP_FILL = GROUP_BORDER = QColor()

_current = "dark"
_mode = "system"


def _set_canvas(name: str) -> None:
    globals().update({key: QColor(value) for key, value in CANVAS[name].items()})


_set_canvas("dark")


class _Notifier(QObject):
    changed = Signal(str)  # "light" or "dark", after the theme was applied


_notifier: _Notifier | None = None


def notifier() -> _Notifier:
    """``notifier().changed`` fires after every theme switch (plots and custom painters listen)."""
    global _notifier
    if _notifier is None:
        _notifier = _Notifier()
    return _notifier


def category_color(category: str) -> QColor:
    return QColor(CATEGORY_COLORS.get(category, FALLBACK_COLOR))


def current() -> str:
    """The theme in use: "light" or "dark"."""
    return _current


def is_dark() -> bool:
    return _current == "dark"


def mode() -> str:
    """What the user asked for: "system", "light" or "dark"."""
    return _mode


def system_scheme() -> str:
    """The desktop's colour scheme, "light" or "dark"; dark when the platform does not say (the
    studio's own look, and what the canvas was designed for)."""
    app = QGuiApplication.instance()
    hints = app.styleHints() if app is not None else None
    scheme = getattr(hints, "colorScheme", None)
    if scheme is None:  # Qt < 6.5
        return "dark"
    value = scheme()
    return "light" if value == Qt.ColorScheme.Light else "dark"


def stored_mode() -> str:
    """The user's choice: the environment variable, else the settings, else "system"."""
    env = os.environ.get(THEME_ENV, "").strip().lower()
    if env in MODES:
        return env
    try:
        from modstudio.gui import settings

        value = settings.studio_settings().value(SETTINGS_KEY, "system")
    except Exception:  # settings unreadable: the theme must still apply
        value = "system"
    return value if value in MODES else "system"


def store_mode(value: str) -> None:
    from modstudio.gui import settings

    store = settings.studio_settings()
    store.setValue(SETTINGS_KEY, value)
    store.sync()


def resolve(value: str) -> str:
    return system_scheme() if value == "system" else value


def make_palette(name: str) -> QPalette:
    c = CHROME[name]
    p = QPalette()
    text = QColor(c["text"])
    R = QPalette.ColorRole
    for role, key in ((R.Window, "window"), (R.Base, "base"), (R.AlternateBase, "alternate"),
                      (R.ToolTipBase, "tooltip"), (R.Button, "button"), (R.BrightText, "bright"),
                      (R.Highlight, "highlight"), (R.Link, "link"), (R.PlaceholderText, "placeholder")):
        p.setColor(role, QColor(c[key]))
    for role in (R.WindowText, R.ToolTipText, R.Text, R.ButtonText):
        p.setColor(role, text)
    p.setColor(R.HighlightedText, QColor(c["highlighted_text"]))
    p.setColor(R.Light, QColor(c["button"]).lighter(130))
    p.setColor(R.Midlight, QColor(c["button"]).lighter(115))
    p.setColor(R.Mid, QColor(c["border"]))
    p.setColor(R.Dark, QColor(c["separator"]).darker(120))
    p.setColor(R.Shadow, QColor("#000000"))
    for role in (R.WindowText, R.Text, R.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(c["disabled"]))
    return p


def style_sheet(name: str) -> str:
    """The style sheet with the theme's colours filled in, and the images it draws: the check mark
    of a checked box (``styles/check.svg``, in the themes' "check" colour) and the arrows of combo
    and spin boxes (``styles/arrow-*.svg``, in their "control" colour: one grey that both themes share)."""
    qss = resource_file("styles", "studio.qss")
    if not qss.is_file():
        return ""
    images = {"check_image": resource_file("styles", "check.svg").as_posix(),
              "arrow_up": resource_file("styles", "arrow-up.svg").as_posix(),
              "arrow_down": resource_file("styles", "arrow-down.svg").as_posix()}
    return Template(qss.read_text(encoding="utf-8")).safe_substitute(CHROME[name], **images)


def apply(app: QApplication, mode: str | None = None) -> str:
    """Apply a theme ("system", "light", "dark"; None: the stored choice); returns the one in use.

    With "system" the theme follows the desktop live.
    """
    global _current, _mode
    _mode = mode if mode in MODES else stored_mode()
    name = resolve(_mode)
    if app.style().name().lower() != "fusion":
        app.setStyle("Fusion")
    _set_canvas(name)
    app.setPalette(make_palette(name))
    qss = style_sheet(name)
    if app.styleSheet() != qss:  # restyling every widget is the slow part: only when it changed
        app.setStyleSheet(qss)
    _current = name
    _follow_system(app)
    for widget in app.allWidgets():  # custom painters read the colours at paint time
        widget.update()
    notifier().changed.emit(name)
    return name


_following: set[int] = set()


def _follow_system(app: QApplication) -> None:
    hints = app.styleHints()
    if id(app) in _following or not hasattr(hints, "colorSchemeChanged"):
        return
    _following.add(id(app))
    hints.colorSchemeChanged.connect(lambda *_: _mode == "system" and apply(app, "system"))


def set_mode(app: QApplication, value: str) -> str:
    """The user's choice from the menu: store it and apply it."""
    store_mode(value)
    return apply(app, value)


def prepare_high_dpi() -> None:
    """Before the QApplication exists: fractional scale factors as the desktop asks (125 %, 150 %)
    rather than rounded ones, so text and SVG icons render sharp at their real size."""
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)


def add_theme_menu(menu) -> None:
    """System / Light / Dark as checkable actions in ``menu``; the choice is stored and applied."""
    from PySide6.QtGui import QActionGroup

    group = QActionGroup(menu)
    group.setExclusive(True)
    for value, text in (("system", "&System"), ("light", "&Light"), ("dark", "&Dark")):
        action = menu.addAction(text)
        action.setCheckable(True)
        action.setData(value)
        action.setStatusTip({"system": "Follow the desktop's light or dark setting"}.get(value, f"Use the {value} theme"))
        group.addAction(action)
        action.triggered.connect(lambda checked=False, v=value: set_mode(QApplication.instance(), v))
    menu.aboutToShow.connect(lambda: [a.setChecked(a.data() == _mode) for a in group.actions()])
