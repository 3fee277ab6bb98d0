"""Round trip (issue 16): random tables written as CSV the many ways people write them, read back.

Ids, labels and text columns of mixed kinds (zero-padded numbers, "NA" and "None" as classes,
"1" next to "1.0", quotes, separators inside values, accents), written with a random separator,
decimal mark, thousands separators, encoding, quoting and line ending: ids and labels come back
exactly as written, and numbers equal to their values.
"""

from __future__ import annotations

import csv
import io
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dami_gui.core.data.cells import MISSING_MARKERS, column_numbers, text_values
from dami_gui.core.data.dataset import load_dataset

#: Class names of text label columns: markers, numbers as text, quotes, separators, accents.
TEXT_CLASSES = [
    "NA", "None", "null", "?", "01", "1", "1.0", "007", "a", "B", "x,y", 'say "hi"', "café",
    "two words", "-", "n/a", "nan", "true",
]  # fmt: skip
#: Class names of number label columns, written as a number reads back (no "1.0", no "01").
NUMBER_CLASSES = ["0", "1", "2", "3", "10", "-1", "2.5"]
WORDS = ["red", "green", "NA", "?", "blue", "dark red", "rouge;vif"]


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]  # as written, before the CSV writer quotes them
    ids: list[str]
    labels: list[str]  # "" for unlabeled
    numbers: dict[str, list[float | None]]  # expected values of the number columns


@st.composite
def tables(draw, decimal_comma: bool) -> Table:
    n = draw(st.integers(min_value=6, max_value=30))
    id_kind = draw(st.sampled_from(["text", "zero_padded", "int"]))
    keys = draw(st.lists(st.integers(0, 9999), min_size=n, max_size=n, unique=True))
    if id_kind == "text":
        ids = [f"r{k}" for k in keys]
    elif id_kind == "zero_padded":
        ids = [f"{k:05d}" for k in keys]
    else:
        ids = [str(k) for k in keys]

    if draw(st.booleans()):
        pool = draw(st.lists(st.sampled_from(TEXT_CLASSES), min_size=2, max_size=5, unique=True))
        # "NA" among numbers would be a gap of a number column: keep one class that is text
        if not any(_is_text(c) for c in pool):
            pool.append("a")
    else:
        pool = draw(st.lists(st.sampled_from(NUMBER_CLASSES), min_size=2, max_size=4, unique=True))
    labels = [pool[i] if i < len(pool) else "" for i in range(n)]  # every class appears
    labels[len(pool) :] = [draw(st.sampled_from(["", *pool])) for _ in range(n - len(pool))]

    grouped = draw(st.booleans())
    floats = draw(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=n, max_size=n))
    counts = draw(st.lists(st.integers(-5000, 5000), min_size=n, max_size=n))
    gaps = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    words = draw(st.lists(st.sampled_from(WORDS), min_size=n, max_size=n))

    def number(value: float) -> str:
        text = f"{value:,.6f}" if grouped else f"{value:.6f}"
        if decimal_comma:  # 1,234.5 -> 1.234,5
            text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
        return text

    measure = [number(v) for v in floats]
    count = ["NA" if gap else str(c) for gap, c in zip(gaps, counts, strict=True)]
    rows = [
        [i, m, c, w, lab]
        for i, m, c, w, lab in zip(ids, measure, count, words, labels, strict=True)
    ]
    numbers = {
        "measure": [float(f"{v:.6f}") for v in floats],
        "count": [None if gap else float(c) for gap, c in zip(gaps, counts, strict=True)],
    }
    return Table(["id", "measure", "count", "colour", "label"], rows, ids, labels, numbers)


def _is_text(value: str) -> bool:
    """Neither a number nor a missing-value marker: a value that keeps a column as text."""
    try:
        float(value)
        return False
    except ValueError:
        return value not in MISSING_MARKERS


@st.composite
def written_tables(draw):
    sep = draw(st.sampled_from([",", ";", "\t", "|"]))
    decimal_comma = sep in (";", "\t") and draw(st.booleans())
    table = draw(tables(decimal_comma))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=sep, quoting=quoting, lineterminator=newline)
    writer.writerow(table.header)
    writer.writerows(table.rows)
    return table, out.getvalue().encode(encoding)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(written_tables())
def test_ids_labels_and_numbers_come_back_as_written(case) -> None:
    table, content = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pool.csv"
        path.write_bytes(content)
        features = {"measure": "feature", "count": "feature", "colour": "feature"}
        dataset = load_dataset(path, label_column="label", id_column="id", roles=features)
    assert dataset.ids.tolist() == table.ids
    read = text_values(dataset.frame["label"]).tolist()
    assert read == [label or None for label in table.labels]
    assert [dataset.classes[c] if c >= 0 else "" for c in dataset.y] == table.labels
    for column, expected in table.numbers.items():
        values = column_numbers(dataset.frame[column])
        assert [None if np.isnan(v) else float(v) for v in values] == expected, column
    colours = text_values(dataset.frame["colour"]).tolist()
    assert colours == [row[3] for row in table.rows]
