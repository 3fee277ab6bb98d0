"""The one rule for integer and real parameters (dami_gui.core.validation)."""

import math

import numpy as np
import pytest

from dami_gui.core.errors import ParameterError
from dami_gui.core.geometry.kcenter import k_center_greedy
from dami_gui.core.geometry.kmeans import central_rows
from dami_gui.core.model import MLPConfig, train_mlp
from dami_gui.core.validation import check_float, check_int, is_integer


@pytest.mark.parametrize("value", [0, 7, -3, np.int64(7), np.int32(7), np.uint8(7)])
def test_python_and_numpy_integers_are_integers(value):
    assert is_integer(value)
    result = check_int("n", value)
    assert result == int(value) and type(result) is int


@pytest.mark.parametrize(
    "value", [True, False, np.bool_(True), 7.0, np.float64(7), "7", None, [7], 1 + 0j]
)
def test_bools_floats_and_the_rest_are_refused(value):
    assert not is_integer(value)
    with pytest.raises(ParameterError) as err:
        check_int("batch_size", value, minimum=1)
    assert err.value.name == "batch_size"
    assert err.value.received is value
    assert str(err.value) == (
        f"The 'batch_size' parameter must be an integer >= 1. Got {value!r} instead."
    )


@pytest.mark.parametrize(
    ("bounds", "good", "bad", "expected"),
    [
        ({"minimum": 0}, [0, 5], [-1], "an integer >= 0"),
        ({"maximum": 9}, [-4, 9], [10], "an integer <= 9"),
        ({"minimum": 1, "maximum": 3}, [1, 3], [0, 4], "an integer in 1..3"),
        ({}, [-(10**30), 10**30], [], "an integer"),
    ],
)
def test_integer_bounds_are_included(bounds, good, bad, expected):
    for value in good:
        assert check_int("k", value, **bounds) == value
    for value in bad:
        with pytest.raises(ParameterError, match=rf"'k' parameter must be {expected}\. Got"):
            check_int("k", value, **bounds)
    with pytest.raises(ParameterError, match=rf"must be {expected}\. Got 'x'"):
        check_int("k", "x", **bounds)


def test_the_caller_may_describe_the_expected_value():
    with pytest.raises(ParameterError) as err:
        check_int("row", 100, minimum=0, maximum=99, expected="a row number in 0..99")
    assert str(err.value) == ("The 'row' parameter must be a row number in 0..99. Got 100 instead.")


@pytest.mark.parametrize("value", [0.5, 1, np.float32(0.5), np.int64(1), 1e300])
def test_real_numbers_are_accepted_as_float(value):
    result = check_float("x", value, minimum=0.0)
    assert result == float(value) and type(result) is float


@pytest.mark.parametrize("value", [True, np.bool_(False), math.nan, np.nan, "0.5", None])
def test_bools_nan_and_text_are_not_numbers(value):
    with pytest.raises(ParameterError, match=r"'x' parameter must be a number\. Got"):
        check_float("x", value)


def test_real_bounds_are_included_unless_strict():
    assert check_float("x", 0.0, minimum=0.0, maximum=1.0) == 0.0
    assert check_float("x", 1.0, minimum=0.0, maximum=1.0) == 1.0
    assert check_float("x", math.inf) == math.inf
    for value in (0.0, 1.0, -0.1):
        with pytest.raises(ParameterError, match=r"strictly between 0\.0 and 1\.0"):
            check_float("x", value, minimum=0.0, maximum=1.0, strict=True)
    with pytest.raises(ParameterError, match=r"a number > 0\.0"):
        check_float("x", 0, minimum=0.0, strict=True)
    with pytest.raises(ParameterError, match="a number <= 2"):
        check_float("x", 3, maximum=2)
    with pytest.raises(ParameterError, match=r"a number in 0\.\.1\. Got 2"):
        check_float("x", 2, minimum=0, maximum=1)


# The engine's parameters follow the rule: numpy integers pass, bools do not.


def test_k_center_and_k_means_take_numpy_integers_and_refuse_bools():
    X = np.arange(20, dtype=np.float32).reshape(10, 2)
    assert k_center_greedy(X, np.array([0]), np.int64(2)).order.size == 2
    assert central_rows(X, np.array([0]), 2, max_iterations=np.int64(3)).order.size == 2
    with pytest.raises(ParameterError, match="'k'"):
        k_center_greedy(X, np.array([0]), True)
    with pytest.raises(ParameterError, match="'max_iterations'"):
        central_rows(X, np.array([0]), 2, max_iterations=True)


def test_the_model_configuration_stores_plain_python_numbers():
    config = MLPConfig(hidden=(np.int64(8),), min_epochs=np.int64(2), learning_rate=np.float32(0.5))
    assert config.hidden == (8,) and type(config.hidden[0]) is int
    assert type(config.min_epochs) is int and type(config.learning_rate) is float
    assert MLPConfig.from_dict(config.to_dict()) == config
    for bad in ({"min_epochs": True}, {"hidden": (8, True)}, {"learning_rate": math.nan}):
        with pytest.raises(ParameterError, match=f"'{next(iter(bad))}'"):
            MLPConfig(**bad)
    with pytest.raises(ParameterError, match="'n_classes' parameter must be at least 1"):
        train_mlp(np.zeros((0, 2)), np.zeros(0), 0)


def test_explain_row_names_a_bad_row_or_class():
    import pandas as pd

    from dami_gui.core.data.dataset import build_dataset, infer_roles
    from dami_gui.core.explain import explain_row
    from dami_gui.core.model import init_model

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(12, 2)), columns=["a", "b"])
    frame["kind"] = list("xyz") * 4
    dataset = build_dataset(frame, infer_roles(frame, label_column="kind"))
    model = init_model(dataset.n_features, 3, seed=0)
    labels = np.full(12, -1)
    assert explain_row(model, dataset, np.int64(3), labels, class_index=np.int64(1)).row == 3
    for bad in (True, -1, 12, 2.0):
        with pytest.raises(
            ParameterError, match=r"'row' parameter must be a row number in 0\.\.11"
        ):
            explain_row(model, dataset, bad, labels)
    with pytest.raises(
        ParameterError, match=r"'class_index' parameter must be a class code in 0\.\.2"
    ):
        explain_row(model, dataset, 0, labels, class_index=3)
