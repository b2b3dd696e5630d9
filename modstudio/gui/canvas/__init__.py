"""The graph canvas: a QGraphicsScene that mirrors the model from its events, and its view."""
