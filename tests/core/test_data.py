"""Column roles, the recorded preprocessing and the Dataset, on the demo file and small tables."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dami_gui.core.data.dataset import Dataset, build_dataset, load_dataset
from dami_gui.core.data.preprocessing import ColumnTransform, Preprocessing
from dami_gui.core.data.reader import read_csv
from dami_gui.core.data.roles import ROLES, RoleReport, infer_roles
from dami_gui.core.errors import DataError

DEMO = Path(__file__).resolve().parents[2] / "resources" / "segment.csv"


def mixed_frame() -> pd.DataFrame:
    """Numbers with a gap, a category with a gap, yes/no, and a partly filled label."""
    return pd.DataFrame(
        {
            "sample": ["s1", "s2", "s3", "s4", "s5", "s6"],
            "age": [30.0, 40.0, np.nan, 50.0, 60.0, 70.0],
            "color": ["red", "blue", "red", None, "blue", "red"],
            "smoker": ["yes", "no", "no", "yes", "no", "no"],
            "weight": [1.0, 2.0, 3.0, 4.0, 5.0, 7.0],
            "label": ["b", "a", None, "a", "b", None],
        }
    )


def write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- demo file


def test_demo_file() -> None:
    dataset = load_dataset(DEMO)
    assert dataset.n_rows == 2310
    assert dataset.n_features == 18
    assert dataset.n_classes == 7
    assert dataset.classes == sorted(dataset.classes)
    assert dataset.ids[0] == "P0001" and dataset.ids.shape == (2310,)
    assert dataset.X.dtype == np.float32 and dataset.y.dtype == np.int64
    assert np.isfinite(dataset.X).all()
    assert (dataset.y >= 0).all() and dataset.labeled_mask.all()
    report = dataset.report
    assert report.column("label") == "class" and report.column("id") == "patch_id"
    constant = next(d for d in report.decisions if d.column == "region_pixel_count")
    assert constant.role == "ignore" and constant.kind == "constant"
    assert "same value (9)" in constant.reason
    assert "region_pixel_count" not in dataset.feature_names
    text = report.describe()
    assert "region_pixel_count" in text and "same value (9)" in text
    assert dataset.source == DEMO
    assert dataset.frame.columns[0] == "patch_id" and len(dataset.frame.columns) == 21


# ---------------------------------------------------------------- preprocessing


def test_one_hot_missing_indicator_and_boolean() -> None:
    frame = mixed_frame()
    report = infer_roles(frame)
    assert report.roles() == {
        "sample": "id",
        "age": "feature",
        "color": "feature",
        "smoker": "feature",
        "weight": "feature",
        "label": "label",
    }
    kinds = {d.column: d.kind for d in report.decisions}
    assert kinds["color"] == "categorical" and kinds["smoker"] == "boolean"
    dataset = build_dataset(frame, report)
    assert dataset.feature_names == [
        "age",
        "age (missing)",
        "color=blue",
        "color=red",
        "color (missing)",
        "smoker",
        "weight",
    ]
    assert dataset.preprocessing.feature_columns == [
        "age",
        "age",
        "color",
        "color",
        "color",
        "smoker",
        "weight",
    ]
    X = dataset.X
    names = dataset.feature_names
    assert X[:, names.index("age (missing)")].tolist() == [0, 0, 1, 0, 0, 0]
    assert X[:, names.index("color=red")].tolist() == [1, 0, 1, 0, 0, 1]
    assert X[:, names.index("color=blue")].tolist() == [0, 1, 0, 0, 1, 0]
    assert X[:, names.index("color (missing)")].tolist() == [0, 0, 0, 1, 0, 0]
    smoker = X[:, names.index("smoker")]
    assert smoker[0] > 0 and smoker[1] < 0 and smoker[0] == smoker[3]
    age = dataset.preprocessing.transforms[0]
    assert age.fill == 50.0 and age.missing_indicator  # median of the filled ages
    assert dataset.ids.tolist() == ["s1", "s2", "s3", "s4", "s5", "s6"]


def test_standardisation() -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "a": rng.normal(100, 15, 200),
            "b": rng.exponential(3, 200),
            "flag": rng.choice(["true", "false"], 200),
            "kind": rng.choice(["x", "y", "z"], 200),
            "same": 4.0,
        }
    )
    frame.loc[5, "a"] = np.nan
    dataset = build_dataset(frame, infer_roles(frame, roles={"same": "feature"}))
    columns = dataset.preprocessing.feature_columns
    for i, (name, column) in enumerate(zip(dataset.feature_names, columns, strict=True)):
        values = dataset.X[:, i]
        if column in ("a", "b", "flag") and "(missing)" not in name:
            assert abs(values.mean()) < 1e-5 and abs(values.std() - 1) < 1e-4, name
        elif column == "same":
            assert np.all(values == 0)  # std 0 is replaced by 1: no division by zero
        else:
            assert set(np.unique(values)) <= {0.0, 1.0}, name  # one-hot and flags stay 0/1


def test_inf_counts_as_missing_and_unseen_category_is_all_zero() -> None:
    frame = pd.DataFrame({"x": [1.0, np.inf, 3.0, -np.inf], "c": ["p", "q", "p", "q"]})
    prep = Preprocessing.fit(frame, infer_roles(frame))
    assert prep.feature_names == ["x", "x (missing)", "c=p", "c=q"]
    X = prep.transform(frame)
    assert np.isfinite(X).all() and X[:, 1].tolist() == [0, 1, 0, 1]
    other = pd.DataFrame({"x": [2.0, None], "c": ["new", None]})
    X2 = prep.transform(other)
    assert X2.dtype == np.float32 and X2.shape == (2, 4)
    assert X2[:, 2:].tolist() == [[0, 0], [0, 0]]
    assert X2[:, 1].tolist() == [0, 1]


def test_preprocessing_json_round_trip() -> None:
    frame = mixed_frame()
    prep = build_dataset(frame, infer_roles(frame)).preprocessing
    text = json.dumps(prep.to_dict())
    again = Preprocessing.from_dict(json.loads(text))
    assert again == prep
    assert again.id_column == "sample" and again.label_column == "label"
    np.testing.assert_array_equal(again.transform(frame), prep.transform(frame))
    assert again.feature_names == prep.feature_names


def test_damaged_or_newer_preprocessing_is_refused() -> None:
    with pytest.raises(DataError, match="damaged"):
        Preprocessing.from_dict({"transforms": [{"kind": "numeric"}]})
    with pytest.raises(DataError, match="newer version"):
        Preprocessing.from_dict({"version": 99, "transforms": []})


def test_replay_on_the_same_file_gives_identical_features(tmp_path: Path) -> None:
    path = write(tmp_path, "id,x,c,label\n1a,1.5,u,p\n2a,,v,q\n3a,2.5,u,\n4a,9,w,p\n")
    first = load_dataset(path)
    saved = json.loads(json.dumps(first.preprocessing.to_dict()))
    frame = read_csv(path)
    replay = build_dataset(
        frame, first.report, classes=first.classes, preprocessing=Preprocessing.from_dict(saved)
    )
    np.testing.assert_array_equal(replay.X, first.X)
    np.testing.assert_array_equal(replay.y, first.y)
    np.testing.assert_array_equal(replay.ids, first.ids)


def test_transform_needs_the_fitted_columns() -> None:
    frame = mixed_frame()
    prep = Preprocessing.fit(frame, infer_roles(frame))
    with pytest.raises(DataError, match=r"'age'.*not in this file"):
        prep.transform(frame.drop(columns=["age"]))


def test_output_names() -> None:
    assert ColumnTransform("age", "numeric").output_names() == ["age"]
    cat = ColumnTransform("color", "categorical", categories=["red", "blue"])
    assert cat.output_names() == ["color=red", "color=blue"]
    flagged = ColumnTransform("age", "numeric", missing_indicator=True)
    assert flagged.output_names() == ["age", "age (missing)"]


# ---------------------------------------------------------------- roles


def test_explicit_roles_override_inference() -> None:
    frame = mixed_frame()
    report = infer_roles(
        frame, label_column="color", id_column="weight", roles={"label": "feature", "age": "ignore"}
    )
    roles = report.roles()
    assert roles["color"] == "label" and roles["weight"] == "id"
    assert roles["label"] == "feature" and roles["age"] == "ignore"
    assert roles["sample"] == "ignore"  # only one id: the chosen one
    assert "you chose" in next(d for d in report.decisions if d.column == "age").reason
    dataset = build_dataset(frame, report)
    assert dataset.classes == ["blue", "red"]
    assert dataset.y.tolist() == [1, 0, 1, -1, 0, 1]
    assert dataset.ids.tolist() == ["1", "2", "3", "4", "5", "7"]
    assert "label=a" in dataset.feature_names


def test_inference_rules() -> None:
    n = 40
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(
        {
            "row": np.arange(1, n + 1),
            "name": [f"sample number {i}" for i in range(n)],
            "notes": [f"note {i % 30}" for i in range(n)],
            "empty": [np.nan] * n,
            "mostly": [str(v) for v in rng.normal(size=n - 1)] + ["n.d."],
            "half": ["1", "2", "x", "y"] * (n // 4),
            "x": rng.normal(size=n),
            "Class": ["a", "b"] * (n // 2),
        }
    )
    report = infer_roles(frame)
    decisions = {d.column: d for d in report.decisions}
    assert decisions["Class"].role == "label"
    assert decisions["name"].role == "id"
    assert decisions["row"].role == "ignore" and "counts the rows" in decisions["row"].reason
    assert decisions["notes"].role == "ignore" and decisions["notes"].kind == "text"
    assert "free text" in decisions["notes"].reason
    assert decisions["empty"].role == "ignore" and decisions["empty"].kind == "empty"
    assert decisions["mostly"].role == "feature" and decisions["mostly"].kind == "numeric"
    assert "'n.d.'" in decisions["mostly"].reason and "missing" in decisions["mostly"].reason
    assert decisions["half"].kind == "categorical"
    assert decisions["x"].role == "feature"
    assert all(d.role in ROLES and d.reason for d in report.decisions)
    dataset = build_dataset(frame, report)
    assert "mostly (missing)" in dataset.feature_names
    assert dataset.ids[3] == "sample number 3"


def test_row_number_becomes_the_id_when_there_is_none() -> None:
    frame = pd.DataFrame({"Unnamed: 0": range(10), "x": np.linspace(0, 1, 10) ** 2})
    report = infer_roles(frame)
    assert report.column("id") == "Unnamed: 0"
    assert build_dataset(frame, report).ids[:3].tolist() == ["0", "1", "2"]


def test_label_with_too_many_values_is_not_guessed_but_can_be_chosen() -> None:
    frame = pd.DataFrame({"target": np.arange(60) * 1.5, "x": np.sin(np.arange(60))})
    report = infer_roles(frame)
    assert report.column("label") is None and report.roles()["target"] == "feature"
    report = infer_roles(frame, label_column="target")
    dataset = build_dataset(frame, report)
    assert dataset.n_classes == 60 and dataset.n_features == 1


def test_single_class_and_empty_label_column_do_not_crash() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "label": ["a", None, "a"]})
    dataset = build_dataset(frame, infer_roles(frame))
    assert dataset.classes == ["a"] and dataset.y.tolist() == [0, -1, 0]
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "label": [None, None, None]})
    report = infer_roles(frame)
    assert report.column("label") == "label"
    dataset = build_dataset(frame, report)
    assert dataset.classes == [] and dataset.y.tolist() == [-1, -1, -1]
    dataset = build_dataset(frame, report, classes=["yes", "no"])
    assert dataset.classes == ["yes", "no"] and not dataset.labeled_mask.any()


def test_no_label_column() -> None:
    frame = pd.DataFrame({"x": [0.5, 2.0, 3.0], "z": [1, 5, 2]})
    dataset = build_dataset(frame, infer_roles(frame))
    assert dataset.y.tolist() == [-1, -1, -1] and dataset.classes == []
    assert dataset.ids.tolist() == ["1", "2", "3"]
    assert "no label column" in dataset.report.describe()


# ---------------------------------------------------------------- labels


def test_natural_class_order(tmp_path: Path) -> None:
    frame = pd.DataFrame({"x": range(5), "w": [3, 1, 4, 1, 5], "label": [10, 2, 1, 2, None]})
    dataset = build_dataset(frame, infer_roles(frame))
    assert dataset.classes == ["1", "2", "10"]
    assert dataset.y.tolist() == [2, 1, 0, 1, -1]

    path = write(tmp_path, "w,label\n1,2.0\n2,1.0\n3,\n4,2.0\n")
    dataset = load_dataset(path)
    assert dataset.classes == ["1", "2"]  # not "1.0", "2.0"
    assert dataset.y.tolist() == [1, 0, -1, 1]

    frame = pd.DataFrame({"w": [1, 2, 3, 4], "class": ["beta", "Alpha", "gamma", "10"]})
    assert build_dataset(frame, infer_roles(frame)).classes == ["10", "Alpha", "beta", "gamma"]


def test_explicit_classes_define_the_codes() -> None:
    frame = mixed_frame()
    dataset = build_dataset(frame, infer_roles(frame), classes=["b", "a", "c"])
    assert dataset.classes == ["b", "a", "c"]
    assert dataset.y.tolist() == [0, 1, -1, 1, 0, -1]
    with pytest.raises(DataError, match=r"'b'.*not one of the classes"):
        build_dataset(frame, infer_roles(frame), classes=["a", "c"])


# ---------------------------------------------------------------- errors


def test_unknown_column_lists_the_columns() -> None:
    frame = mixed_frame()
    with pytest.raises(DataError) as info:
        infer_roles(frame, label_column="kind")
    message = str(info.value)
    assert "'kind'" in message and "'age'" in message and "'color'" in message
    with pytest.raises(DataError) as info:  # a near match is suggested instead (issue 24)
        infer_roles(frame, label_column="Label ")
    assert str(info.value).endswith("did you mean 'label'?") and "'age'" not in str(info.value)
    with pytest.raises(DataError, match="no column 'nope'"):
        infer_roles(frame, roles={"nope": "feature"})
    with pytest.raises(DataError, match=r"'maybe'.*feature, id, label, ignore"):
        infer_roles(frame, roles={"age": "maybe"})
    with pytest.raises(DataError, match="Only one column can be the label"):
        infer_roles(frame, label_column="label", roles={"color": "label"})


def test_duplicate_or_empty_id_is_refused() -> None:
    frame = pd.DataFrame({"key": ["a", "b", "a"], "x": [1.0, 2.0, 3.0]})
    assert infer_roles(frame).column("id") is None  # not unique, so not guessed
    with pytest.raises(DataError, match="'a' more than once"):
        infer_roles(frame, id_column="key")
    frame = pd.DataFrame({"key": ["a", None, "c"], "x": [1.0, 2.0, 3.0]})
    with pytest.raises(DataError, match="empty in row 2"):
        infer_roles(frame, id_column="key")


def test_no_usable_feature() -> None:
    frame = pd.DataFrame(
        {"id": ["a", "b", "c"], "same": [1, 1, 1], "blank": [None] * 3, "class": ["x", "y", "x"]}
    )
    with pytest.raises(DataError) as info:
        infer_roles(frame)
    message = str(info.value)
    assert "no column can be used as a feature" in message
    assert "'same'" in message and "'blank'" in message and "\n" not in message


def test_bad_files_raise_data_error_through_load_dataset(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="empty"):
        load_dataset(write(tmp_path, ""))
    with pytest.raises(DataError, match="header but no rows"):
        load_dataset(write(tmp_path, "a,b\n"))
    with pytest.raises(DataError, match="does not exist"):
        load_dataset(tmp_path / "missing.csv")


# ---------------------------------------------------------------- dataset


def test_subset_keeps_order_and_preprocessing() -> None:
    frame = mixed_frame()
    dataset = build_dataset(frame, infer_roles(frame))
    part = dataset.subset(np.array([4, 0, 1]))
    assert isinstance(part, Dataset)
    assert part.ids.tolist() == ["s5", "s1", "s2"]
    np.testing.assert_array_equal(part.X, dataset.X[[4, 0, 1]])
    assert part.y.tolist() == [1, 1, 0] and part.classes == dataset.classes
    assert part.preprocessing is dataset.preprocessing
    assert part.frame["sample"].tolist() == ["s5", "s1", "s2"]
    assert dataset.subset(dataset.labeled_mask).n_rows == 4


def test_load_dataset_reports_progress(tmp_path: Path) -> None:
    path = write(tmp_path, "x,y,class\n1,2,a\n3,4,b\n5,7,a\n")
    seen: list[float] = []
    dataset = load_dataset(path, progress=lambda stage, f: seen.append(f))
    assert dataset.n_features == 2 and seen[-1] == 1.0 and seen == sorted(seen)
    assert isinstance(dataset.report, RoleReport)


def test_tables_built_by_hand() -> None:
    frame = pd.DataFrame(np.arange(24, dtype=float).reshape(12, 2) ** 2, columns=[0, 1])
    dataset = build_dataset(frame, infer_roles(frame))
    assert dataset.feature_names == ["0", "1"]
    twice = pd.DataFrame([[1, 2], [3, 4]], columns=["a", "a"])
    with pytest.raises(DataError, match="named 'a'"):
        infer_roles(twice)
    flags = pd.DataFrame({"ok": [True, False, True], "x": [0.5, 0.1, 0.7]})
    report = infer_roles(flags)
    assert report.decisions[0].kind == "boolean"
    assert build_dataset(flags, report).X[:, 0].tolist()[0] > 0
