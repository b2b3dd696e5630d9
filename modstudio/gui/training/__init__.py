"""Training from the studio: a worker thread runs the Qt-free trainer, a bridge turns its events
into queued Qt signals, and thin views (progress, live plots, runs, lesion) draw GUI-side buffers.

Nothing here imports torch at import time: the learn layer is loaded when a run starts.
"""
