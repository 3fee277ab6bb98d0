"""dami_gui/app/controllers"""
