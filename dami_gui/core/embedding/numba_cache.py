"""numba's cache of compiled code (umap's functions), kept in a per-user folder between runs.

umap-learn compiles its numba functions the first time they run in a process; those marked for
caching are written to numba's cache and loaded, not compiled, in the next processes. numba puts
the cache beside the modules, which an installation may not let it write (a system-wide pip
install, the frozen app's read-only bundle), and the first map of every start then compiles
again. :func:`use_numba_cache` points numba at a per-user cache folder before it is imported:
the app calls it at start-up (pip install or checkout); the frozen app's runtime hook
(``packaging/hooks/rthook_numba_cache.py``) sets the same folder before anything is imported.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

#: numba's setting for where its cache goes (read when numba is imported).
ENV = "NUMBA_CACHE_DIR"


def numba_cache_folder() -> Path:
    """The per-user folder of numba's cache: ``~/.cache/dami-gui/numba`` on Linux
    (``$XDG_CACHE_HOME``), ``~/Library/Caches/dami-gui/numba`` on macOS,
    ``%LOCALAPPDATA%\\dami-gui\\numba`` on Windows (as the frozen app's runtime hook)."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "dami-gui" / "numba"


def use_numba_cache() -> Path | None:
    """Make numba keep compiled code in :func:`numba_cache_folder` (unless ``NUMBA_CACHE_DIR``
    already says where); returns the folder in use, or None when it cannot be created (numba
    then caches where it can, or not at all: slower starts, nothing else)."""
    chosen = os.environ.get(ENV)
    if chosen:
        return Path(chosen)
    folder = numba_cache_folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    os.environ[ENV] = str(folder)
    numba = sys.modules.get("numba")
    if numba is not None:  # imported already: its configuration was read, set it there too
        numba.config.CACHE_DIR = str(folder)
    return folder


def cache_filled(folder: Path | None = None) -> bool:
    """Whether numba's cache folder holds compiled code (an index file) from an earlier run."""
    chosen = folder or (Path(os.environ[ENV]) if os.environ.get(ENV) else None)
    if chosen is None or not chosen.is_dir():
        return False
    return any(True for _ in chosen.rglob("*.nbi"))
