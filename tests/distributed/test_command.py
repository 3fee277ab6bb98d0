"""`dami select --engine dask` as a command: the table, and one sentence with exit code 2."""

import numpy as np
import pandas as pd
import pytest

from dami_gui.cli import main as cli
from tests.distributed.conftest import need_dask

need_dask()


def test_select_with_dask_writes_the_table_of_the_in_memory_command(
    client, pool_files, tmp_path, capsys
):
    out, ref = tmp_path / "q.csv", tmp_path / "ref.csv"
    common = ["--label-column", "label", "--id-column", "id", "--batch", "5"]
    # the session's local cluster, by its address (a cluster started by the command itself hung
    # once in the whole suite, at its first computation, though never in tests/distributed alone)
    dask = ["--engine", "dask", "--scheduler", client.scheduler.address, "--out", str(out)]
    assert cli.main(["select", str(pool_files / "pq"), *dask, *common]) == 0
    err = capsys.readouterr().err
    assert "Running on the scheduler at" in err and "Stages: features" in err
    assert cli.main(["select", str(pool_files / "pool.csv"), "--out", str(ref), *common]) == 0
    ours, theirs = pd.read_csv(out), pd.read_csv(ref)
    assert list(ours.columns) == list(theirs.columns)
    assert ours["rank"].tolist() == [1, 2, 3, 4, 5]
    assert ours["id"].tolist() == [f"r{r - 1:05d}" for r in ours["row"]]
    pool = pd.read_csv(pool_files / "pool.csv")
    assert pool["label"].iloc[ours["row"] - 1].isna().all()


def bad(args, capsys):
    code = cli.main(args)
    text = capsys.readouterr().err
    err = text.strip().splitlines()
    assert code == 2
    # progress lines ("Running on ...") may come first; the error is one line, the last
    assert err[-1].startswith("dami: error:") and "Traceback" not in text
    assert sum(line.startswith("dami: error:") for line in err) == 1
    return err[-1]


def test_a_bad_path_is_one_sentence(tmp_path, capsys):
    base = ["--engine", "dask", "--label-column", "label", "--out", str(tmp_path / "q.csv")]
    line = bad(["select", str(tmp_path / "missing*.parquet"), *base], capsys)
    assert "No file matches" in line
    (tmp_path / "x.json").write_text("{}")
    assert "neither CSV nor Parquet" in bad(["select", str(tmp_path / "x.json"), *base], capsys)


def test_a_bad_scheduler_address_is_one_sentence(pool_files, tmp_path, capsys, monkeypatch):
    from dami_gui.distributed import cluster

    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 1)
    line = bad(
        [
            "select", str(pool_files / "pq"), "--engine", "dask", "--label-column", "label",
            "--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path / "q.csv"),
        ],
        capsys,
    )  # fmt: skip
    assert "Cannot reach the Dask scheduler at 'tcp://127.0.0.1:9'" in line


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--memory-per-worker", "lots"], "--memory-per-worker must be a size"),
        (["--workers", "0"], "workers"),
        (["--strategy", "entropy"], "runs the strategies dami-blend, dami-plus and random"),
        (["--label-column", "nope"], "nope"),
        (["--classes", "a,b"], "is not one of the classes"),
    ],
)
def test_bad_options_are_one_sentence(client, pool_files, tmp_path, capsys, extra, words):
    args = ["select", str(pool_files / "pq"), "--engine", "dask", "--label-column", "label"]
    args += ["--scheduler", client.scheduler.address]
    assert words in bad([*args, "--out", str(tmp_path / "q.csv"), *extra], capsys)


def test_labels_in_parquet_as_numbers(client, tmp_path, capsys):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(300, 3)), columns=["a", "b", "c"])
    frame["y"] = np.where(np.arange(300) < 30, (frame["a"] > 0).astype(float), np.nan)
    frame["id"] = np.arange(300)
    frame.to_parquet(tmp_path / "p.parquet")
    out = tmp_path / "q.csv"
    args = ["select", str(tmp_path / "p.parquet"), "--engine", "dask", "--label-column", "y",
            "--id-column", "id", "--batch", "4", "--out", str(out),
            "--scheduler", client.scheduler.address]  # fmt: skip
    assert cli.main(args) == 0
    table = pd.read_csv(out)
    assert set(table["predicted"]) <= {0, 1} and (table["row"] > 30).all()
    assert table["id"].tolist() == (table["row"] - 1).tolist()


# ------------------------------------------------------- the same bad input, the same answer


def one_class_pool(path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(400, 3)), columns=["a", "b", "c"])
    frame["y"] = np.where(np.arange(400) < 10, "x", "")
    frame.to_csv(path, index=False)
    return path


def with_nul(path, at):
    data = one_class_pool(path).read_bytes()
    cut = data.index(b"\n", at) + 1  # at the start of a line, in the first cell
    path.write_bytes(data[:cut] + b"0.5\x00" + data[cut:])
    return path


@pytest.mark.parametrize(
    ("make", "extra", "words"),
    [
        (one_class_pool, [], "The label column 'y' has only the class 'x'; a classifier needs"),
        (lambda p: with_nul(p, 100), [], "looks like a binary file"),
        (lambda p: with_nul(p, 12_000), ["--classes", "x,z"], "holds binary data (a NUL byte"),
        (lambda p: p.write_bytes(b"") and p, [], "the file is empty; choose a file with a header"),
        (lambda p: p.write_text("a,b,y\n") and p, [], "the file has a header but no rows"),
    ],
    ids=["one class", "NUL at the start", "NUL further on", "empty", "header only"],
)
def test_both_engines_give_the_same_answer_to_bad_input(
    client, tmp_path, capsys, make, extra, words
):
    pool = tmp_path / "pool.csv"
    make(pool)
    args = ["select", str(pool), "--label-column", "y", "--out", str(tmp_path / "q.csv"), *extra]
    memory = bad(args, capsys)
    dask = bad([*args, "--engine", "dask", "--scheduler", client.scheduler.address], capsys)
    assert words in memory and words in dask, (memory, dask)
    if "NUL" not in words:  # the in-memory reader names the line, the Dask engine the row
        assert memory == dask
    assert not (tmp_path / "q.csv").exists()


def test_a_named_pipe_is_refused_before_a_cluster_starts(tmp_path, capsys):
    import os

    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes here")
    os.mkfifo(tmp_path / "pool.csv")
    line = bad(
        ["select", str(tmp_path / "pool.csv"), "--engine", "dask", "--label-column", "y",
         "--out", str(tmp_path / "q.csv")],
        capsys,
    )  # fmt: skip
    assert "pool.csv is a named pipe, not an ordinary file" in line
    (tmp_path / "pq").mkdir()  # a Parquet folder with a pipe among its files
    os.mkfifo(tmp_path / "pq" / "part-1.parquet")
    line = bad(
        ["select", str(tmp_path / "pq"), "--engine", "dask", "--label-column", "y",
         "--out", str(tmp_path / "q.csv")],
        capsys,
    )  # fmt: skip
    assert "part-1.parquet is a named pipe" in line
