"""PyInstaller runtime hook: give numba (used by umap-learn) a writable, per-user cache folder.

The bundle's own folder is read-only once installed (Program Files, /Applications), and numba
would otherwise try to cache compiled functions beside the modules it compiles.
"""

import os
import sys
from pathlib import Path


def _cache_dir() -> Path:
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "dami-gui" / "numba"


if "NUMBA_CACHE_DIR" not in os.environ:
    try:
        path = _cache_dir()
        path.mkdir(parents=True, exist_ok=True)
        os.environ["NUMBA_CACHE_DIR"] = str(path)
    except OSError:
        pass  # numba then skips caching; the app still works, only slower to start
