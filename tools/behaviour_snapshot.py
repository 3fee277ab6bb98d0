"""Record what the engine does, so a refactor can prove it changed nothing.

``python tools/behaviour_snapshot.py save FOLDER`` runs, through the ``dami`` command line only
(the one interface a refactor must keep), a few ``dami simulate`` campaigns (data sets x
strategies x seeds), and a scripted project (new, labels, skips, an undo, rounds, status,
export) whose project file it keeps; it writes every result to ``FOLDER/snapshot.json``.

``python tools/behaviour_snapshot.py check FOLDER`` runs the same again, also reopens the
project file saved by ``save`` (an old file, replayed by the new code), and compares: curves,
queries and exports must be bit-identical. Exit 0 when everything matches, 1 with the
differences otherwise.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "resources" / "segment.csv"
STRATEGIES = ["dami-plus", "dami", "badge", "coreset", "margin", "random"]
SEEDS = [0, 1]


def dami(*args: str | Path, cwd: Path | None = None) -> str:
    """Run ``python -m dami_gui.cli ARGS`` and return its standard output (fail loudly)."""
    done = subprocess.run(
        [sys.executable, "-m", "dami_gui.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
    )
    if done.returncode != 0:
        raise SystemExit(f"dami {' '.join(map(str, args))} failed:\n{done.stderr}{done.stdout}")
    return "".join(line for line in done.stdout.splitlines(keepends=True)
                   if not line.startswith("Done in"))  # wall time is not behaviour


def synthetic_csv(folder: Path) -> Path:
    """A mixed numeric / categorical pool with three classes (seeded, written as CSV)."""
    rng = np.random.default_rng(7)
    n = 600
    x = rng.normal(size=(n, 4))
    colour = rng.choice(["red", "green", "blue"], size=n)
    y = np.where(x[:, 0] + (colour == "red") > 0.5, "a", np.where(x[:, 1] > 0, "b", "c"))
    path = folder / "mixed.csv"
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["id", "f1", "f2", "f3", "f4", "colour", "label"])
        for i in range(n):
            out.writerow([f"r{i:04d}", *np.round(x[i], 5), colour[i], y[i]])
    return path


def simulations(folder: Path) -> dict[str, object]:
    results: dict[str, object] = {}
    data = {"segment": (DEMO, "class", "patch_id"), "mixed": (synthetic_csv(folder), "label", "id")}
    for name, (path, label, ident) in data.items():
        for strategy in STRATEGIES:
            for seed in SEEDS:
                out = folder / f"{name}-{strategy}-{seed}.json"
                dami("simulate", path, "--label-column", label, "--id-column", ident,
                     "--strategy", strategy, "--batch", "10", "--rounds", "3",
                     "--seed", str(seed), "--out", out)
                curve = json.loads(out.read_text())
                for point in curve.get("points", []):  # wall time is not behaviour
                    point.pop("seconds", None)
                    point.pop("timings", None)
                curve.pop("seconds", None)
                results[f"{name}/{strategy}/{seed}"] = curve
    return results


def project_script(folder: Path, project: Path) -> dict[str, object]:
    """Labels, a skip, an undo and rounds on the demo; the outputs of status and export."""
    results: dict[str, object] = {}
    rows = list(csv.DictReader(DEMO.open()))
    truth = {row["patch_id"]: row["class"] for row in rows}
    pool = folder / "pool.csv"
    with pool.open("w", newline="") as handle:
        out = csv.DictWriter(handle, fieldnames=list(rows[0]))
        out.writeheader()
        for i, row in enumerate(rows):  # every 200th row keeps its label: a warm start
            out.writerow(row if i % 200 == 0 else {**row, "class": ""})
    dami("project", "new", pool, "--label-column", "class", "--id-column", "patch_id",
         "--batch", "8", "--seed", "3", "-o", project)
    for round_index in range(2):
        out = dami("project", "round", project)
        results[f"round{round_index}"] = out
        queries = [line.split()[1] for line in out.splitlines()
                   if len(line.split()) > 2 and line.split()[1] in truth]
        for i, row_id in enumerate(queries):
            if i == 2:
                dami("project", "label", project, row_id, "--skip")
            else:
                dami("project", "label", project, row_id, truth[row_id])
        dami("project", "undo", project)
    results.update(project_outputs(folder, project))
    return results


def project_outputs(folder: Path, project: Path) -> dict[str, object]:
    results: dict[str, object] = {"status": dami("project", "status", project)}
    out = folder / "labels.csv"
    dami("project", "export", project, "-o", out)
    results["export"] = out.read_text()
    dami("project", "export", project, "-o", out, "--all")
    results["export_all"] = out.read_text()
    return results


def normalised(text: str, work: Path) -> object:
    """JSON text with the run's own folders replaced, so two checkouts compare equal."""
    text = text.replace(json.dumps(str(work))[1:-1], "<work>")
    text = re.sub(r'[^"\s]*/work-(save|check)\b', "<work>", text)  # a copied snapshot folder
    return json.loads(re.sub(r'[^"\s]*/resources/', "<repo>/resources/", text))


def differences(before: dict, after: dict, prefix: str = "") -> list[str]:
    found = []
    for key in sorted(set(before) | set(after)):
        if before.get(key) != after.get(key):
            found.append(f"{prefix}{key}: {str(before.get(key))[:200]!r} != "
                         f"{str(after.get(key))[:200]!r}")
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in {"save", "check"}:
        print(__doc__)
        return 2
    folder = Path(argv[1]).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    work = folder / f"work-{argv[0]}"  # kept after save: the saved project's CSV lives there
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    snapshot = {"simulate": simulations(work)}
    project = work / "scripted.dami"
    snapshot["project"] = project_script(work, project)
    if argv[0] == "save":
        (folder / "snapshot.json").write_text(json.dumps(snapshot, indent=1, sort_keys=True))
        print(f"saved {len(snapshot['simulate'])} curves and a project in {folder}")
        return 0
    before = normalised((folder / "snapshot.json").read_text(), folder / "work-save")
    snapshot = normalised(json.dumps(snapshot), work)
    after_old = project_outputs(work, folder / "work-save" / "scripted.dami")
    found = differences(before["simulate"], snapshot["simulate"], "simulate ")
    found += differences(before["project"], snapshot["project"], "project ")
    after_old = normalised(json.dumps(after_old), folder / "work-save")
    old = {k: v for k, v in before["project"].items() if k in after_old}
    found += differences(old, after_old, "old project file ")
    for line in found:
        print(line)
    print(f"{len(found)} differences over {len(before['simulate'])} curves and the project")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
