"""A valid project file damaged at random offsets: every command works or refuses with one line.

Hypothesis changes a few bytes (anywhere, or near the text and blobs the file keeps) of a small
project (two rounds, labels, a skip, an undo) and runs
``status``, ``export``, ``label`` and ``round`` on it. Whatever the damage:

* no traceback: the exit code is 0, or 2 with one ``dami: error`` line;
* no label lost: the label events SQLite can still read are never fewer or other after a
  command than before it (a refused write changes nothing);
* the right data: when the damage spared the history (the events and classes read the same as
  the intact file's), ``status`` that works reports the intact file's labels;
* nothing written outside the project's folder.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from dami_gui.cli import main as cli
from dami_gui.core.project.opening import open_project

from . import flips
from .project_data import new_project

ROW_TO_LABEL = "r33"
EVENT_FIELDS = "seq, row, row_key, source_version, kind, label, round, time, undoes"


def typed(fields: str) -> str:
    """Each field and its storage class: a byte that turns the text 'undo' into the blob b'undo'
    damages the event, though both read back as the same bytes."""
    return ", ".join(f"{f}, typeof({f})" for f in fields.split(", "))


@dataclass(repr=False)
class Intact:
    """The undamaged project: its folder (with pool.csv), bytes, labels and skips."""

    folder: Path
    data: bytes
    labels: np.ndarray
    skipped: np.ndarray

    def __repr__(self) -> str:  # Hypothesis prints the arguments of a failing example
        return f"Intact({self.folder / 'p.dami'})"

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(repr(self))


@pytest.fixture(scope="module")
def intact(tmp_path_factory) -> Intact:
    folder = tmp_path_factory.mktemp("intact")
    with new_project(folder, n=40, labeled=9) as project:
        session = project.session
        session.run_round()
        queries = [int(r) for r in session.queries]
        session.label(queries[0], 1)
        session.skip(queries[1])
        session.label(queries[2], 2)
        session.undo()
        session.run_round()
        session.label(int(session.queries[0]), 0)
        labels, skipped = session.labels.copy(), session.skipped.copy()
    path = folder / "p.dami"
    assert not Path(f"{path}-wal").exists()  # folded in: the bytes are the whole project
    return Intact(folder, path.read_bytes(), labels, skipped)


def history(path: Path) -> tuple[list[tuple], list[tuple]] | None:
    """The events and classes as SQLite reads them, or None where it cannot."""
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True)
        conn.text_factory = bytes  # compared as stored, damaged text included
        try:
            read = conn.execute
            events = read(f"SELECT {typed(EVENT_FIELDS)} FROM events ORDER BY seq").fetchall()
            classes = read(f"SELECT {typed('code, name')} FROM classes ORDER BY code").fetchall()
        finally:
            conn.close()
    except (sqlite3.Error, UnicodeDecodeError):  # a name in the schema that is not text
        return None
    return events, classes


def tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` and a digest of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def run(capsys, *argv: object) -> int:
    """Run a command: exit code 0, or 2 with one error line; never a traceback."""
    code = cli.main([str(a) for a in argv])
    _, err = capsys.readouterr()
    errors = [line for line in err.splitlines() if line.startswith("dami: error")]
    assert "Traceback" not in err
    assert (code, len(errors)) in ((0, 0), (2, 1)), err
    return code


#: Where a change does most harm: near the text and blobs the project keeps (label events, the
#: settings, the columns, the CSV path, the arrays' and the weights' headers, coverage figures).
MARKERS = (b"label", b"skip", b"undo", b"model_config", b"species", b"pool.csv", b"n_features",
           b"DAMA", b"PK\x03\x04", b"coverage", b"feature", b"r3")  # fmt: skip


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,  # the same files on every run: a failure is reproducible, CI is stable
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(changes=flips.changes)
def test_any_damage_is_handled_or_refused_in_one_line(intact, tmp_path, capsys, changes):
    source = intact.folder
    work = Path(tempfile.mkdtemp(dir=tmp_path))
    folder, outside = work / "project", work / "outside"
    folder.mkdir()
    outside.mkdir()
    (outside / "precious").write_bytes(b"not dami's")
    shutil.copyfile(source / "pool.csv", folder / "pool.csv")
    path = folder / "p.dami"
    path.write_bytes(flips.damaged(intact.data, MARKERS, changes))
    spared = history(path) == history(source / "p.dami")
    before = history(path)

    for argv in (
        ["project", "status", path],
        ["project", "export", path, "-o", folder / "out.csv"],
        ["project", "label", path, ROW_TO_LABEL, "a"],
        ["project", "round", path],
    ):
        code = run(capsys, *argv)
        after = history(path)
        if before is not None:  # what SQLite could read is all still there
            assert after is not None and after[0][: len(before[0])] == before[0]
            assert after[1] == before[1]
            before = after
        if argv[1] == "status" and code == 0 and spared:
            with open_project(path, readonly=True) as project:
                np.testing.assert_array_equal(project.session.labels, intact.labels)
                np.testing.assert_array_equal(project.session.skipped, intact.skipped)
    assert tree(outside) == {"precious": hashlib.sha256(b"not dami's").hexdigest()}
    assert sorted(p.name for p in work.iterdir()) == ["outside", "project"]
    shutil.rmtree(work)
