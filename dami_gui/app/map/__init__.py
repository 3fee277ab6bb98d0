"""The map of the pool: the widget (view), what it draws (drawing), what is under the mouse
(picking)."""
