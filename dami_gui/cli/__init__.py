"""dami_gui/cli"""
