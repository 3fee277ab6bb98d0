"""The system libraries Qt needs to open a window on Linux (X11), checked before Qt tries.

Qt's xcb platform plugin (PySide6-Essentials 6.11.2) links against X11/xcb libraries that pip
cannot install and that a plain Linux system may lack (libxcb-cursor0, libxcb-icccm4 and
libxcb-keysyms1 are the usual ones). Without them Qt stops with "Could not load the Qt platform
plugin 'xcb' ... Reinstalling the application may fix this problem", which sends the user the
wrong way. :func:`missing_message` finds the missing ones first and says in one sentence which
packages to install, with the command for the common distributions.

Standard library only: ``dev.py demo`` imports this module from the source tree, under the
system's Python, before the virtual environment exists; the app (:mod:`.main`) and the frozen
bundle's self-test (:mod:`.selftest`) use the same function.

:data:`LIBRARIES` is every library (soname) the xcb plugin loads beyond the C and C++ runtime
and what the wheel ships (Qt's own libraries, ICU): the ``NEEDED`` entries (``readelf -d``) of
``plugins/platforms/libqxcb.so``, ``lib/libQt6XcbQpa.so.6``, ``libQt6Gui``, ``libQt6Core``,
``libQt6Widgets`` and ``libQt6DBus`` (which QtGui loads); ``tests/app/test_qt_libraries.py``
reads them again from the installed wheel, so an upgrade of Qt that needs another library fails
there. Each entry gives the package that holds it on Debian/Ubuntu, Fedora, Arch and openSUSE.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

#: soname -> (Debian/Ubuntu, Fedora, Arch, openSUSE) package.
LIBRARIES: dict[str, tuple[str, str, str, str]] = {
    "libxcb-cursor.so.0": (
        "libxcb-cursor0",
        "xcb-util-cursor",
        "xcb-util-cursor",
        "libxcb-cursor0",
    ),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm", "xcb-util-wm", "libxcb-icccm4"),
    "libxcb-keysyms.so.1": (
        "libxcb-keysyms1",
        "xcb-util-keysyms",
        "xcb-util-keysyms",
        "libxcb-keysyms1",
    ),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image", "xcb-util-image", "libxcb-image0"),
    "libxcb-render-util.so.0": (
        "libxcb-render-util0",
        "xcb-util-renderutil",
        "xcb-util-renderutil",
        "libxcb-render-util0",
    ),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util", "xcb-util", "libxcb-util1"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb", "libxcb", "libxcb-randr0"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb", "libxcb", "libxcb-render0"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb", "libxcb", "libxcb-shape0"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb", "libxcb", "libxcb-shm0"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb", "libxcb", "libxcb-sync1"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb", "libxcb", "libxcb-xfixes0"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb", "libxcb", "libxcb-xkb1"),
    "libxcb.so.1": ("libxcb1", "libxcb", "libxcb", "libxcb1"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb", "libx11", "libX11-xcb1"),
    "libX11.so.6": ("libx11-6", "libX11", "libx11", "libX11-6"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon", "libxkbcommon", "libxkbcommon0"),
    "libxkbcommon-x11.so.0": (
        "libxkbcommon-x11-0",
        "libxkbcommon-x11",
        "libxkbcommon-x11",
        "libxkbcommon-x11-0",
    ),
    "libGL.so.1": ("libgl1", "libglvnd-glx", "libglvnd", "libGL1"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl", "libglvnd", "libEGL1"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig", "fontconfig", "libfontconfig1"),
    "libfreetype.so.6": ("libfreetype6", "freetype", "freetype2", "libfreetype6"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2", "glib2", "libglib-2_0-0"),
    "libgthread-2.0.so.0": ("libglib2.0-0", "glib2", "glib2", "libgthread-2_0-0"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs", "dbus", "libdbus-1-3"),
    "libzstd.so.1": ("libzstd1", "libzstd", "zstd", "libzstd1"),
    "libz.so.1": ("zlib1g", "zlib-ng-compat", "zlib", "libz1"),
}

#: (distribution, install command) in the order of :data:`LIBRARIES`' package columns.
INSTALLERS = (
    ("Debian, Ubuntu", "sudo apt-get install"),
    ("Fedora", "sudo dnf install"),
    ("Arch", "sudo pacman -S"),
    ("openSUSE", "sudo zypper install"),
)


def would_use_xcb(environ: dict[str, str] | None = None, platform: str | None = None) -> bool:
    """Whether Qt would open its windows through xcb (X11) here: on Linux, with
    ``QT_QPA_PLATFORM`` unset or naming xcb first, and not in a Wayland session (where Qt 6
    takes its Wayland plugin); never offscreen, minimal, Wayland, or on Windows and macOS."""
    environ = dict(os.environ) if environ is None else environ
    platform = sys.platform if platform is None else platform
    if not platform.startswith("linux"):
        return False
    chosen = environ.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip().lower()
    if chosen:
        return chosen == "xcb"
    wayland = environ.get("XDG_SESSION_TYPE", "").lower() == "wayland"
    return not (wayland and environ.get("WAYLAND_DISPLAY"))


def bundle_folders() -> list[Path]:
    """Where a frozen bundle keeps the libraries it carries (none outside a bundle)."""
    frozen = getattr(sys, "_MEIPASS", None)
    return [Path(frozen)] if frozen else []


def loadable(soname: str) -> bool:
    """Whether the dynamic loader finds ``soname`` (and what it needs) on this system."""
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def missing_libraries(
    found: Callable[[str], bool] | None = None, folders: Iterable[Path] | None = None
) -> list[str]:
    """The sonames of :data:`LIBRARIES` that neither a bundle folder holds nor the system has.

    ``found`` defaults to :func:`loadable` looked up at call time (not bound as a default
    argument), so a test that replaces the module's ``loadable`` replaces it here too."""
    found = loadable if found is None else found
    folders = bundle_folders() if folders is None else list(folders)
    return [
        soname
        for soname in LIBRARIES
        if not any((folder / soname).exists() for folder in folders) and not found(soname)
    ]


def install_sentence(missing: list[str]) -> str:
    """One sentence: what is missing, and the packages to install on each common distribution."""
    commands = []
    for column, (names, command) in enumerate(INSTALLERS):
        packages = list(dict.fromkeys(LIBRARIES[soname][column] for soname in missing))
        commands.append(f"`{command} {' '.join(packages)}` ({names})")
    listed = missing[0] if len(missing) == 1 else f"{', '.join(missing[:-1])} and {missing[-1]}"
    return (
        f"dami-gui cannot open its window: Qt needs the system "
        f"librar{'ies' if len(missing) > 1 else 'y'} {listed}, which "
        f"{'are' if len(missing) > 1 else 'is'} not installed; install "
        f"{'them' if len(missing) > 1 else 'it'} with {', '.join(commands[:-1])} or "
        f"{commands[-1]}, then start it again."
    )


def missing_message(environ: dict[str, str] | None = None) -> str | None:
    """The sentence to show instead of Qt's own message, or None when a window can open (or
    Qt would not use xcb here)."""
    if not would_use_xcb(environ):
        return None
    missing = missing_libraries()
    return install_sentence(missing) if missing else None
