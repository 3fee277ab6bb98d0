"""Build the dami-gui installer for the current OS: ``python packaging/build.py [--selftest]``.

Steps, the same on every OS (the release workflow runs exactly this):
1. the icon in the OS's format (build/icon.ico or build/icon.icns, from resources/icon.png);
2. PyInstaller on packaging/dami-gui.spec: a one-folder, windowed bundle in dist/dami-gui/;
3. trimming what the app never loads (see ``TRIM``), with sizes before and after;
4. the installer: Linux, a .tar.gz of the folder with a .desktop file; Windows, an Inno Setup
   installer if ``iscc`` is on the PATH; macOS, a .dmg of dist/dami-gui.app (signed and
   notarised only when the credentials in ``MAC_SIGN_ENV`` are set);
5. with ``--selftest``, the frozen app's own self-test (``dami-gui --selftest``).
A summary (sizes, times) is printed and written to dist/build-report.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

from dami_gui import __version__

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "dist"
BUILD = ROOT / "build"
APP = DIST / "dami-gui"
#: The app's version, from its one place (dami_gui/__init__.py; pyproject.toml reads it too).
VERSION = __version__
#: Environment variables that, all set, make the macOS build sign and notarise the app.
MAC_SIGN_ENV = (
    "MAC_SIGN_IDENTITY",
    "MAC_NOTARY_APPLE_ID",
    "MAC_NOTARY_TEAM_ID",
    "MAC_NOTARY_PASSWORD",
)

#: Paths (globs, relative to the bundle's _internal folder) that the app never loads.
TRIM = [
    # Qt: translations, the GTK platform theme (pulls in GTK/GLib libraries), unused plugins.
    "PySide6/Qt/translations",
    "PySide6/Qt/plugins/platformthemes/*gtk*",
    "PySide6/Qt/plugins/platforminputcontexts",
    "PySide6/Qt/plugins/generic",
    "PySide6/Qt/plugins/networkinformation",
    "PySide6/Qt/plugins/tls",
    "PySide6/Qt/plugins/qmltooling",
    "libgtk-3*",
    "libgdk-3*",
    "libatk-*",
    "libatk-bridge*",
    "libatspi*",
    "libcairo*",
    "libpango*",
    "libgdk_pixbuf*",
    "PySide6/Qt/plugins/platforms/libqvnc*",
    "PySide6/Qt/plugins/platforms/libqlinuxfb*",
    "PySide6/Qt/plugins/platforms/libqeglfs*",
    "PySide6/Qt/plugins/platforms/libqvkkhrdisplay*",
    "PySide6/Qt/plugins/platforms/libqminimalegl*",
    "PySide6/Qt/plugins/egldeviceintegrations",
    # torch: C++ headers, static and CMake files, test data; none is used at run time.
    "torch/include",
    # torch/bin: test binaries and protoc (torch_shm_manager stays: `import torch` checks for it)
    "torch/bin/test_*",
    "torch/bin/*Test",
    "torch/bin/protoc*",
    "torch/bin/*.pt",
    "torch/bin/*.ptl",
    "torch/bin/upgrader_models",
    "torch/share",
    "torch/lib/*.a",
    "torch/test",
    "torch/testing/_internal/generated",
    "torch/utils/benchmark",
    "torch/_inductor/codegen/cuda*",
    "caffe2",
    # numba / llvmlite / scipy tests
    "numba/tests",
    "llvmlite/tests",
    "scipy/*/tests",
    "sklearn/*/tests",
    "pandas/tests",
]


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def mb(n: int) -> str:
    return f"{n / 1e6:.0f} MB"


def run(*args: str | Path, **kwargs) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], check=True, **kwargs)


def make_icon() -> Path | None:
    """Convert resources/icon.png to the OS's icon format with Pillow (a PyInstaller need)."""
    png = ROOT / "resources" / "icon.png"
    if sys.platform not in {"win32", "darwin"}:
        return png
    try:
        from PIL import Image
    except ImportError:
        print("Pillow is missing: building without an icon (pip install pillow).")
        return None
    BUILD.mkdir(exist_ok=True)
    target = BUILD / ("icon.ico" if sys.platform == "win32" else "icon.icns")
    Image.open(png).save(target)
    return target


def trim(internal: Path) -> list[str]:
    removed = []
    for pattern in TRIM:
        for path in internal.glob(pattern):
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(str(path.relative_to(internal)))
    return removed


def package_linux() -> Path:
    desktop = APP / "dami-gui.desktop"
    desktop.write_text(
        "[Desktop Entry]\nType=Application\nName=dami-gui\n"
        "Comment=Label a tabular data set with the fewest labels\n"
        "Exec=dami-gui %f\nIcon=dami-gui\nTerminal=false\nCategories=Science;Education;\n"
        "MimeType=text/csv;\n"
    )
    shutil.copy(ROOT / "resources" / "icon.png", APP / "dami-gui.png")
    archive = DIST / f"dami-gui-{VERSION}-linux-{platform.machine()}.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(APP, arcname="dami-gui")
    return archive


def package_windows() -> Path | None:
    iscc = shutil.which("iscc") or shutil.which("ISCC")
    if iscc is None:
        print(
            "Inno Setup (iscc) is not on the PATH: skipping the installer; dist/dami-gui is ready."
        )
        return None
    run(
        iscc,
        f"/DAppVersion={VERSION}",
        f"/DSourceDir={APP}",
        f"/O{DIST}",
        ROOT / "packaging" / "windows" / "dami-gui.iss",
    )
    return DIST / f"dami-gui-{VERSION}-setup.exe"


def package_macos() -> Path:
    bundle = DIST / "dami-gui.app"
    if all(os.environ.get(k) for k in MAC_SIGN_ENV):
        identity = os.environ["MAC_SIGN_IDENTITY"]
        run(
            "codesign",
            "--deep",
            "--force",
            "--options",
            "runtime",
            "--timestamp",
            "--sign",
            identity,
            bundle,
        )
    dmg = DIST / f"dami-gui-{VERSION}-macos-{platform.machine()}.dmg"
    if dmg.exists():
        dmg.unlink()
    run(
        "hdiutil",
        "create",
        "-volname",
        "dami-gui",
        "-srcfolder",
        bundle,
        "-ov",
        "-format",
        "UDZO",
        dmg,
    )
    if all(os.environ.get(k) for k in MAC_SIGN_ENV):
        run(
            "xcrun",
            "notarytool",
            "submit",
            dmg,
            "--apple-id",
            os.environ["MAC_NOTARY_APPLE_ID"],
            "--team-id",
            os.environ["MAC_NOTARY_TEAM_ID"],
            "--password",
            os.environ["MAC_NOTARY_PASSWORD"],
            "--wait",
        )
        run("xcrun", "stapler", "staple", dmg)
    return dmg


def executable() -> Path:
    if sys.platform == "darwin":
        return DIST / "dami-gui.app" / "Contents" / "MacOS" / "dami-gui"
    return APP / ("dami-gui.exe" if sys.platform == "win32" else "dami-gui")


def selftest() -> int:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    print("+ dami-gui --selftest", flush=True)
    return subprocess.call([str(executable()), "--selftest"], env=env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--selftest", action="store_true", help="run the frozen app's self-test")
    parser.add_argument("--no-installer", action="store_true", help="stop after the folder")
    args = parser.parse_args(argv)
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        print('PyInstaller is missing: pip install -e ".[packaging]"', file=sys.stderr)
        return 2

    report: dict = {"os": sys.platform, "machine": platform.machine(), "version": VERSION}
    started = time.perf_counter()
    icon = make_icon()
    env = dict(os.environ)
    if icon is not None:
        env["DAMI_ICON"] = str(icon)
    run(
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--clean",
        "--log-level",
        "WARN",
        "--distpath",
        DIST,
        "--workpath",
        BUILD / "pyinstaller",
        ROOT / "packaging" / "dami-gui.spec",
        env=env,
    )
    report["build_seconds"] = round(time.perf_counter() - started, 1)
    internal = APP / "_internal"
    report["unpacked_bytes_before_trim"] = folder_size(APP)
    report["trimmed"] = trim(internal)
    report["unpacked_bytes"] = folder_size(APP)
    if not args.no_installer:
        package = {"linux": package_linux, "win32": package_windows, "darwin": package_macos}.get(
            sys.platform, package_linux
        )()
        if package is not None:
            report["package"] = str(package.relative_to(ROOT))
            report["package_bytes"] = package.stat().st_size
    print(
        f"Unpacked: {mb(report['unpacked_bytes_before_trim'])} -> {mb(report['unpacked_bytes'])}"
        f" after trimming; package: {mb(report.get('package_bytes', 0))}"
    )
    code = 0
    if args.selftest:
        t0 = time.perf_counter()
        code = selftest()
        report["selftest_seconds"] = round(time.perf_counter() - t0, 1)
        report["selftest_exit_code"] = code
    (DIST / "build-report.json").write_text(json.dumps(report, indent=2))
    print(json.dumps({k: v for k, v in report.items() if k != "trimmed"}, indent=2))
    return code


if __name__ == "__main__":
    sys.exit(main())
