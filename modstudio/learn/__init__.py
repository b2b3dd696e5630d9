"""torch lives here: graph → network compiler, strategies, trainer, metrics, export."""
