"""dami_gui/core/data"""
