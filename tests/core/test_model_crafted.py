"""Crafted and damaged exported models, and new files, meet the bar project files meet.

Each kind of damage of :mod:`.model_damage` (a crafted model.json, a damaged weights file, a
hostile file to predict) gives ``dami predict`` one line and exit code 2, or, for the few that
are benign, predictions that are complete, finite and flagged. Then what a file claims is checked
before it costs memory (a network of 1.3 GB, a weights file of 2.5 GB, a description of 40 MB),
a value float32 cannot hold is clamped and flagged, a network that overflows is refused with
the row, a named pipe never blocks, and the export itself names a loader that exists and no
folder of its maker.
"""

from __future__ import annotations

import importlib
import itertools
import json
import os
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dami_gui.core.data.preprocessing import MAX_FEATURE
from dami_gui.core.errors import DataError
from dami_gui.core.model import MLP
from dami_gui.core.prediction import safetensors
from dami_gui.core.prediction.model_file import LOADER, load_model
from dami_gui.core.prediction.new_rows import Predictor, predict_frame
from dami_gui.core.project.export import export_model
from dami_gui.core.untrusted import MAX_WEIGHT

from . import model_damage as damage
from .model_damage import CSV, JSON, WEIGHTS


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> Path:
    return damage.make_export(tmp_path_factory.mktemp("export"))


@pytest.fixture
def folder(export, tmp_path) -> Path:
    return damage.copy_export(export, tmp_path / "model")


@pytest.mark.parametrize("kind", list(damage.DAMAGE))
def test_each_kind_of_damage_is_one_line_or_flagged_predictions(folder, capsys, kind):
    classes = damage.description(folder)["classes"]
    damage.DAMAGE[kind](folder)
    error, table = damage.run_app(folder, capsys)
    if kind not in damage.BENIGN:
        assert error is not None, f"{kind}: accepted"
        assert "\n" not in error and len(error) < 400
        return
    assert error is None, error
    damage.check_predictions(table, classes, len(damage.new_rows()))
    flagged = damage.CLAMPED.get(kind, {})
    expected = [flagged.get(i, "") for i in range(len(table))]
    assert table.get("clamped", pd.Series([""] * len(table))).tolist() == expected


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        ("json nested 100,000 deep", "nested too deeply"),
        ("format_version as text", "format_version that is not a whole number"),
        ("format_version as a list", "format_version that is not a whole number"),
        ("weights ../x", "names its weights file '../x', which is not a file name beside it"),
        ("weights absolute", "which is not a file name beside it"),
        ("weights empty", "names its weights file '', which is not a file name"),
        ("hidden [16000, 16000]", "more than the 50,000,000 dami-gui reads"),
        ("NaN weight", "not finite numbers"),
        ("infinite weight", "not finite numbers"),
        ("weight 1e30", f"beyond ±{MAX_WEIGHT:g}"),
        ("weights 2.5 GB", "bytes after the last tensor"),
        ("weights not the signed ones", "not the weights file written with its JSON"),
        ("header not UTF-8", "the header is not UTF-8 text"),
        ("a tensor missing", "lacks the tensor linears.1.weight"),
        ("scale zero", "its scale is not above 0"),
        ("mean as text", "'0.5' is not a finite number"),
    ],
)
def test_the_sentence_says_what_is_wrong(folder, capsys, kind, words):
    damage.DAMAGE[kind](folder)
    error, _ = damage.run_app(folder, capsys)
    assert error is not None and words in error, error


def peak_of(call) -> tuple[BaseException | None, int]:
    """What ``call()`` raised and the most memory Python allocated meanwhile."""
    tracemalloc.start()
    raised = None
    try:
        call()
    except Exception as exc:
        raised = exc
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return raised, peak


def test_a_huge_claimed_network_costs_nothing_before_it_is_refused(folder, monkeypatch):
    """The spec (1.3 GB of weights) is refused from the limits; a spec within them that does not
    match the weights file (192 MB) is refused from its header: no network is built."""
    built = []
    monkeypatch.setattr(MLP, "from_spec", lambda *a, **k: built.append(a))
    damage.edit_json(folder, damage.huge_network)
    raised, peak = peak_of(lambda: load_model(folder / JSON))
    assert isinstance(raised, DataError) and "more than the 50,000,000" in str(raised)
    assert peak < 8 << 20 and not built

    def big_but_allowed(meta: dict) -> None:
        damage.huge_network(meta)
        meta["spec"]["hidden"] = meta["architecture"]["hidden"] = [6000, 8000]

    damage.edit_json(folder, big_but_allowed)
    raised, peak = peak_of(lambda: load_model(folder / JSON))
    assert isinstance(raised, DataError), raised
    assert "has another shape or type for the tensor linears.0.weight" in str(raised)
    assert peak < 8 << 20 and not built


def test_a_huge_file_is_refused_from_its_size_before_it_is_read(folder, export):
    damage.huge_weights(folder)  # 2.5 GB, sparse
    raised, peak = peak_of(lambda: load_model(folder / JSON))
    assert isinstance(raised, DataError) and "bytes after the last tensor" in str(raised)
    assert peak < 8 << 20
    # a header claiming a 2.5 GB tensor, in a file that size: refused from the header
    damage.copy_export(export, folder)
    header, buffer = damage.split(folder)
    header["linears.0.weight"]["shape"] = [25_000, 25_000]
    damage.write_weights(folder, damage.join(header, buffer))
    with (folder / WEIGHTS).open("r+b") as handle:
        handle.truncate(2_500_000_000)
    raised, peak = peak_of(lambda: load_model(folder / JSON))
    assert isinstance(raised, DataError) and peak < 8 << 20
    # a description of 40 MB: refused from its size
    with (folder / JSON).open("r+b") as handle:
        handle.truncate(40 << 20)
    raised, peak = peak_of(lambda: load_model(folder / JSON))
    assert isinstance(raised, DataError) and "larger than a model description can be" in str(raised)
    assert peak < 8 << 20


def test_old_pt_weights_are_bounded_and_checked(export, tmp_path):
    from dami_gui.core.project.opening import open_project

    with open_project(export / "p.dami", readonly=True) as project:
        export_model(project.session, tmp_path / "old.pt")
    assert load_model(tmp_path / "old.json").classes == ["a", "b", "c"]
    meta = json.loads((tmp_path / "old.json").read_text())
    del meta["weights_sha256"]  # as 0.2 wrote it: the checks behind the digest still hold
    (tmp_path / "old.json").write_text(json.dumps(meta))
    with (tmp_path / "old.pt").open("r+b") as handle:
        handle.truncate(3_000_000_000)
    raised, peak = peak_of(lambda: load_model(tmp_path / "old.json"))
    assert isinstance(raised, DataError) and "larger than a model's weights file can be" in str(
        raised
    )
    assert peak < 8 << 20
    (tmp_path / "old.pt").write_bytes(b"PK\x03\x04 not an archive")
    with pytest.raises(DataError, match="not a model's weights file"):
        load_model(tmp_path / "old.json")


# ------------------------------------------------------------------------------ predictions


def test_values_float32_cannot_hold_are_clamped_and_flagged(export):
    predictor = Predictor.from_export(export / JSON)
    frame = damage.new_rows()
    frame.loc[2, "x1"], frame.loc[7, "x2"], frame.loc[9, "x1"] = 1e300, -1e308, 1e300
    table, report = predict_frame(predictor, frame)
    proba = damage.check_predictions(table, predictor.classes, len(frame))
    assert table["clamped"].tolist() == [
        {2: "x1", 7: "x2", 9: "x1"}.get(i, "") for i in range(len(frame))
    ]
    assert {c: rows.tolist() for c, rows in report.clamped.items()} == {"x1": [2, 9], "x2": [7]}
    text = "\n".join(report.lines())
    assert "Column 'x1': 2 rows (3, 10) with a value more than 1,000,000 standard" in text
    # the clamped row is predicted as a row at the bound would be
    at_bound = damage.new_rows()
    t = predictor.preprocessing.transforms[0]
    at_bound.loc[2, "x1"] = t.mean + MAX_FEATURE * t.std
    np.testing.assert_allclose(predict_frame(predictor, at_bound)[0].iloc[2, 2:5], proba[2])
    # nothing flagged: no column
    assert "clamped" not in predict_frame(predictor, damage.new_rows())[0].columns


def test_a_network_that_overflows_is_refused_with_the_row(folder, capsys):
    """Weights within the limits, six layers deep: a clamped input drives the logits past
    float32, and the row is named instead of given a class it did not compute."""
    depth = 6
    arrays = {}
    widths = [8, *[8] * depth, 3]
    for i, (a, b) in enumerate(itertools.pairwise(widths)):
        arrays[f"linears.{i}.weight"] = np.full((b, a), 2e4, np.float32)
        arrays[f"linears.{i}.bias"] = np.zeros(b, np.float32)
    arrays[f"linears.{depth}.weight"][0] *= -1  # two classes far apart: an inf - inf
    (folder / WEIGHTS).write_bytes(safetensors.encode(arrays))

    def deep(meta: dict) -> None:
        meta["spec"]["hidden"] = meta["architecture"]["hidden"] = [8] * depth
        meta["architecture"]["layers"] = [
            {"weight": f"linears.{i}.weight", "bias": f"linears.{i}.bias", "activation": "relu"}
            for i in range(depth + 1)
        ]
        meta["architecture"]["layers"][-1]["activation"] = "softmax"

    damage.edit_json(folder, deep)
    damage.sign(folder)
    damage.cell_text("x1", 4, "1e300")(folder)
    error, _ = damage.run_app(folder, capsys)
    assert error is not None and "no finite probabilities for row 5 (name new4)" in error, error
    assert not (folder / "out.csv").exists()
    # the numpy example computes in float64, where weights within the limits cannot overflow
    _, table = damage.run_standalone(folder, capsys)
    assert table is not None and table.loc[4, "clamped"] == "x1"


# ------------------------------------------------------------------------------ the export


def test_the_load_field_names_a_function_that_exists(export):
    meta = damage.description(export)
    target = meta["load"].split("(")[0]
    assert target == LOADER
    module, _, function = target.rpartition(".")
    loader = getattr(importlib.import_module(module), function)
    assert loader(export / JSON).classes == meta["classes"]


def test_the_export_records_no_folder_of_its_maker(export):
    meta = damage.description(export)
    assert meta["source"] == "pool.csv"
    text = (export / JSON).read_text()
    assert str(export) not in text and os.sep + "pool.csv" not in text
    assert "NaN" not in text and "Infinity" not in text  # strict JSON, any parser reads it


def test_a_named_pipe_as_model_or_data_is_refused_at_once(export, tmp_path, capsys):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes here")
    from dami_gui.cli import main as cli

    os.mkfifo(tmp_path / "pipe.csv")
    os.mkfifo(tmp_path / "pipe.dami")
    with damage.never_blocked(tmp_path):
        assert cli.main(["predict", str(export / JSON), str(tmp_path / "pipe.csv"),
                         "-o", str(tmp_path / "o.csv")]) == 2  # fmt: skip
        assert "pipe.csv is a named pipe" in capsys.readouterr().err
        assert cli.main(["predict", str(tmp_path / "pipe.dami"), str(export / CSV),
                         "-o", str(tmp_path / "o.csv")]) == 2  # fmt: skip
        assert "pipe.dami is a named pipe, not an ordinary file" in capsys.readouterr().err
        assert cli.main(["project", "status", str(tmp_path / "pipe.dami")]) == 2
        assert "named pipe" in capsys.readouterr().err


# ------------------------------------------------------------------ a file changed under predict


def rewrite_same_size_time_restored(csv: Path) -> None:
    """Rewritten in place at the same size, its modification time set back (``cp -p``, a sync
    tool): only the status-change time tells."""
    info = csv.stat()
    csv.write_bytes(csv.read_bytes().replace(b"checked", b"CHECKED"))
    os.utime(csv, ns=(info.st_atime_ns, info.st_mtime_ns))


def replace_by_rename(csv: Path) -> None:
    """Another file moved over the name (how editors and most programs save)."""
    other = csv.with_name("other.csv")
    other.write_bytes(csv.read_bytes())
    os.replace(other, csv)


@pytest.mark.parametrize(
    "change",
    [
        lambda csv: os.truncate(csv, csv.stat().st_size // 2),
        rewrite_same_size_time_restored,
        replace_by_rename,
    ],
    ids=["truncated", "same size, time set back", "replaced"],
)
def test_predict_refuses_a_file_changed_while_it_reads_it(export, tmp_path, monkeypatch, change):
    from dami_gui.core.data import reader
    from dami_gui.core.prediction.new_rows import predict_file

    monkeypatch.setattr(reader, "CHUNK_BYTES", 8000)  # many pieces: the change lands between
    csv = tmp_path / "big.csv"
    damage.new_rows(n=3000).to_csv(csv, index=False)
    done: list[bool] = []

    def during_the_read(stage: str, fraction: float) -> None:
        if not done and 0.0 < fraction < 0.2:
            done.append(True)
            change(csv)

    predictor = Predictor.from_export(export / JSON)
    with pytest.raises(DataError, match=r"big\.csv changed while it was being read") as info:
        predict_file(predictor, csv, tmp_path / "out.csv", progress=during_the_read)
    assert done and "\n" not in str(info.value)
    assert not (tmp_path / "out.csv").exists()
    predict_file(predictor, csv, tmp_path / "out.csv")  # left alone, it reads
    assert len(pd.read_csv(tmp_path / "out.csv")) > 0


def test_a_labeling_file_near_the_float_limits_gives_a_finite_model(tmp_path):
    """Cells of 1e308 and -1e308: their sum overflows float64, so the mean and scale are taken on
    the scaled values; the preprocessing stays finite, the export strict JSON, the model usable."""
    from dami_gui.core.project.creating import create_project_from_csv

    from .predict_data import mixed_frame
    from .project_data import TINY

    frame = mixed_frame()
    frame.loc[0, "x1"], frame.loc[1, "x1"] = 1e308, -1e308
    frame.to_csv(tmp_path / "pool.csv", index=False)
    with create_project_from_csv(
        tmp_path / "p.dami", tmp_path / "pool.csv", label_column="species", id_column="name",
        model_config=TINY, estimate_accuracy=False,
    ) as project:  # fmt: skip
        x1 = project.session.dataset.preprocessing.transforms[0]
        assert x1.column == "x1" and np.isfinite([x1.mean, x1.std, x1.fill]).all()
        assert np.isfinite(project.session.dataset.X).all()
        project.session.run_round()
        export_model(project.session, tmp_path / "model.safetensors")
    predictor = Predictor.from_export(tmp_path / JSON)
    table, report = predict_frame(predictor, frame)
    damage.check_predictions(table, predictor.classes, len(frame))
    assert report.clamped == {}  # the labeling file's own values are never clamped
