"""A trained project the tracking tests share: training it once saves seconds in every test."""

import pytest

import modstudio as ms


@pytest.fixture(scope="package")
def project_file(tmp_path_factory):
    """split-digits with one seeded run (finetune, 2 epochs a task: two points per task per curve)."""
    project = ms.examples.build_example("split-digits")
    ms.train(project, strategy="finetune", epochs=2, seed=0, device="cpu")
    path = tmp_path_factory.mktemp("tracking") / "p.modstudio"
    project.save(path, backup=False)
    return path
