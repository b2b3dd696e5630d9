"""ModStudio: compose neural networks from modules and learn tasks one after another without forgetting.

The public API is small and loaded lazily, so ``import modstudio`` stays fast and does not
pull in torch or Qt until a name that needs them is used.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# name -> (module, attribute); resolved on first access (PEP 562).
_LAZY = {
    "Graph": ("modstudio.graph", "Graph"),
    "check": ("modstudio.graph", "check"),
    "catalog": ("modstudio.graph.catalog", None),
    "data": ("modstudio.data", None),
    "compile_graph": ("modstudio.learn.compiler", "compile_graph"),
    "train": ("modstudio.learn.api", "train"),
    "examples": ("modstudio.examples", None),
    "Project": ("modstudio.project", "Project"),
    "load_project": ("modstudio.project", "load_project"),
    "ProjectFileError": ("modstudio.project", "ProjectFileError"),
    "export": ("modstudio.learn.export", "export"),
    "load_model": ("modstudio.learn.export", "load_model"),
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    try:
        module_name, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'modstudio' has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


def __dir__():
    return sorted(__all__)
