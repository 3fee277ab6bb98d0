"""``python -m dami_gui.cli``: the ``dami`` command."""

import sys

from dami_gui.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
