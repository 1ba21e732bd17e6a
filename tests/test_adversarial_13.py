"""Adversarial checks of issue 13's safety changes (crafted stores, big-frame secret scan).

Each test was a finding (marked ``xfail(strict=True)`` while it held); all are fixed now, and each
test fails if its gap opens again.
"""

from __future__ import annotations

import io
import json

import nbformat
import pytest

from repro_jupyter import METADATA_KEY
from repro_jupyter.store import open_store

from .conftest import cli, make_notebook, store_text

KEY = "AKIA" + "Q3EGRTZ7PLMN4XKW"  # an AWS access key id shape (split so no source holds it whole)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """One real recorded notebook (one kernel) whose environment and record the tests craft copies of."""
    folder = tmp_path_factory.mktemp("adv13")
    src = make_notebook(folder / "a.ipynb", ["x = [1, 2]", "y = x * 2"])
    assert cli("run", src, "-q") == 0
    return src


def _crafted(src, env_change=None, record_change=None):
    """A copy of ``src`` pointing at an environment / second-cell record changed by the callables."""
    store = open_store(src.parent, create=False)
    nb = nbformat.read(src, 4)
    meta = nb.metadata[METADATA_KEY]
    if env_change:
        env = json.loads(store.objects.get_bytes(meta["environment"]))
        env_change(env)
        digest, _ = store.objects.put_json(env)
        meta["environment"] = digest
        for cell in nb.cells:
            cell.metadata[METADATA_KEY]["environment"] = digest
    if record_change:
        cell_meta = nb.cells[1].metadata[METADATA_KEY]
        record = json.loads(store.objects.get_bytes(cell_meta["record"]))
        record_change(record)
        cell_meta["record"], _ = store.objects.put_json(record)
    out = src.parent / "crafted.ipynb"
    nbformat.write(nb, out)
    return out


def _control_free(text):
    return not any(ord(c) < 32 and c != "\n" or c in "\x7f\x85\u2028\u2029" for c in text)


def _spoof(env):
    env["cpu"]["model"] = "Intel\n  gpu      NVIDIA H100 (cc 9.0)\x1b]0;pwned\x07"
    env["git"]["branch"] = "main\r  git      deadbeef on main"
    env["os"]["distribution"] = "Debian\u2028x"


def test_a_schema_valid_environment_cannot_forge_lines_or_terminal_escapes(recorded, capsys):
    crafted = _crafted(recorded, env_change=_spoof)
    capsys.readouterr()
    assert cli("show", crafted) == 0
    show = capsys.readouterr().out
    assert cli("env", "diff", recorded, crafted) == 2  # the schema refuses control characters
    diff, err = capsys.readouterr()
    assert len(err.strip().splitlines()) == 1 and _control_free(err), err
    assert sum(line.lstrip().startswith("gpu ") for line in show.splitlines()) <= 1, show  # none forged
    assert "not a valid environment" in show, show  # refused, and said so
    assert _control_free(show) and _control_free(diff), (show, diff)


def _deep(env):
    env["threads"] = {"pools": json.loads("[" * 600 + "]" * 600)}


@pytest.mark.parametrize("argv", [("show", "--json", "{nb}"), ("env", "diff", "{nb}", "{src}", "--json")])
def test_a_deeply_nested_but_schema_valid_environment_is_no_traceback(recorded, capsys, argv):
    crafted = _crafted(recorded, env_change=_deep)
    capsys.readouterr()
    try:
        code = cli(*[a.format(nb=crafted, src=recorded) for a in argv])
    except RecursionError:
        pytest.fail("RecursionError escaped")
    assert code in (0, 1, 2)


def test_lineage_dot_quotes_variable_names_from_the_store(recorded, capsys):
    evil = 'y"]; evil [label="PWN" image="/etc/passwd"]; "x'

    def rename(record):
        record["state"]["variables"][evil] = record["state"]["variables"].pop("y")

    crafted = _crafted(recorded, record_change=rename)
    capsys.readouterr()
    assert cli("lineage", "--dot", crafted) == 0
    dot = capsys.readouterr().out
    import re

    statements = dot.splitlines()[3:-1]
    assert len(statements) == 4 + 3, dot  # 4 nodes, 3 edges: nothing added
    for line in statements:  # every quote that is not escaped opens or closes an id: ids stay whole
        assert len(re.findall(r'(?<!\\)"', line)) in (4,), line


def test_a_local_tag_that_names_no_index_gives_no_index_url():
    from repro_jupyter.environment import export

    env = {"python": {"version": "3.11.7"}, "gpu": {"available": False}, "packages": {"imported": {}}}
    env["packages"]["imported"] = {"torch": "2.13.0+.."}
    index = export._torch_index(export._pins(env, False))
    assert index is None or not index.endswith("/.."), index
    # (also: with torch and torchvision of different tags the choice follows set order, PYTHONHASHSEED)


def test_export_mlflow_with_a_file_tracking_uri_is_one_line(recorded, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    capsys.readouterr()
    try:
        code = cli("export", "mlflow", "--tracking-uri", f"file:{tmp_path / 'mlruns'}", "-q", recorded)
    except Exception as exc:  # noqa: BLE001 - the finding is that anything escapes
        pytest.fail(f"{type(exc).__name__} escaped: {str(exc)[:120]}")
    assert code in (0, 2)


# -- secrets through Parquet frames -------------------------------------------------------------------------


def _parquet_text(encoded):
    import pyarrow.parquet as pq

    parts = encoded._deferred() if encoded.deferred else list(encoded.chunks())
    table = pq.read_table(io.BytesIO(b"".join(bytes(p) for p in parts)))
    text = str(table.schema.metadata)
    for column in table.columns:
        text += str(column.to_pylist())
        if hasattr(column.type, "value_type"):  # dictionary (categorical): every entry, used or not
            text += str(column.combine_chunks().dictionary.to_pylist())
    return text


def _scanned(encoded):
    """What checkpointing decides: scanned (where it may hold text) through the bytes it would read."""
    from repro_jupyter.checkpointing import _may_hold_text, _text_of
    from repro_jupyter.redaction.scan import chunks_hold_secret

    return _may_hold_text(encoded) and chunks_hold_secret(_text_of(encoded))


def _unused_category_frame(pd, np, where):
    n = 2_200_000  # over the 16 MiB at which the Parquet is written later, scanned via frame_text
    categories = pd.Index(["a", KEY], dtype="string")
    if where == "column":
        return pd.DataFrame(
            {"x": np.arange(n, dtype=float), "c": pd.Categorical(["a"] * n, categories=categories)}
        )
    index = pd.CategoricalIndex(["a"] * n, categories=categories)
    return pd.DataFrame({"x": np.arange(n, dtype=float)}, index=index)


@pytest.mark.parametrize("where", ["column", "index"])
def test_an_unused_category_holding_a_secret_is_scanned(where):
    np = pytest.importorskip("numpy")
    pd = pytest.importorskip("pandas")
    from repro_jupyter.checkpoint.formats_data import encode_pandas

    encoded = encode_pandas(_unused_category_frame(pd, np, where), None)
    assert encoded is not None and encoded.deferred
    assert KEY in _parquet_text(encoded)  # what the store would hold
    assert _scanned(encoded), "the secret reaches the store unscanned"


def test_a_secret_split_by_parquet_compression_is_still_found():
    pd = pytest.importorskip("pandas")
    from repro_jupyter.checkpoint.formats_data import encode_pandas

    frame = pd.DataFrame({"s": pd.array([KEY[:11], KEY[4:], "zz", KEY], dtype="string")})
    encoded = encode_pandas(frame, None)
    assert encoded is not None and not encoded.deferred
    assert KEY in _parquet_text(encoded)
    assert _scanned(encoded), "the secret reaches the store unscanned"


def test_a_series_named_by_a_secret_leaves_no_trace_in_the_store(tmp_path):
    src = make_notebook(
        tmp_path / "s.ipynb",
        [
            "import pandas as pd\n"
            f"label = 'tok ' + {KEY[:4]!r} + {KEY[4:]!r}\n"
            "s = pd.Series([1.0, 2.0], name=label)\ndel label"
        ],
    )
    assert cli("run", src, "-q") == 0
    assert KEY not in store_text(tmp_path / ".repro")
