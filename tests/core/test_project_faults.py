"""Project files you can trust: each attack and failure found on them, reproduced and handled.

Links put beside a project; a full disk or a file-size limit when the log is folded in at close;
changes left in the write-ahead log and read from a read-only folder or by another user; crafted
files (damaged weights and arrays, a zlib bomb, label codes out of range, an absurd model, a CSV
path that leaves the folder); exports. Each case is refused with one line or handled, with nothing
lost and nothing written outside the project's folder. Crafted-file cases are in
``test_project_crafted.py``, random damage in ``test_project_fuzz.py``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest

from dami_gui.cli import main as cli
from dami_gui.core.errors import DamiError
from dami_gui.core.project import sidecars
from dami_gui.core.project.errors import ProjectError, translate_error
from dami_gui.core.project.export import export_labels
from dami_gui.core.project.opening import open_project
from dami_gui.core.project.storage import Store, create_file

from .project_data import make_v1, new_project, pool_frame

PRECIOUS = b"precious, not dami's\n"


def run(capsys, *argv: object) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err, err
    return code, out, err


def error_line(err: str) -> str:
    """The one error line of a refused command."""
    lines = [line for line in err.strip().splitlines() if line.startswith("dami: error")]
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file outside the project's folder that nothing may write: ``tmp_path/outside/precious``."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "precious").write_bytes(PRECIOUS)
    return folder / "precious"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A closed project in ``tmp_path/p`` (tiny network, 15 labels from the file)."""
    folder = tmp_path / "p"
    folder.mkdir()
    new_project(folder).close()
    return folder / "p.dami"


def events(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])
    finally:
        conn.close()


# ------------------------------------------------------------------ links beside the project


def test_a_lock_file_that_is_a_link_is_refused_and_its_target_kept(
    project: Path, outside: Path, capsys
) -> None:
    lock = sidecars.sidecar(project, ".lock")
    for make in (os.symlink, os.link):  # a link, and a second name of the same file
        make(outside, lock)
        code, _, err = run(capsys, "project", "label", project, "r50", "a")
        assert code == 2 and "p.dami.lock" in error_line(err) and "delete" in err
        assert outside.read_bytes() == PRECIOUS and events(project) == 0
        assert run(capsys, "project", "status", project)[0] == 0  # reading takes no lock
        lock.unlink()
    assert run(capsys, "project", "label", project, "r50", "a")[0] == 0
    assert outside.read_bytes() == PRECIOUS and not lock.exists()


@pytest.mark.parametrize("suffix", ["-wal", "-shm", "-journal"])
def test_sqlite_files_beside_the_project_may_not_be_links(
    project: Path, outside: Path, suffix: str, capsys
) -> None:
    link = sidecars.sidecar(project, suffix)
    nowhere = outside.with_name("created-through-a-link")
    for target in (outside, nowhere):  # an existing file, and a dangling link
        link.symlink_to(target)
        for argv in (["label", project, "r50", "a"], ["status", project]):
            code, _, err = run(capsys, "project", *argv)
            assert code == 2 and f"p.dami{suffix} beside p.dami is a link" in error_line(err)
        link.unlink()
    assert outside.read_bytes() == PRECIOUS and not nowhere.exists()
    assert events(project) == 0


def test_the_backup_before_an_upgrade_never_writes_through_a_link(
    project: Path, outside: Path
) -> None:
    with open_project(project) as opened:
        opened.session.label(40, 1)
    make_v1(project)
    link = project.with_name("p.dami.v1.bak")
    link.symlink_to(outside)
    with open_project(project) as opened:  # upgraded, the backup under the next free name
        assert opened.session.labels[40] == 1
    assert outside.read_bytes() == PRECIOUS and link.is_symlink()
    backup = project.with_name("p.dami.v1-2.bak")
    conn = sqlite3.connect(backup)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 1
    conn.close()
    assert not [p for p in project.parent.iterdir() if p.name.endswith(".tmp")]


def test_new_projects_and_exports_replace_links_never_their_targets(
    project: Path, outside: Path, tmp_path: Path
) -> None:
    dangling = project.with_name("new.dami")
    dangling.symlink_to(outside.with_name("new-target"))
    with pytest.raises(ProjectError, match="already exists"):
        create_file(dangling, lambda conn: None)
    assert not outside.with_name("new-target").exists()
    out = project.with_name("labels.csv")
    out.symlink_to(outside)
    with open_project(project, readonly=True) as opened:
        assert export_labels(opened.session, out) == 15
    assert outside.read_bytes() == PRECIOUS
    assert not out.is_symlink() and out.read_text().startswith("name,")
    assert sorted(p.name for p in project.parent.iterdir()) == [
        "labels.csv", "new.dami", "p.dami", "pool.csv"
    ]  # fmt: skip


# ------------------------------------------------------------------ files that are not files


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_in_place_of_the_project_or_its_csv_never_blocks(
    project: Path, tmp_path: Path, capsys
) -> None:
    """The one rule for every file read (core/untrusted.py): a regular file or one sentence.
    Opening a named pipe for reading waits for a writer; dami never does."""
    from .model_damage import never_blocked

    pipe = tmp_path / "pipe.dami"
    os.mkfifo(pipe)
    with never_blocked(tmp_path):
        for argv in (["project", "status", pipe], ["project", "label", pipe, "r1", "a"],
                     ["project", "new", pipe, "-o", pipe.with_name("n.dami"),
                      "--label-column", "y"]):  # fmt: skip
            code, _, err = run(capsys, *argv)
            assert code == 2 and "pipe.dami is a named pipe" in error_line(err), err
    csv = project.with_name("pool.csv")
    labels = events(project)
    csv.unlink()
    os.mkfifo(csv)  # the project's CSV file replaced by a pipe
    with never_blocked(csv.parent):
        code, _, err = run(capsys, "project", "status", project)
    assert code == 2 and "pool.csv" in error_line(err) and events(project) == labels


# ------------------------------------------------------------ a full disk, a file-size limit


@contextlib.contextmanager
def file_size_limit(limit: int) -> Iterator[None]:
    """No file of this process may grow beyond ``limit`` bytes inside the block (``ulimit -f``)."""
    resource = pytest.importorskip("resource")
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a kill
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def test_a_file_size_limit_at_close_is_reported_and_the_next_open_completes_it(
    project: Path, capsys
) -> None:
    with open_project(project) as opened:
        opened.session.run_round()
        opened.session.label(40, 1)
    with file_size_limit(project.stat().st_size):  # the round fits in the log, not in the file
        code, _, err = run(capsys, "project", "round", project)
    assert code == 2 and "Round 2 saved" in err
    line = error_line(err)
    assert "Everything is saved" in line and "p.dami-wal" in line and "ulimit -f" in line
    assert sidecars.wal_has_data(project)
    # not "truncated ... start a new project": the missing pages are in the log
    code, out, err = run(capsys, "project", "status", project)
    assert code == 0 and "Rounds    2;" in out, err
    assert run(capsys, "project", "label", project, "r41", "b")[0] == 0
    assert not sidecars.wal_has_data(project)  # folded in at last
    conn = sqlite3.connect(project)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM rounds").fetchone()[0] == 2
    conn.close()
    assert events(project) == 2


def test_messages_name_the_operation_that_failed(project: Path, tmp_path: Path) -> None:
    full = sqlite3.OperationalError("database or disk is full")
    opening = str(translate_error(full, project, "the project", "opened"))
    assert "could not be opened" in opening and "nothing in it was changed" in opening
    assert "saved" not in opening
    reading = str(translate_error(sqlite3.OperationalError("disk I/O error"), project,
                                  "the project", "read"))  # fmt: skip
    assert "the project could not be read" in reading and "saved" not in reading
    with (
        open_project(project, readonly=True) as opened,
        file_size_limit(100),
        pytest.raises(DamiError) as failure,
    ):
        export_labels(opened.session, tmp_path / "out.csv")
    message = str(failure.value)
    assert message.startswith("Cannot write the CSV") and "ulimit -f" in message
    assert "project" not in message and not (tmp_path / "out.csv").exists()


# ------------------------------------------------------------- the write-ahead log, readers


@pytest.fixture
def logged(tmp_path: Path) -> Path:
    """A project whose last 5 of 27 label events are still in its log (``-wal`` and ``-shm``).

    As a crash leaves it: copied while open, after 22 events were folded into the file.
    """
    source = tmp_path / "source"
    source.mkdir()
    with new_project(source) as opened:
        for row in range(20, 42):
            opened.session.label(row, row % 3)
    with open_project(source / "p.dami") as opened:
        for row in range(42, 47):
            opened.session.label(row, row % 3)
        copy = tmp_path / "logged"
        copy.mkdir()
        for name in ("pool.csv", "p.dami", "p.dami-wal", "p.dami-shm"):
            shutil.copyfile(source / name, copy / name)
    return copy / "p.dami"


@pytest.mark.parametrize("files", ["log and index", "log only"])
def test_a_reader_that_may_not_write_beside_the_file_sees_the_log(
    logged: Path, files: str, monkeypatch, capsys
) -> None:
    if files == "log only":
        sidecars.sidecar(logged, "-shm").unlink()
    # a read-only folder, or another user's project: SQLite may not create files beside it
    monkeypatch.setattr(sidecars, "_creates_usable_files", lambda path: False)
    before = sorted(os.listdir(logged.parent))
    code, out, _ = run(capsys, "project", "status", logged)
    assert code == 0 and "Labels    42 (15 from the file)" in out  # not 37: the log is read
    assert run(capsys, "project", "export", logged, "-o", logged.parent / "x.csv")[0] == 0
    assert len((logged.parent / "x.csv").read_text().splitlines()) == 43
    (logged.parent / "x.csv").unlink()
    assert sorted(os.listdir(logged.parent)) == before


def test_a_writer_during_an_unlocked_read_is_noticed(project: Path, monkeypatch) -> None:
    monkeypatch.setattr(sidecars, "_creates_usable_files", lambda path: False)
    reader = Store(project, readonly=True)  # no log: read without locks
    assert reader.query("SELECT count(*) FROM events") == [(0,)]
    with open_project(project) as writer:
        writer.session.label(40, 0)
    with pytest.raises(ProjectError, match="changed by another dami window or command while"):
        reader.query("SELECT count(*) FROM events")
    reader.close()


# ------------------------------------------------------------------------- other users

OWNER, READER = 4242, 4243
needs_root = pytest.mark.skipif(
    not hasattr(os, "fork") or os.geteuid() != 0, reason="acting as other users needs root"
)


def as_user(uid: int, work: Callable[[], object]) -> tuple[int, str]:
    """Run ``work`` in a forked child as the user ``uid``: (exit code, its result or error).

    The child uses the storage layer only (SQLite, files), nothing that starts threads.
    """
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code, text = 0, ""
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            text = str(work())
        except BaseException as error:  # everything goes back to the parent as text
            code, text = 1, f"{type(error).__name__}: {error}"
        finally:
            os.write(write, text.encode()[:60000])
            os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        text = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), text


def count_events(path: Path) -> int:
    store = Store(path, readonly=True)
    try:
        return int(store.query("SELECT count(*) FROM events")[0][0])
    finally:
        store.close()


def plain_sqlite_read(path: Path) -> int:
    """What a reader of an older dami did: SQLite's read-only mode, creating -wal and -shm."""
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])
    finally:
        conn.close()


def write_probe(path: Path) -> str:
    store = Store(path)
    try:
        with store.transaction("the label") as conn:
            conn.execute("INSERT INTO meta VALUES ('probe', '1')")
    finally:
        store.close()
    return "written"


@pytest.fixture
def shared() -> Iterator[Path]:
    """A folder every user may write to, where other users can reach it (not under tmp_path)."""
    folder = Path(tempfile.mkdtemp(prefix="dami-shared-"))
    folder.chmod(0o777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@needs_root
def test_another_users_reads_leave_nothing_the_owner_cannot_use(shared: Path) -> None:
    new_project(shared).close()
    path = shared / "p.dami"
    for file in shared.iterdir():
        os.chown(file, OWNER, OWNER)
    before = sorted(os.listdir(shared))
    assert as_user(READER, lambda: count_events(path)) == (0, "0")
    assert sorted(os.listdir(shared)) == before  # nothing of the reader's is left
    # an older dami's reader left its empty -wal and -shm, which the owner may not write
    assert as_user(READER, lambda: plain_sqlite_read(path)) == (0, "0")
    assert os.stat(shared / "p.dami-wal").st_uid == READER
    assert as_user(OWNER, lambda: write_probe(path)) == (0, "written")
    assert sqlite3.connect(path).execute("SELECT value FROM meta WHERE key = 'probe'").fetchone()


@needs_root
@pytest.mark.parametrize("files", ["log and index", "log only"])
def test_a_read_only_folder_is_read_with_its_log(logged: Path, shared: Path, files: str) -> None:
    folder = shared / "read-only"
    shutil.copytree(logged.parent, folder)
    if files == "log only":
        sidecars.sidecar(folder / "p.dami", "-shm").unlink()
    folder.chmod(0o755)  # root's: the reader may read, not write
    before = sorted(os.listdir(folder))
    assert as_user(READER, lambda: count_events(folder / "p.dami")) == (0, "27")
    assert sorted(os.listdir(folder)) == before


# ------------------------------------------------------------------------------- exports


def test_select_out_is_formula_safe_and_written_whole(tmp_path: Path, capsys, monkeypatch):
    frame = pool_frame(n=60, labeled=15)
    frame["name"] = [f"=cmd|' /C calc'!A{i}" for i in range(60)]
    frame["species"] = frame["species"].replace({"a": "@SUM(1+1)"})
    pool = tmp_path / "pool.csv"
    frame.to_csv(pool, index=False)
    out = tmp_path / "queries.csv"
    out.write_text("the previous queries\n")
    argv = ["select", pool, "--label-column", "species", "--id-column", "name", "--out", out]

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("dami_gui.core.project.export.os.fsync", full_disk)
    code, _, err = run(capsys, *argv, "--batch", "5")
    assert code == 2 and "Cannot write the rows to label" in error_line(err)
    assert out.read_text() == "the previous queries\n"  # not a 0-byte file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pool.csv", "queries.csv"]
    monkeypatch.undo()
    assert run(capsys, *argv, "--batch", "5")[0] == 0
    written = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert written["id"].str.startswith("'=cmd").all()
    assert set(written["predicted"]) <= {"'@SUM(1+1)", "b", "c"}
    assert written["score"].map(float).notna().all()  # numbers stay numbers


def test_every_file_dami_exports_goes_through_the_one_export_path() -> None:
    """The window's File → Export, ``dami export`` and ``dami select --out`` write with
    ``core/project/export.py``; no other module writes a file (the project's own storage aside).
    """
    package = Path(cli.__file__).resolve().parents[1]
    writes = re.compile(r"\.to_csv\(|\.write_text\(|\.write_bytes\(|open\([^)]*['\"][wa]b?['\"]")
    found = [
        f"{path.relative_to(package)}:{number}"
        for path in package.rglob("*.py")
        if path.relative_to(package).as_posix() != "core/project/export.py"
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if writes.search(line)
    ]
    assert found == []
