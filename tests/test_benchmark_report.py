"""The label-efficiency benchmark's bookkeeping: headline metric, paired gains, ranks, top-ups."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.pipelines import fill_up, margin_rows
from benchmarks.report import complete, summarise


def _run(ds, pipeline, seed, acc, bacc=None, kind="balanced", B=20):
    labels = [B * (i + 1) for i in range(len(acc))]
    return {
        "dataset": ds,
        "kind": kind,
        "pipeline": pipeline,
        "seed": seed,
        "B": B,
        "acc": acc,
        "bacc": bacc if bacc is not None else acc,
        "labels": labels,
        "select_s": [0.0],
        "seconds": 1.0,
        "stopped_early": None,
    }


def test_gain_is_paired_with_random_of_the_same_learner_and_ranks_span_all_pipelines():
    runs = []
    for seed, shift in ((0, 0.0), (1, 0.1)):
        runs += [
            _run("segment", "mlp/random", seed, [0.5 + shift] * 3),
            _run("segment", "mlp/margin", seed, [0.6 + shift] * 3),
            _run("segment", "et/random", seed, [0.7 + shift] * 3),
            _run("segment", "et/margin", seed, [0.65 + shift] * 3),
        ]
    s = summarise(runs)
    cell = s["per"][("segment", "et/margin")]
    assert cell["gain"] == pytest.approx(-5.0) and cell["gain_se"] == pytest.approx(0.0)
    assert s["per"][("segment", "mlp/margin")]["gain"] == pytest.approx(10.0)
    assert [s["per"][("segment", p)]["rank"] for p in ("et/random", "et/margin", "mlp/margin")] == [
        1,
        2,
        3,
    ]
    assert s["overall"]["et/random"]["wins"] == 1
    assert s["overall"]["et/margin"]["worst"] == "segment"
    assert s["overall"]["et/random"]["vs_mlp_random"] == pytest.approx(20.0)


def test_imbalanced_sets_are_judged_by_balanced_accuracy_and_short_curves_have_no_11b():
    runs = [
        _run("vowel0", "mlp/random", 0, [0.9, 0.9], bacc=[0.5, 0.5], kind="imbalanced"),
        _run("vowel0", "mlp/margin", 0, [0.8, 0.8], bacc=[0.7, 0.9], kind="imbalanced"),
    ]
    s = summarise(runs)
    cell = s["per"][("vowel0", "mlp/margin")]
    assert cell["alc"] == pytest.approx(80.0) and cell["rank"] == 1
    assert cell["at2"] == pytest.approx(90.0) and cell["at11"] is None


def test_a_half_done_set_is_left_out_of_the_comparison():
    runs = [
        _run("bupa", "mlp/random", 0, [0.5]),
        _run("bupa", "et/random", 0, [0.6]),
        _run("pima", "mlp/random", 0, [0.5]),
    ]
    kept, left = complete(runs)
    assert {r["dataset"] for r in kept} == {"bupa"} and left == ["pima seed 0"]


def test_fill_up_drops_repeats_and_labeled_rows_then_tops_up_at_random():
    labeled = np.zeros(10, dtype=bool)
    labeled[[0, 1]] = True
    rows, added = fill_up(np.array([3, 3, 1, 5]), labeled, 4, seed=0)
    assert rows[:2].tolist() == [3, 5] and added == 2
    assert len(set(rows.tolist())) == 4 and not labeled[rows].any()


def test_margin_picks_the_closest_two_classes():
    proba = np.array([[0.9, 0.1], [0.55, 0.45], [0.7, 0.3], [0.5, 0.5]])
    rows = np.array([2, 4, 6, 8])
    assert sorted(margin_rows(proba, rows, 2, seed=0).tolist()) == [4, 8]


def test_merge_renames_a_files_learner_and_reads_paths_with_colons_and_equals(tmp_path):
    import json

    from benchmarks.label_efficiency import merge

    folder = tmp_path / "lr=1e-3"  # a folder name that looks like a rename
    folder.mkdir()
    old = folder / "part1.json"
    old.write_text(
        json.dumps({"runs": [_run("a", "mlp/random", 0, [0.5]), _run("a", "et/random", 0, [0.6])]})
    )
    new = tmp_path / "new.json"
    new.write_text(json.dumps({"runs": [_run("a", "mlp/random", 0, [0.7])]}))
    runs = merge([tmp_path / "lr=1e-3" / "part1.json:mlp=mlp64", new])
    got = {(r["pipeline"], r["acc"][0]) for r in runs}
    assert got == {("mlp64/random", 0.5), ("et/random", 0.6), ("mlp/random", 0.7)}
    assert len(merge([old])) == 2  # no rename: the path is read as it is
    kept = merge([old, new], pipelines=["mlp/random"])  # a filter, after renaming
    assert [(r["pipeline"], r["acc"][0]) for r in kept] == [("mlp/random", 0.5)]
    renamed = merge([folder / "part1.json:mlp=mlp64", new], pipelines=["mlp/random"])
    assert [r["acc"] for r in renamed] == [[0.7]]


def test_subset_table_on_the_held_out_and_imbalanced_sets():
    from benchmarks.report import subset_table

    runs = [_run(ds, p, 0, acc) for ds, p, acc in [
        ("satimage", "mlp/random", [0.6]), ("satimage", "mlp/dami-blend", [0.7]),
        ("twonorm", "mlp/random", [0.8]), ("twonorm", "mlp/dami-blend", [0.75]),
        ("segment", "mlp/random", [0.1]), ("segment", "mlp/dami-blend", [0.9]),
    ]]  # fmt: skip
    text = subset_table(runs, "held-out subset", ["satimage", "twonorm"])
    assert "(satimage, twonorm)" in text and "segment" not in text
    row = next(line for line in text.splitlines() if line.startswith("| mlp/dami-blend"))
    # mean ALC (70 + 75) / 2, mean rank (1 + 2) / 2, one win, above random on 1 of 2, worst twonorm
    assert row == "| mlp/dami-blend | 72.5 | 1.5 | 1 | 1/2 | twonorm (-5.0) |"


def test_merge_names_a_pipeline_it_found_no_run_of(tmp_path, capsys, monkeypatch):
    import json

    from benchmarks.label_efficiency import main

    monkeypatch.setattr("benchmarks.report.write_report", lambda *args: "")  # tables: not here

    part = tmp_path / "part.json"
    part.write_text(json.dumps({"runs": [_run("bupa", "mlp/random", 0, [0.5])]}))
    out = tmp_path / "merged.json"
    main(["--merge", str(part), "--pipelines", "mlp/random", "mlp/dami-plsu", "--out", str(out)])
    err = capsys.readouterr().err
    assert "no run of mlp/dami-plsu" in err and "mlp/random" not in err
    assert [r["pipeline"] for r in json.loads(out.read_text())["runs"]] == ["mlp/random"]


def test_the_synthetic_group_has_its_own_rank_and_subset_table_apart_from_tune_and_held_out():
    from benchmarks.report import format_tables, subset_table

    runs = [_run(ds, p, 0, acc) for ds, p, acc in [
        ("segment", "mlp/random", [0.9]), ("segment", "et/margin", [0.8]),  # tuning set
        ("twonorm", "mlp/random", [0.7]), ("twonorm", "et/margin", [0.6]),  # held out
        ("syn-xor-2of10", "mlp/random", [0.5]), ("syn-xor-2of10", "et/margin", [0.7]),
        ("syn-shells", "mlp/random", [0.4]), ("syn-shells", "et/margin", [0.6]),
    ]]  # fmt: skip
    s = summarise(runs)
    assert s["datasets"][:2] == ["segment", "twonorm"]  # development sets first, then syn-*
    et = s["overall"]["et/margin"]
    assert (et["rank_tune"], et["rank_holdout"], et["rank_synthetic"]) == (2.0, 2.0, 1.0)
    row = next(line for line in format_tables(s, runs).splitlines() if "| et/margin |" in line)
    assert "| 2.0 / 2.0 / 1.0 |" in row
    text = subset_table(runs, "synthetic group", ["syn-xor-2of10", "syn-shells"])
    assert "segment" not in text and text.count("| et/margin | 65.0 | 1.0 | 2 |") == 1


def test_the_fidelity_table_gives_each_set_its_agreement_and_the_student_teacher_gap():
    from benchmarks.report import fidelity_table

    taught = _run("segment", "ens/dami-plus", 0, [0.80, 0.90])
    taught.update(
        teacher_acc=[0.82, 0.90],
        teacher_bacc=[0.82, 0.90],
        fidelity=[0.94, 1.0],
        app_fidelity=[0.95, None],
    )
    rare = _run("vowel0", "ens/dami-plus", 0, [0.9, 0.9], bacc=[0.6, 0.8], kind="imbalanced")
    rare.update(
        teacher_acc=[0.9, 0.9], teacher_bacc=[0.7, 0.8], fidelity=[0.99, 0.99], app_fidelity=[1, 1]
    )
    text = fidelity_table([taught, rare, _run("segment", "et/margin", 0, [0.7, 0.8])])
    assert "| segment | 97.0 | 94.0 | 95.0 | 86.0 | -1.00 |" in text
    # the imbalanced set compares balanced accuracies: student 70, teacher 75
    assert "| vowel0 | 99.0 | 99.0 | 100.0 | 75.0 | -5.00 |" in text
    assert "Sets below 95 % fidelity: 0 of 2." in text and "et/margin" not in text
    assert fidelity_table([_run("segment", "et/margin", 0, [0.7])]) == ""
