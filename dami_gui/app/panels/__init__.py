"""dami_gui/app/panels"""
