"""The headless engine of dami-gui: data, model, interpretation, query strategies, session.

Nothing in this package imports Qt or :mod:`dami_gui.app`; a test enforces it.
"""
