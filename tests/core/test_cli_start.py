"""The command line answers at once: the commands that only read or write labels, and the help
and version, never load torch, umap or scikit-learn (issue 24); label, skip, undo and status do
not load pandas either while the project's CSV file is the recorded one (they do not read it).

Each command runs in a fresh interpreter (this test process has torch loaded already), which
then lists the heavy modules it loaded. A probe of what was imported, not a wall-time limit:
the time itself is measured side by side in ``benchmarks/speed.py`` (``--startup``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .project_data import new_project

#: What the light commands must not load (seconds of start-up each).
HEAVY = ("torch", "umap", "sklearn", "numba", "pynndescent", "scipy")
#: What reading a table loads (pyarrow: pandas loads it where it is installed, e.g. the dask extra).
TABLE = ("pandas", "pyarrow")

PROBE = """
import json, sys
from dami_gui.cli.main import main
heavy = set(sys.argv.pop(1).split(","))
try:
    code = main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "loaded": sorted(set(sys.modules) & heavy)}), file=sys.stderr)
"""


def loaded_by(*argv: str, cwd: Path) -> list[str]:
    """The heavy and table modules ``dami ARGV`` loaded, in a fresh interpreter (which must
    succeed)."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, ",".join(HEAVY + TABLE), *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["code"] in (0, None), done.stderr
    return report["loaded"]


@pytest.fixture(scope="module")
def played(tmp_path_factory) -> Path:
    """A project after one round (so status has coverage to print and export has rounds)."""
    folder = tmp_path_factory.mktemp("start")
    with new_project(folder) as project:
        project.session.run_round()
    return folder / "p.dami"


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["--version"],
        ["project", "label", "{p}", "r40", "a"],
        ["project", "label", "{p}", "r41", "--skip"],
        ["project", "undo", "{p}"],
        ["project", "status", "{p}"],
    ],
    ids=["help", "version", "label", "skip", "undo", "status"],
)
def test_light_commands_load_no_torch_nor_pandas(played: Path, argv: list[str]) -> None:
    args = [a.format(p=played) for a in argv]
    assert loaded_by(*args, cwd=played.parent) == []


def test_the_labels_export_reads_the_table_without_torch(played: Path) -> None:
    """It writes the rows of the CSV file: pandas, which the probe sees, but no torch."""
    loaded = loaded_by("project", "export", str(played), "-o", "labeled.csv", cwd=played.parent)
    assert "pandas" in loaded and not set(loaded) & set(HEAVY)


def test_a_label_reads_a_changed_file_as_before(played: Path, tmp_path: Path) -> None:
    """A CSV file that is not the recorded one (other bytes, the same rows) is read again."""
    folder = tmp_path / "copy"
    shutil.copytree(played.parent, folder)
    pool = folder / "pool.csv"
    pool.write_bytes(pool.read_bytes().replace(b"\n", b"\r\n"))
    loaded = loaded_by("project", "label", str(folder / "p.dami"), "r42", "b", cwd=folder)
    assert "pandas" in loaded and not set(loaded) & set(HEAVY)


def test_the_probe_sees_torch_where_a_command_needs_it(played: Path) -> None:
    """The check can fail: exporting the model reads the network, which loads torch."""
    model = played.parent / "model.safetensors"
    loaded = loaded_by("project", "export", str(played), "-o", "x.csv", "--model", str(model),
                       cwd=played.parent)  # fmt: skip
    assert "torch" in loaded


def test_version_names_torch_without_loading_it(played: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dami_gui.cli", "--version"], capture_output=True, text=True
    )
    assert "torch 2." in done.stdout
