"""The studio window: PySide6 views over the headless layers (graph, data, project).

Nothing here is imported by the headless layers; ``modstudio.gui.app.run`` is the entry point.
Importing this package first applies :mod:`modstudio.gui.qtcompat`, before any Qt call.
"""

from modstudio.gui import qtcompat

qtcompat.apply()
