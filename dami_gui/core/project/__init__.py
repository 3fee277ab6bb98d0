"""dami_gui/core/project"""
