"""dami_gui/app/dialogs"""
