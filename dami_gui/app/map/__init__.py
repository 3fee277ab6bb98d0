"""The map of the pool: the widget (view), what it draws (drawing), what is under the mouse
(picking), and a big pool's density image (density: the counting, pool_image: the image item)."""
