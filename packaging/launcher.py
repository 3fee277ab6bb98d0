"""Entry script of the frozen app: the same as the ``dami-gui`` command."""

import sys

from dami_gui.cli.main import gui_main

if __name__ == "__main__":
    sys.exit(gui_main())
