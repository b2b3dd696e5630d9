"""The one error a caller of the project layer has to know about."""


class ProjectFileError(Exception):
    """A project file that cannot be read or written; the message says what is wrong.

    Every load failure surfaces as this, whatever the cause (a corrupt zip, a hostile member
    name, bad JSON, weights that don't fit the graph), so the GUI needs one ``except``.
    """
