"""dami-gui: label a tabular data set with the fewest labels, guided by DAMI."""

__version__ = "0.3.0"
