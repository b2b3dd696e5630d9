"""Add Tasks with a folder of images: native size and colours by default, the Images row's size,
colour and normalisation change what is imported, a folder of several sizes is refused with an
offer to resize, CSV previews show the file's column names, and the chosen options travel in the
tasks' recipe through save and load."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests.gui.test_tasks import write_csv


def image_folder(root, size=(32, 32), classes=("cat", "dog", "owl"), per_class=4):
    """PNGs of ``size`` (width, height) in RGB, one sub-folder per class."""
    rng = np.random.default_rng(0)
    for c in classes:
        (root / c).mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
            Image.fromarray(pixels, "RGB").save(root / c / f"{i}.png")
    return root


@pytest.fixture
def dialog(dataset_dialog):
    return dataset_dialog


def choose(combo, data) -> None:
    index = combo.findData(data)
    assert index >= 0, data
    combo.setCurrentIndex(index)


def test_a_folder_keeps_its_native_size_and_colours_by_default(dialog, tmp_path):
    assert not dialog.image_options.isVisible()  # a built-in dataset: no image options
    dialog.set_path(str(image_folder(tmp_path / "pets")))
    assert dialog.image_options.isVisible()
    assert dialog.error.text() == ""
    assert dialog.dataset.sample_shape == (3, 32, 32)
    assert dialog.image_size.currentText() == "As in the files" and not dialog.image_height.isEnabled()
    assert "kept at their own size, 32×32" in dialog.image_note.text()
    assert "colour (3 channels" in dialog.image_note.text()
    assert dialog.dataset.origin["options"] == {"size": [32, 32], "mode": "RGB", "normalize": "unit"}


def test_the_image_options_change_the_imported_shape_and_values(dialog, tmp_path):
    dialog.set_path(str(image_folder(tmp_path / "pets")))
    choose(dialog.image_size, "resize")
    assert dialog.image_height.isEnabled()
    dialog.image_height.setValue(16)
    dialog.image_width.setValue(20)
    assert dialog.dataset.sample_shape == (3, 16, 20)
    choose(dialog.image_mode, "L")
    assert dialog.dataset.sample_shape == (1, 16, 20)
    assert "resized to 16×20" in dialog.image_note.text()
    assert dialog.dataset.floats().min() >= 0
    choose(dialog.image_normalize, "signed")
    assert dialog.dataset.floats().min() < -0.5 and dialog.dataset.floats().max() <= 1.0
    choose(dialog.image_normalize, "standard")
    assert abs(float(dialog.dataset.floats().mean())) < 1e-4
    assert str(dialog.dataset.x.dtype) == "uint8"  # every normalisation keeps the pixels as bytes


def test_a_folder_of_several_sizes_is_refused_with_an_offer_to_resize(dialog, tmp_path):
    root = image_folder(tmp_path / "pets")
    Image.new("RGB", (20, 24)).save(root / "owl" / "odd.png")
    dialog.set_path(str(root))
    assert dialog.dataset is None and not dialog.add_button.isEnabled()
    assert "not all one size" in dialog.error.text() and "32×32 (12)" in dialog.error.text()
    assert dialog.resize_button.isVisible() and dialog.resize_button.text() == "Resize to 32×32"
    assert "12 of 13 images are 32×32" in dialog.image_note.text()
    dialog.resize_button.click()
    assert dialog.image_size.currentData() == "resize"
    assert dialog.dataset is not None and dialog.dataset.sample_shape == (3, 32, 32) and len(dialog.dataset) == 13
    assert dialog.error.text() == "" and not dialog.resize_button.isVisible()


def test_a_csv_preview_shows_the_files_column_names(dialog, tmp_path):
    dialog.set_path(str(write_csv(tmp_path / "shapes.csv", features=3)))
    assert not dialog.image_options.isVisible()
    table = dialog.table_holder.layout().itemAt(0).widget()
    headers = [table.horizontalHeaderItem(j).text() for j in range(table.columnCount())]
    assert headers == ["f0", "f1", "f2", "label"]


def test_the_chosen_image_options_travel_in_the_recipe_through_save_and_load(dialog, tmp_path):
    from modstudio.graph import Graph
    from modstudio.project import Project, TrainingSettings, load_project

    dialog.set_path(str(image_folder(tmp_path / "pets")))
    choose(dialog.image_size, "resize")
    dialog.image_height.setValue(12)
    dialog.image_width.setValue(10)
    choose(dialog.image_mode, "L")
    choose(dialog.image_normalize, "signed")
    choose(dialog.builder_combo, "whole")
    dialog.add_button.click()
    assert dialog.result() == dialog.DialogCode.Accepted
    tasks = dialog.tasks
    assert [t.sample_shape for t in tasks] == [(1, 12, 10)]
    project = Project("pets", graph=Graph(), tasks=tasks, settings=TrainingSettings(embed_data="never"))
    path = project.save(tmp_path / "pets.modstudio")
    again = load_project(path, allow_external_data=True)
    assert again.warnings == []  # the same data: no "source changed" warning
    rebuilt = again.tasks[0]
    assert rebuilt.sample_shape == (1, 12, 10) and rebuilt.fingerprint == tasks[0].fingerprint
    source = rebuilt.origin["datasets"][0]["options"]  # "whole": datasets_as_tasks
    assert (source["size"], source["mode"], source["normalize"]) == ([12, 10], "L", "signed")
