"""read_csv on the kinds of files scientists actually have, and on the ones it must refuse."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dami_gui.core.data.reader import read_csv
from dami_gui.core.errors import Cancelled, DataError
from dami_gui.core.progress import CancelToken, Reporter


def write(
    tmp_path: Path, text: str | bytes, name: str = "data.csv", encoding: str = "utf-8"
) -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_bytes(text.encode(encoding))
    else:
        path.write_bytes(text)
    return path


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_separators_are_detected(tmp_path: Path, sep: str) -> None:
    rows = ["name,x,y", "a,1.5,2", "b,2.5,3", "c,3.5,4"]
    frame = read_csv(write(tmp_path, "\n".join(r.replace(",", sep) for r in rows) + "\n"))
    assert list(frame.columns) == ["name", "x", "y"]
    assert frame["x"].tolist() == [1.5, 2.5, 3.5]
    assert pd.api.types.is_integer_dtype(frame["y"])
    assert frame["name"].tolist() == ["a", "b", "c"]


@pytest.mark.parametrize("sep", [";", "\t"])
def test_decimal_commas(tmp_path: Path, sep: str) -> None:
    text = sep.join(["label", "x", "n"]) + "\n"
    text += sep.join(["a", "1,5", "3"]) + "\n" + sep.join(["b", "-0,25", "4"]) + "\n"
    frame = read_csv(write(tmp_path, text))
    assert frame["x"].tolist() == [1.5, -0.25]
    assert frame["n"].tolist() == [3, 4]
    assert frame["label"].tolist() == ["a", "b"]


def test_comma_separated_text_with_semicolons_keeps_commas(tmp_path: Path) -> None:
    frame = read_csv(write(tmp_path, 'a,b\n"x; y",1\n"z; w",2\n'))
    assert list(frame.columns) == ["a", "b"]
    assert frame["a"].tolist() == ["x; y", "z; w"]


def test_excel_sep_line(tmp_path: Path) -> None:
    frame = read_csv(write(tmp_path, "sep=;\na;b\n1;2\n3;4\n"))
    assert list(frame.columns) == ["a", "b"]
    assert frame["b"].tolist() == [2, 4]


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_windows_encodings(tmp_path: Path, encoding: str) -> None:
    text = "espèce,prix\ncafé,5\nthé,6\n" + ("€uro,7\n" if encoding == "cp1252" else "")
    frame = read_csv(write(tmp_path, text, encoding=encoding))
    assert list(frame.columns) == ["espèce", "prix"]
    assert frame["espèce"].tolist()[:2] == ["café", "thé"]


def test_non_utf8_byte_after_the_sample_falls_back(tmp_path: Path) -> None:
    text = "a,b\n" + "x,1\n" * 20000 + "café,2\n"  # the é lies beyond the 64 KB sample
    frame = read_csv(write(tmp_path, text, encoding="latin-1"))
    assert len(frame) == 20001
    assert frame["a"].iloc[-1] == "café"


def test_utf8_bom_and_utf16(tmp_path: Path) -> None:
    frame = read_csv(write(tmp_path, "\ufeffname,x\né,1\n"))
    assert list(frame.columns) == ["name", "x"]
    frame = read_csv(write(tmp_path, "name\tx\né\t1\n", name="u16.txt", encoding="utf-16"))
    assert list(frame.columns) == ["name", "x"]
    assert frame["name"].tolist() == ["é"]


def test_quoted_newline_and_header_spaces(tmp_path: Path) -> None:
    frame = read_csv(write(tmp_path, ' note , x \n"line one\nline two",1\nplain,2\n'))
    assert list(frame.columns) == ["note", "x"]
    assert frame["note"].tolist() == ["line one\nline two", "plain"]
    assert frame["x"].tolist() == [1, 2]


def test_empty_cells_and_markers_are_missing(tmp_path: Path) -> None:
    frame = read_csv(write(tmp_path, "a,b,c\n1,,x\n?,  ,y\n3,NA,\n"))
    assert frame["a"].isna().tolist() == [False, True, False]  # "?" among numbers: missing
    assert frame["a"].dropna().tolist() == [1.0, 3.0]
    assert frame.attrs["dami_missing_markers"] == {"a": {"?": 1}}
    # a column of markers only keeps them: a class may be called "NA" (features read it as a gap)
    assert frame["b"].isna().tolist() == [True, True, False] and frame["b"][2] == "NA"
    assert frame["c"].isna().tolist() == [False, False, True]


def test_mixed_column_keeps_text(tmp_path: Path) -> None:
    frame = read_csv(write(tmp_path, "a\n1\n2\nthree\n"))
    assert frame["a"].tolist() == ["1", "2", "three"]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", ["empty"]),
        (b"  \n\n", ["empty"]),
        (b"a,b,c\n", ["header", "no rows"]),
        (b"a,b,a\n1,2,3\n", ["'a'", "own name"]),
        (b"a,b\n1,2\n3,4,5\n", ["line 3", "3 values", "2 columns"]),
        (b"\x00\x01\x02binary\x00", ["binary", "save it as CSV"]),
        (b'{"a": [1, 2]}', ["JSON", "save it as CSV"]),
        (b'[{"a": 1}, {"a": 2}]', ["JSON", "save it as CSV"]),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", ["Excel", "save it as CSV"]),
    ],
)
def test_bad_files_are_refused_plainly(tmp_path: Path, content: bytes, words: list[str]) -> None:
    path = write(tmp_path, content)
    with pytest.raises(DataError) as info:
        read_csv(path)
    message = str(info.value)
    for word in words:
        assert word.lower() in message.lower(), message
    assert "Traceback" not in message and "\n" not in message


def test_excel_workbook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "table.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(DataError, match=r"Excel.*save it as CSV"):
        read_csv(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        read_csv(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="folder"):
        read_csv(tmp_path)


def big_file(tmp_path: Path, rows: int = 3000) -> Path:
    rng = np.random.default_rng(0)
    lines = ["id,x,y,label"]
    lines += [f"r{i},{rng.normal():.6f},{i % 7},{'ab'[i % 2]}" for i in range(rows)]
    lines[1500] = "r1499b,,oops,"  # a text cell in a later chunk keeps "y" as text everywhere
    return write(tmp_path, "\n".join(lines) + "\n")


def test_chunked_read_matches_whole_read_and_reports_progress(tmp_path: Path) -> None:
    path = big_file(tmp_path)
    seen: list[tuple[str, float]] = []
    chunked = read_csv(path, progress=lambda stage, f: seen.append((stage, f)), chunk_bytes=4000)
    whole = read_csv(path)
    pd.testing.assert_frame_equal(chunked, whole)
    assert len(whole) == 3000
    assert whole["y"].iloc[0] == "0" and whole["y"].iloc[1499] == "oops"
    assert len(seen) > 3
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert all(stage == "Reading file" for stage, _ in seen)


def test_cancel_during_chunked_read(tmp_path: Path) -> None:
    path = big_file(tmp_path)
    token = CancelToken()
    calls: list[float] = []

    def progress(stage: str, fraction: float) -> None:
        calls.append(fraction)
        token.cancel()

    with pytest.raises(Cancelled):
        read_csv(path, progress=progress, cancel=token, chunk_bytes=4000)
    assert len(calls) == 1  # stopped right after the first chunk


def test_already_cancelled_token_and_reporter(tmp_path: Path) -> None:
    path = big_file(tmp_path)
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        read_csv(path, cancel=token, chunk_bytes=4000)
    with pytest.raises(Cancelled):
        read_csv(path, progress=Reporter(None, token), chunk_bytes=4000)
