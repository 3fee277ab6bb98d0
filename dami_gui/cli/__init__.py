"""The ``dami`` command line and the ``dami-gui`` launcher (entry points in :mod:`.main`).

Uses :mod:`dami_gui.core`; imports the app only in :mod:`.gui`, when it launches it.
"""
