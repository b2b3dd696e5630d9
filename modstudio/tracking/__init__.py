"""A run's history for experiment trackers (the optional extra ``modstudio[tracking]``).

``history`` walks a run record into what every tracker shows: named scalar series with steps and
wall times, and the settings as hyper-parameters. Each writer turns that into its own format:
``tensorboard`` (event files, one folder per run) and ``mlflow`` (one MLflow run per ModStudio run,
in a local folder or at a tracking URI). Neither imports torch or Qt, so the studio can write from
its own process, and the tracker's package is imported only when a writer is used.
"""

from __future__ import annotations

EXTRA = "modstudio[tracking]"
INSTALL_HINT = f'pip install "{EXTRA}"'


class TrackingError(Exception):
    """A run's history cannot be written; the message says why in one line."""


class TrackingUnavailable(TrackingError):
    """The tracker's package is not installed; the message says what to install."""


def unavailable(what: str, package: str) -> TrackingUnavailable:
    """The one wording of "not installed" for every writer (CLI, studio)."""
    return TrackingUnavailable(f"{what} needs the {package} package, which is not installed: {INSTALL_HINT}")
