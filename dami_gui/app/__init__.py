"""The desktop app: PySide6 + pyqtgraph views over :class:`dami_gui.core.session.Session`.

Start it with :func:`dami_gui.app.main.main` (``dami-gui`` on the command line).
"""
