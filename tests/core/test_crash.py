"""Nothing acknowledged is lost: a labeling process killed with SIGKILL, then the project reopened.

The child labels rows (and runs rounds) through a project, printing one acknowledgement line after
each call returns, that is, after the app would have shown the label as given. The parent reads
those lines, kills the child at a chosen moment, reopens the project and checks that every
acknowledged label is there. The parent waits only by reading the child's output.
"""

from __future__ import annotations

import os
import selectors
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from dami_gui.core.project.errors import ProjectLocked
from dami_gui.core.project.opening import open_project

from .project_data import new_project

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

REPO = Path(__file__).resolve().parents[2]
CHILD = textwrap.dedent(
    """
    import sys
    from dami_gui.core.project.opening import open_project

    project = open_project(sys.argv[1])
    session, mode = project.session, sys.argv[2]
    hold_in = int(sys.argv[3]) if len(sys.argv) > 3 else None

    def progress(stage, fraction):
        # In the round to be killed in, stop inside it (mid-training) until the kill comes, so
        # the kill lands during the round however fast the machine is.
        if len(session.rounds) + 1 == hold_in:
            print(f"IN-ROUND {hold_in}", flush=True)
            sys.stdin.readline()

    print("READY", flush=True)
    if mode == "hold":
        sys.stdin.readline()
        sys.exit(0)
    rows = [r for r in range(session.n_rows) if session.labels[r] < 0]
    for i, row in enumerate(rows):
        name = session.dataset.ids[row]
        if i % 5 == 4:
            session.skip(row)
            print(f"SKIP {name}", flush=True)
        else:
            code = row % len(session.classes)
            session.label(row, code)
            print(f"LABEL {name} {session.classes[code]}", flush=True)
        if mode == "rounds" and i % 4 == 3:
            print(f"ROUND {len(session.rounds) + 1}", flush=True)
            session.run_round(progress=progress)
            print(f"ROUND-DONE {len(session.rounds)}", flush=True)
    print("END", flush=True)
    """
)


class Child:
    """A child process running :data:`CHILD` on a project; lines are read as they come."""

    def __init__(self, folder: Path, project: Path, mode: str, *extra: str) -> None:
        script = folder / "child.py"
        script.write_text(CHILD)
        env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, str(script), str(project), mode, *extra],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=folder,
        )
        self.lines: list[str] = []
        # Read the pipe itself, not through a buffered file: a buffered readline can take two
        # lines from the pipe and return one, and select() would then wait for the other forever.
        self._fd = self.proc.stdout.fileno()
        self._pending = b""
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._fd, selectors.EVENT_READ)

    def _line(self, deadline: float) -> str | None:
        """The next whole line (stripped); "" at the end of the output, None at the deadline."""
        while b"\n" not in self._pending:
            if not self._selector.select(max(deadline - time.monotonic(), 0)):
                return None
            chunk = os.read(self._fd, 65536)
            if not chunk:
                return ""
            self._pending += chunk
        line, self._pending = self._pending.split(b"\n", 1)
        return line.decode().strip() or " "

    def wait_for(self, predicate, timeout: float = 120.0) -> str:
        """Read lines until one satisfies ``predicate``; fail if the child stops or stalls."""
        deadline = time.monotonic() + timeout
        while (line := self._line(deadline)) is not None:
            if not line:
                pytest.fail(f"the child ended early: {self.proc.stderr.read()[-2000:]}")
            if not line.strip():
                continue
            self.lines.append(line.strip())
            if predicate(line.strip()):
                return line.strip()
        self.kill()
        pytest.fail(f"the child did not get there in {timeout} s; last lines {self.lines[-3:]}")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        rest = self._pending
        while chunk := os.read(self._fd, 65536):
            rest += chunk
        self._pending = b""
        self.lines += [line.strip() for line in rest.decode().splitlines() if line.strip()]
        self.proc.stdout.close()
        self.proc.stderr.close()
        self.proc.stdin.close()
        self._selector.close()

    def acknowledged(self) -> tuple[dict[str, str], set[str], int]:
        """Labels (id -> class) and skips acknowledged, and the rounds reported done."""
        labels, skips, rounds = {}, set(), 0
        for line in self.lines:
            parts = line.split()
            if parts[0] == "LABEL":
                labels[parts[1]] = parts[2]
            elif parts[0] == "SKIP":
                skips.add(parts[1])
            elif parts[0] == "ROUND-DONE":
                rounds = int(parts[1])
        return labels, skips, rounds


def check_everything_acknowledged_is_there(path: Path, child: Child) -> None:
    labels, skips, rounds = child.acknowledged()
    assert labels and (path.with_name(path.name + ".lock")).exists()  # the dead child's lock
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    with open_project(path) as project:  # the lock died with the child
        session = project.session
        for name, cls in labels.items():
            assert session.classes[session.labels[project.row_of_id(name)]] == cls, name
        for name in skips:
            assert session.skipped[project.row_of_id(name)], name
        assert len(session.rounds) >= rounds
        assert len(session.events) >= len(labels) + len(skips)
        if session.rounds:
            assert session.rounds[-1].proba.shape == (session.n_rows, len(session.classes))
        session.label(project.row_of_id("r89"), 0)  # and the project goes on


def test_killed_while_labeling(tmp_path: Path) -> None:
    new_project(tmp_path).close()
    path = tmp_path / "p.dami"
    child = Child(tmp_path, path, "labels")
    acks = 0

    def enough(line: str) -> bool:
        nonlocal acks
        acks += line.startswith(("LABEL", "SKIP"))
        return acks >= 30

    child.wait_for(enough)
    child.kill()
    check_everything_acknowledged_is_there(path, child)


@pytest.mark.parametrize("round_number", [1, 3])
def test_killed_while_a_round_runs(tmp_path: Path, round_number: int) -> None:
    new_project(tmp_path).close()
    path = tmp_path / "p.dami"
    child = Child(tmp_path, path, "rounds", str(round_number))
    child.wait_for(lambda line: line == f"IN-ROUND {round_number}")
    child.kill()  # the round is training
    check_everything_acknowledged_is_there(path, child)
    _, _, rounds = child.acknowledged()
    assert rounds == round_number - 1


def test_killed_right_after_a_round_was_saved(tmp_path: Path) -> None:
    new_project(tmp_path).close()
    path = tmp_path / "p.dami"
    child = Child(tmp_path, path, "rounds")
    child.wait_for(lambda line: line == "ROUND-DONE 2")
    child.kill()
    check_everything_acknowledged_is_there(path, child)
    with open_project(path) as project:
        assert len(project.session.rounds) >= 2


def test_a_project_open_in_another_process_is_locked_until_it_exits(tmp_path: Path) -> None:
    new_project(tmp_path).close()
    path = tmp_path / "p.dami"
    child = Child(tmp_path, path, "hold")
    child.wait_for(lambda line: line == "READY")
    with pytest.raises(ProjectLocked, match=rf"process {child.proc.pid} on"):
        open_project(path)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cli = subprocess.run(
        [sys.executable, "-m", "dami_gui.cli", "project", "label", str(path), "r50", "a"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert cli.returncode == 2
    assert cli.stderr.strip().count("\n") == 0 and "open in another dami" in cli.stderr
    child.kill()
    with open_project(path) as project:
        project.session.label(50, 0)
