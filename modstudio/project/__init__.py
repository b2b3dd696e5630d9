"""The project file: a versioned, atomic, safe ``.modstudio`` archive (see docs/file-format.md).

No Qt and no torch here: weights are numpy arrays in safetensors, data is npz, and nothing in
an archive is ever unpickled.
"""

from modstudio.project.errors import ProjectFileError
from modstudio.project.limits import Limits
from modstudio.project.loading import load_project
from modstudio.project.migrations import FORMAT_VERSION
from modstudio.project.model import Project, ProjectEvents
from modstudio.project.run import Run, RunMetrics
from modstudio.project.settings import SettingsError, TrainingSettings

__all__ = ["Project", "ProjectEvents", "Run", "RunMetrics", "TrainingSettings", "SettingsError", "load_project",
           "ProjectFileError", "FORMAT_VERSION", "Limits"]
