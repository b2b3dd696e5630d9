"""The themes as a user sees them: WCAG AA contrast for every colour pair the themes draw, the
canvas repainted at once on a switch, plot legends in the theme's colours (on screen and in PNGs),
and check and radio indicators drawn by the style sheet."""

from __future__ import annotations

import pytest

from modstudio.gui import theme

TEXT_AA, CONTROL_AA = 4.5, 3.0


def _failures(name: str) -> list[str]:
    chrome, canvas = theme.CHROME[name], theme.CANVAS[name]
    out = []
    for table, colours, need in ((theme.TEXT_PAIRS, chrome, TEXT_AA), (theme.CONTROL_PAIRS, chrome, CONTROL_AA),
                                 (theme.CANVAS_TEXT_PAIRS, canvas, TEXT_AA),
                                 (theme.CANVAS_MARK_PAIRS, canvas, CONTROL_AA)):
        for fg, backgrounds in table.items():
            for bg in backgrounds:
                ratio = theme.contrast_ratio(colours[fg], colours[bg])
                if ratio < need:
                    out.append(f"{name}: {fg} on {bg} is {ratio:.2f}:1, needs {need}:1")
    return out


def test_contrast_ratio_matches_wcag_reference_values():
    assert theme.contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert theme.contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the known near miss
    assert theme.contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)


@pytest.mark.parametrize("name", ["dark", "light"])
def test_every_colour_pair_meets_wcag_aa(name):
    assert _failures(name) == []


@pytest.mark.parametrize("name", ["dark", "light"])
def test_contrast_pairs_name_real_colours(name):
    """A pair naming a colour the theme does not have would be skipped silently by a typo."""
    for table, colours in ((theme.TEXT_PAIRS, theme.CHROME[name]), (theme.CONTROL_PAIRS, theme.CHROME[name]),
                           (theme.CANVAS_TEXT_PAIRS, theme.CANVAS[name]),
                           (theme.CANVAS_MARK_PAIRS, theme.CANVAS[name])):
        for fg, backgrounds in table.items():
            assert {fg, *backgrounds} <= set(colours)


@pytest.mark.parametrize(("image", "key"), [("check.svg", "check"), ("arrow-up.svg", "control"),
                                           ("arrow-down.svg", "control")])
def test_style_sheet_images_are_drawn_in_the_themes_colours(image, key):
    """The images cannot read the theme, so both themes share their colour, which the pairs above check."""
    from modstudio.gui.resources import resource_file

    svg = resource_file("styles", image).read_text(encoding="utf-8")
    (colour,) = {theme.CHROME[n][key] for n in theme.CHROME}
    assert f'stroke="{colour}"' in svg
    for name in theme.CHROME:
        assert resource_file("styles", image).as_posix() in theme.style_sheet(name)


@pytest.fixture
def dark_first(qapp, monkeypatch):
    monkeypatch.delenv(theme.THEME_ENV, raising=False)
    theme.apply(qapp, "dark")
    yield qapp
    theme.apply(qapp, "dark")


def _centre_pixel(widget):
    image = widget.grab().toImage()
    return image.pixelColor(image.width() // 2, image.height() // 2).name()


def test_canvas_background_follows_a_switch_without_a_pan(window, dark_first, qtbot):
    viewport = window.view.viewport()
    window.view.centerOn(-5000, -5000)  # no node there: only the background is painted
    qtbot.wait(10)
    dark = {theme.CANVAS["dark"][k].name() for k in ("CANVAS_BG", "GRID_MINOR", "GRID_MAJOR")}
    assert _centre_pixel(viewport) in dark  # and now the background is in the view's cache
    theme.apply(dark_first, "light")
    shown = {_centre_pixel(viewport)}
    image = viewport.grab().toImage()
    shown |= {image.pixelColor(x, y).name() for x, y in ((3, 3), (image.width() - 4, image.height() - 4))}
    light = {theme.CANVAS["light"][k].name() for k in ("CANVAS_BG", "GRID_MINOR", "GRID_MAJOR")}
    assert shown <= light, f"the canvas still shows {shown - light} after the switch"
    assert window.view.backgroundBrush().color() == theme.CANVAS["light"]["CANVAS_BG"]


def test_plot_legends_follow_the_theme_on_screen_and_in_png(dark_first, qtbot, tmp_path):
    from PySide6.QtGui import QImage

    from modstudio.gui.training.exporting import save_plots
    from modstudio.gui.training.plots import RetentionPlot, ThemedPlot

    retention = RetentionPlot()
    overlay = ThemedPlot("overlay")
    late = overlay.getPlotItem().addLegend(offset=(-8, -8))  # added after the plot was built
    for plot in (retention, overlay):
        qtbot.addWidget(plot)
        plot.resize(420, 300)
        plot.show()
    retention.reset(["first", "second"])
    overlay.plot([0, 1], [0.2, 0.8], name="run 1")
    dark_base = theme.CHROME["dark"]["base"]
    assert retention.legend.opts["brush"].color().name() == dark_base
    theme.apply(dark_first, "light")
    light = theme.CHROME["light"]
    for legend in (retention.legend, late):
        assert legend.opts["brush"].color().name() == light["base"]
        assert legend.opts["labelTextColor"].name() == light["text"]
        for _sample, label in legend.items:  # the entries that were there before the switch too
            assert label.opts["color"] == light["text"] or label.opts["color"].name() == light["text"]
    written = save_plots({"retention": retention}, tmp_path / "run.png")
    image = QImage(str(written[0]))
    legend_rect = retention.legend.mapRectToScene(retention.legend.boundingRect())
    scale = image.width() / retention.getPlotItem().sceneBoundingRect().width()
    top_left = (legend_rect.topLeft() - retention.getPlotItem().sceneBoundingRect().topLeft()) * scale
    inside = image.pixelColor(int(top_left.x() + 3 * scale), int(top_left.y() + legend_rect.height() * scale - 3 * scale))
    assert inside.lightness() > 200, f"the legend box in the PNG is {inside.name()}"


@pytest.mark.parametrize("kind", ["QCheckBox", "QRadioButton"])
@pytest.mark.parametrize("name", ["dark", "light"])
def test_check_and_radio_indicators_stand_out_from_the_window(dark_first, qtbot, kind, name):
    """Fusion's own indicators are a shade of the window colour (about 1.3:1 on dark); the style
    sheet draws them in "control" (unchecked) and "accent" (checked)."""
    from PySide6 import QtWidgets
    from PySide6.QtGui import QColor
    from PySide6.QtWidgets import QStyle, QStyleOptionButton

    theme.apply(dark_first, name)
    holder = QtWidgets.QWidget()
    qtbot.addWidget(holder)
    box = getattr(QtWidgets, kind)("Option", holder)
    holder.resize(160, 40)
    holder.show()
    qtbot.waitExposed(holder)
    window = theme.CHROME[name]["window"]
    element = QStyle.SubElement.SE_CheckBoxIndicator if kind == "QCheckBox" else QStyle.SubElement.SE_RadioButtonIndicator
    for checked, colour in ((False, "control"), (True, "accent")):
        box.setChecked(checked)
        option = QStyleOptionButton()
        box.initStyleOption(option)
        rect = box.style().subElementRect(element, option, box)
        image = box.grab().toImage()
        best = max(theme.contrast_ratio(image.pixelColor(x, y), window)
                   for x in range(rect.left(), rect.right() + 1) for y in range(rect.top(), rect.bottom() + 1))
        assert best >= 3.0, f"{kind} ({'checked' if checked else 'unchecked'}) is at most {best:.2f}:1 on the window"
        want = QColor(theme.CHROME[name][colour])  # drawn in that colour (a round edge is antialiased)
        assert any(max(abs(a - b) for a, b in zip(image.pixelColor(x, y).getRgb()[:3], want.getRgb()[:3])) <= 24
                   for x in range(rect.left(), rect.right() + 1) for y in range(rect.top(), rect.bottom() + 1))
