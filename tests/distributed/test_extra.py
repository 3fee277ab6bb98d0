"""The dask extra is optional: without it one sentence; the frozen bundle leaves it out."""

from dami_gui.cli import main as cli


def bad(args, capsys):
    code = cli.main(args)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("dami: error:")
    return err[0]


def test_without_the_extra_the_command_says_what_to_install(tmp_path, capsys, monkeypatch):
    import dami_gui.distributed as room

    (tmp_path / "pool.csv").write_text("a,label\n1,x\n2,\n", encoding="utf-8")
    monkeypatch.setattr(room, "find_spec", lambda name: None if name == "dask" else object())
    line = bad(
        ["select", str(tmp_path / "pool.csv"), "--engine", "dask", "--label-column", "label",
         "--out", str(tmp_path / "q.csv")],
        capsys,
    )  # fmt: skip
    assert 'install the extra with: pip install "dami-gui[dask]"' in line


def test_the_bundle_leaves_dask_out():
    """The PyInstaller spec excludes the extra: a venv with dask would otherwise bundle it."""
    import ast
    from pathlib import Path

    spec = Path(__file__).resolve().parents[2] / "packaging" / "dami-gui.spec"
    tree = ast.parse(spec.read_text(encoding="utf-8"))
    excludes = [
        kw.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        for kw in node.keywords
        if kw.arg == "excludes"
    ]
    assert len(excludes) == 1
    names = set(ast.literal_eval(excludes[0]))
    assert {"dask", "distributed", "pyarrow", "dami_gui.distributed"} <= names
