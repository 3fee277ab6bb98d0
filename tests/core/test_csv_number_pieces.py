"""The reader's fast way (the parser reads the numbers) gives the table of the text way, exactly.

Big files of numbers are parsed with the C parser's own number reading; whenever a piece holds
something that way could lose (a leading zero, a long whole number, yes/no values) or a column
is numbers in one piece and text in another, the file is read again with every cell as text.
Either way the table must be the one the rules of the text way give (issue 16), bit for bit.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dami_gui.core.data import reader
from dami_gui.core.data.number_columns import MARKERS_ATTR
from dami_gui.core.data.reader import read_csv

N = 2000


def lines(cell) -> str:
    return "".join(cell(i) + "\n" for i in range(N))


rng = np.random.default_rng(3)
NUMBERS = rng.normal(size=N)
CASES = {
    "17-digit floats": "a,b\n" + lines(lambda i: f"{NUMBERS[i]:.17g},{i}"),
    "tiny and huge": "a,b\n" + lines(lambda i: f"{NUMBERS[i] * 1e-300:.17g},{i * 1e14:.0f}"),
    "NaN and inf words": "a,b\n"
    + lines(lambda i: f"{['NaN', 'nan', 'inf', '-inf', 'Infinity', '1e500', '-0', '+5'][i % 8]},1"),
    "a marker in the last piece": "a,b\n" + lines(lambda i: f"{'?' if i == N - 3 else i / 4},{i}"),
    "a leading zero in the last piece": "a,b\n"
    + lines(lambda i: f"{'007' if i == N - 3 else i},1"),
    "a quoted leading zero": "a,b\n" + lines(lambda i: f'"{"-01" if i == 900 else i}",1'),
    "yes/no words": "a,b\n" + lines(lambda i: f"{['True', 'false'][i % 2]},{i}"),
    "long whole numbers": "a,b\n" + lines(lambda i: f"{1234567890123456 + i},{i}"),
    "text in the last row": "a,b\n" + lines(lambda i: f"{'oops' if i == N - 1 else i},{i}"),
    "a mostly empty label": "a,label\n" + lines(lambda i: f"{i}.5,{'cat' if i % 401 == 7 else ''}"),
    "spaces around cells": "a,b,c\n" + lines(lambda i: f"  {i} ,{i}.5  , w{i % 3}  "),
    "a class called NA": "a,label\n" + lines(lambda i: f"{i},{'NA' if i % 3 else 'yes'}"),
    "ints then floats": "a,b\n" + lines(lambda i: f"{i if i < 1500 else i + 0.5},{i}"),
    "Excel's sep line": "sep=;\na;b\n" + lines(lambda i: f"{i}.25;{i % 5}"),
    "Windows line ends": "a,b,c\r\n" + "".join(f"{i},{i / 10:.3f},t{i % 4}\r\n" for i in range(N)),
    "old Mac line ends, a leading zero": "a,b\r"
    + "".join(f"{'08' if i == 1700 else i},{i}\r" for i in range(N)),
    "a signed leading zero after spaces": "a;b\n"
    + lines(lambda i: f"{i};{'  -05' if i == 1500 else i}"),
    "a leading zero in the first cell": "a,b\n00,1\n" + lines(lambda i: f"{i},{i}"),
    "quoted line breaks": "a,b\n"
    + lines(lambda i: f'{i},"x{i}\nmore"' if i % 300 == 0 else f"{i},v{i}"),
}


@pytest.fixture
def text_way(monkeypatch):
    """Make the fast way give up on every piece, so the file is read the reference way."""

    def give_up(*args):
        raise reader._GiveUp

    def read(path: Path, chunk_bytes: int) -> pd.DataFrame:
        with monkeypatch.context() as patch:
            patch.setattr(reader._NumberPieces, "check", give_up)
            return read_csv(path, chunk_bytes=chunk_bytes)

    return read


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("chunk_bytes", [2048, 1 << 20])
def test_the_fast_way_gives_the_text_ways_table(case, chunk_bytes, text_way, tmp_path):
    path = tmp_path / "pool.csv"
    path.write_text(CASES[case], encoding="utf-8", newline="")
    fast = read_csv(path, chunk_bytes=chunk_bytes)
    reference = text_way(path, chunk_bytes)
    pd.testing.assert_frame_equal(fast, reference, check_exact=True)
    assert fast.attrs[MARKERS_ATTR] == reference.attrs[MARKERS_ATTR]


def passes(monkeypatch) -> list[bool]:
    """Record, for each pass over the file, whether it was the fast way."""
    seen: list[bool] = []
    run = reader._Pass.run

    def spy(self, options, numbers):
        seen.append(numbers is not None)
        return run(self, options, numbers)

    monkeypatch.setattr(reader._Pass, "run", spy)
    return seen


def test_a_file_of_numbers_is_read_once_the_fast_way(monkeypatch, tmp_path):
    seen = passes(monkeypatch)
    path = tmp_path / "pool.csv"
    path.write_text(CASES["a mostly empty label"])
    frame = read_csv(path, chunk_bytes=2048)
    assert seen == [True]
    assert frame["a"].dtype == np.float64 and frame["label"].notna().sum() == 5


def test_a_leading_zero_anywhere_keeps_its_text(monkeypatch, tmp_path):
    seen = passes(monkeypatch)
    path = tmp_path / "pool.csv"
    path.write_text(CASES["a leading zero in the last piece"])
    frame = read_csv(path, chunk_bytes=2048)
    assert seen == [True, False]  # the fast way gave up at the last piece
    assert frame["a"].iloc[N - 3] == "007" and frame["a"].iloc[0] == "0"


@pytest.mark.parametrize(
    ("piece", "begin", "found"),
    [
        (b"a,b\n1,2\n", 4, False),
        (b"a,b\n1,02\n", 4, True),
        (b"01,b\n1,2\n", 5, False),  # the header's names are not cells
        (b'1, " +07"\n', 0, True),
        (b"1,2.05,100\n-0.5,x007\n", 0, False),  # zeros inside numbers and words
        (b"007\n", 0, True),
        (b"1\r-00.5\r", 0, True),
    ],
)
def test_leading_zeros_are_found_on_the_bytes(piece, begin, found):
    assert reader._leading_zero(piece, begin, ord(",")) == found


COLUMNS = {
    "ids": ["s001", "s002", None, "s010"],
    "numbers after markers": ["null", "NA", "?", "1.5", "2", None],
    "number words": ["inf", "-Infinity", "nan", "1e5"],
    "grouped": ["1 234,5", "12,0", "-3"],
    "codes": ["A1", "B2", "007"],
    "classes": ["north", " south ", "", "NA"],
    "a late word": ["1", "2", "3", "x"],
}


@pytest.mark.parametrize("name", sorted(COLUMNS))
def test_columns_surely_text_convert_as_when_every_cell_is_tried(name, monkeypatch):
    from dami_gui.core.data import number_columns

    frame = pd.DataFrame({"c": pd.Series(COLUMNS[name], dtype=object)})
    quick = number_columns.convert_columns(frame, ",")
    monkeypatch.setattr(number_columns, "_surely_text", lambda filled: False)
    tried = number_columns.convert_columns(frame, ",")
    pd.testing.assert_frame_equal(quick, tried, check_exact=True)
    assert quick.attrs == tried.attrs
