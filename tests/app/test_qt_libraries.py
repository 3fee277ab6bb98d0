"""The system libraries Qt needs for a window: found missing before Qt's own message, and named
with the packages to install (issue 24). The lookup is replaced here; the real case (a Linux
without libxcb-icccm4 and libxcb-keysyms1, under xvfb-run) is in the issue's report."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path

import pytest

from dami_gui.app import qt_libraries
from dami_gui.app.qt_libraries import (
    INSTALLERS,
    LIBRARIES,
    install_sentence,
    missing_libraries,
    would_use_xcb,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("environ", "platform", "xcb"),
    [
        ({}, "linux", True),
        ({"QT_QPA_PLATFORM": "xcb"}, "linux", True),
        ({"QT_QPA_PLATFORM": "xcb:option"}, "linux", True),
        ({"QT_QPA_PLATFORM": "offscreen"}, "linux", False),
        ({"QT_QPA_PLATFORM": "wayland;xcb"}, "linux", False),
        ({"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0"}, "linux", False),
        ({"XDG_SESSION_TYPE": "wayland"}, "linux", True),  # no compositor to talk to
        ({}, "win32", False),
        ({}, "darwin", False),
    ],
)
def test_the_check_runs_only_where_qt_would_use_xcb(environ, platform, xcb):
    assert would_use_xcb(environ, platform) is xcb


def test_the_default_lookup_is_the_one_found_at_call_time(monkeypatch):
    """The check must use the module's ``loadable`` as it is when called: a default argument
    bound at import time made the two tests below pass only on machines without the libraries."""
    monkeypatch.setattr(qt_libraries, "loadable", lambda soname: soname != "libxcb-icccm.so.4")
    assert missing_libraries(folders=[]) == ["libxcb-icccm.so.4"]
    monkeypatch.setattr(qt_libraries, "loadable", lambda soname: True)
    assert missing_libraries(folders=[]) == []


def test_missing_libraries_are_those_neither_bundled_nor_on_the_system(tmp_path):
    absent = {"libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxcb-cursor.so.0"}
    (tmp_path / "libxcb-cursor.so.0").write_bytes(b"")  # carried by the bundle
    missing = missing_libraries(lambda soname: soname not in absent, folders=[tmp_path])
    assert missing == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    assert missing_libraries(lambda soname: True, folders=[]) == []


def test_the_sentence_names_the_packages_for_each_distribution():
    text = install_sentence(["libxcb-icccm.so.4", "libxcb-keysyms.so.1"])
    assert text.count(". ") == 0 and text.endswith(".")  # one sentence
    assert "libxcb-icccm.so.4 and libxcb-keysyms.so.1" in text
    assert "`sudo apt-get install libxcb-icccm4 libxcb-keysyms1` (Debian, Ubuntu)" in text
    assert "`sudo dnf install xcb-util-wm xcb-util-keysyms` (Fedora)" in text
    assert "`sudo pacman -S xcb-util-wm xcb-util-keysyms` (Arch)" in text
    assert "`sudo zypper install libxcb-icccm4 libxcb-keysyms1` (openSUSE)" in text
    glib = install_sentence(["libglib-2.0.so.0", "libgthread-2.0.so.0"])
    assert "apt-get install libglib2.0-0`" in glib  # one package named once
    assert all(len(packages) == len(INSTALLERS) for packages in LIBRARIES.values())


def test_the_app_says_so_before_qt_starts(monkeypatch, capsys):
    from dami_gui.app import main as app_main

    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setattr(qt_libraries.sys, "platform", "linux")
    monkeypatch.setattr(qt_libraries, "loadable", lambda soname: "icccm" not in soname)

    def no_qt(*args):
        raise AssertionError("Qt was started although a library is missing")

    monkeypatch.setattr(app_main, "application", no_qt)
    assert app_main.main(["--demo"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "libxcb-icccm.so.4" in err and "apt-get install" in err


def test_dev_py_demo_runs_the_same_check(monkeypatch):
    spec = importlib.util.spec_from_file_location("dev_script", ROOT / "dev.py")
    assert spec is not None and spec.loader is not None
    dev = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dev)
    monkeypatch.setattr(qt_libraries, "loadable", lambda soname: "keysyms" not in soname)
    monkeypatch.setattr(qt_libraries.sys, "platform", "linux")
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    assert "libxcb-keysyms1" in dev.window_libraries_missing()
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert dev.window_libraries_missing() is None


def needed(path: Path) -> set[str]:
    out = subprocess.run(["readelf", "-d", str(path)], capture_output=True, text=True).stdout
    return {line.split("[", 1)[1].rstrip("]") for line in out.splitlines() if "(NEEDED)" in line}


@pytest.mark.skipif(shutil.which("readelf") is None, reason="readelf (binutils) is not here")
def test_the_list_is_every_library_the_installed_xcb_plugin_needs():
    """Read the NEEDED entries of the installed wheel's xcb plugin and the Qt libraries it loads
    again: all are in the list, Qt's own or the C/C++ runtime (a Qt upgrade fails here)."""
    qt = Path(importlib.util.find_spec("PySide6").origin).parent / "Qt"
    plugin = qt / "plugins" / "platforms" / "libqxcb.so"
    if not plugin.exists():
        pytest.skip("no xcb plugin in this PySide6 (not Linux)")
    files = [plugin] + [
        qt / "lib" / f"libQt6{name}.so.6" for name in ("XcbQpa", "Gui", "Core", "Widgets", "DBus")
    ]
    shipped = {p.name for p in (qt / "lib").iterdir()}
    runtime = {"libc.so.6", "libm.so.6", "libgcc_s.so.1", "libstdc++.so.6", "libdl.so.2"}
    runtime |= {"libpthread.so.0", "librt.so.1", "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1"}
    wanted = set().union(*(needed(f) for f in files)) - shipped - runtime
    assert wanted <= set(LIBRARIES), sorted(wanted - set(LIBRARIES))
    assert {"libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1"} <= wanted
