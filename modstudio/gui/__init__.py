"""The studio window: PySide6 views over the headless layers (graph, data, project).

Nothing here is imported by the headless layers; ``modstudio.gui.app.run`` is the entry point.
"""
