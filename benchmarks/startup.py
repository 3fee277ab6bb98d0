"""How fast the command line answers: each command's start against a bare ``python -c pass``.

    python -m benchmarks.startup [--repeats 15]      (also the first table of benchmarks.speed)

Every command runs in a fresh process, as a user's shell starts it (the environment's ``dami``
script), on a small project after one round; the commands are taken in turn, one repetition of
each after the other, ``--repeats`` times, so a change of the machine's load touches them all
alike. The table gives each command's median wall time, and that median minus the bare
interpreter's (the issue's target: ``--help`` and ``project label`` within 0.5 s of it on an idle
machine), and the same for the CPU seconds the process used (user + system, from
``getrusage``), which a busy machine inflates much less than the wall time. ``import torch``
alone is measured too, for scale: what every command paid before. The load average before and
after is printed: the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def dami_command() -> list[str]:
    """The ``dami`` script beside this interpreter (as installed), else ``python -m``."""
    script = Path(sys.executable).with_name("dami.exe" if os.name == "nt" else "dami")
    return [str(script)] if script.exists() else [sys.executable, "-m", "dami_gui.cli"]


def make_project(folder: Path) -> Path:
    """A 90-row project with the tiny network of the tests, after one round."""
    sys.path.insert(0, str(ROOT))
    from tests.core.project_data import new_project

    with new_project(folder) as project:
        project.session.run_round()
    return folder / "p.dami"


def commands(project: Path, folder: Path) -> dict[str, list[str]]:
    dami, out = dami_command(), str(folder / "labeled.csv")
    return {
        "python -c pass": [sys.executable, "-c", "pass"],
        "python -c 'import torch'": [sys.executable, "-c", "import torch"],
        "dami --help": [*dami, "--help"],
        "dami --version": [*dami, "--version"],
        "dami project label P ROW LABEL": [*dami, "project", "label", str(project), "r40", "a"],
        "dami project undo P": [*dami, "project", "undo", str(project)],
        "dami project status P": [*dami, "project", "status", str(project)],
        "dami project export P -o F": [*dami, "project", "export", str(project), "-o", out],
    }


def measure(repeats: int) -> dict:
    """Median and all wall times (s) per command, taken in turn; the load before and after."""
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    with tempfile.TemporaryDirectory(prefix="dami-startup-") as tmp:
        folder = Path(tmp)
        project = make_project(folder)
        todo = commands(project, folder)
        times: dict[str, list[float]] = {name: [] for name in todo}
        cpu: dict[str, list[float]] = {name: [] for name in todo}
        for _ in range(repeats):
            for name, argv in todo.items():
                c0, t0 = _children_cpu(), time.perf_counter()
                done = subprocess.run(argv, capture_output=True, cwd=folder)
                times[name].append(time.perf_counter() - t0)
                cpu[name].append(_children_cpu() - c0)
                if done.returncode != 0:
                    raise RuntimeError(f"{name} failed: {done.stderr.decode()[-300:]}")
    load_after = os.getloadavg() if hasattr(os, "getloadavg") else None
    medians = {name: statistics.median(t) for name, t in times.items()}
    cpu_medians = {name: statistics.median(t) for name, t in cpu.items()}
    return {
        "medians": medians,
        "cpu_medians": cpu_medians,
        "times": times,
        "load": [load_before, load_after],
    }


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def format_table(result: dict) -> str:
    medians, cpu = result["medians"], result["cpu_medians"]
    bare, bare_cpu = medians["python -c pass"], cpu["python -c pass"]
    lines = [
        f"Command-line start (median of {len(next(iter(result['times'].values())))} runs each, "
        f"taken in turn; load average {_load(result['load'][0])} before, "
        f"{_load(result['load'][1])} after)",
        "",
        "| command | wall time | minus `python -c pass` | CPU time | minus `python -c pass` |",
        "|---|---|---|---|---|",
    ]
    for name, value in medians.items():
        used = cpu[name]
        lines.append(
            f"| `{name}` | {value:.2f} s | {value - bare:+.2f} s | {used:.2f} s | "
            f"{used - bare_cpu:+.2f} s |"
        )
    return "\n".join(lines)


def _load(load) -> str:
    return "n/a" if load is None else f"{load[0]:.2f}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=15, help="runs of each command (15)")
    args = ap.parse_args(argv)
    print(format_table(measure(args.repeats)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
