"""Checkpoints end to end: dedup across runs, restore/checkout with matching fingerprints,
tampering detected, planted pickles refused, skips recorded, and the fresh-kernel load check."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import nbformat
import pytest
from IPython.core.error import UsageError

from repro_jupyter import METADATA_KEY, magics
from repro_jupyter.fingerprint import fingerprint
from repro_jupyter.store.catalog import Catalog

from .conftest import cli, make_notebook, run


@pytest.fixture(autouse=True)
def signing_key(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("REPRO_JUPYTER_SIGNING_KEY", str(tmp_path_factory.mktemp("key") / "signing_key"))


class Point:  # pickled as a last resort (signed)
    def __init__(self, x):
        self.x = x

    def __eq__(self, other):
        return isinstance(other, Point) and other.x == self.x


def _session(ip):
    return magics._LOADED[id(ip)].session


def _objects_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in (folder / ".repro" / "objects").rglob("*") if p.is_file())


def test_restore_gives_back_recorded_fingerprints(ip):
    torch = pytest.importorskip("torch")
    ip.user_ns["Point"] = Point
    run(ip, "%repro on --seed 4")
    run(
        ip,
        "import numpy as np\nimport torch\narr = np.arange(12.0).reshape(3, 4)\nconf = {'lr': 0.1}",
        cell_id="a",
    )
    run(
        ip,
        "pt = Point(3)\nmodel = torch.nn.Linear(3, 2)\nopt = torch.optim.SGD(model.parameters(), lr=0.1)",
        cell_id="b",
    )
    run(ip, "loss = model(torch.ones(1, 3)).sum()\nloss.backward()\nopt.step()\narr[0, 0] = 99", cell_id="c")
    session = _session(ip)
    session.flush()
    recorded = {n: fingerprint(ip.user_ns[n])["digest"] for n in ("arr", "conf", "pt", "model", "opt")}
    for name in recorded:
        del ip.user_ns[name]
    ip.run_line_magic("repro", "checkout c --eager")
    restored = {n: fingerprint(ip.user_ns[n])["digest"] for n in recorded}
    assert restored == recorded
    assert ip.user_ns["arr"][0, 0] == 99 and ip.user_ns["pt"] == Point(3)
    ip.run_line_magic("repro", "restore a arr")  # back to the state after cell a, memory-mapped
    assert ip.user_ns["arr"][0, 0] == 0 and not ip.user_ns["arr"].flags.writeable
    assert isinstance(ip.user_ns["opt"], torch.optim.SGD)


def test_rerunning_a_notebook_adds_almost_nothing(tmp_path):
    src = make_notebook(
        tmp_path / "d.ipynb",
        ["import numpy as np\nbig = np.ones(500_000)", "small = [1, 2, 3]", "big2 = big * 2"],
    )
    assert cli("run", src, "-q", "--seed", "1") == 0
    first = _objects_bytes(tmp_path)
    assert first > 8_000_000  # the two arrays were checkpointed
    assert cli("run", src, "-q", "--seed", "1") == 0
    assert _objects_bytes(tmp_path) - first == 0


def test_tampered_checkpoint_is_detected_with_one_line_naming_it(ip, tmp_path):
    run(ip, "%repro on --seed 4")
    run(ip, "import numpy as np\nv = np.arange(1000.0)", cell_id="t")
    session = _session(ip)
    session.flush()
    reader = Catalog(session.store().root / "catalog.sqlite")
    entry = reader.checkpoint(fingerprint(ip.user_ns["v"])["digest"])
    path = session.store().objects.path_for(entry["object"])
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(UsageError) as info:
        ip.run_line_magic("repro", "restore t v")
    assert entry["object"] in str(info.value) and "\n" not in str(info.value)


def test_planted_pickle_without_signature_is_refused_and_never_runs(ip, tmp_path):
    run(ip, "%repro on --seed 4")
    ip.user_ns["Point"] = Point
    run(ip, "pt = Point(1)", cell_id="p")
    session = _session(ip)
    session.flush()
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    payload = pickle.dumps(Evil())
    store = session.store()
    evil, _ = store.objects.put_bytes(payload)
    reader = Catalog(store.root / "catalog.sqlite")
    entry = reader.checkpoint(fingerprint(ip.user_ns["pt"])["digest"])
    reader._conn.execute("UPDATE checkpoints SET object = ? WHERE object = ?", (evil, entry["object"]))
    reader._conn.commit()
    with pytest.raises(UsageError) as info:
        ip.run_line_magic("repro", "restore p pt")
    assert "refusing to unpickle" in str(info.value)
    assert not marker.exists()


def test_unpicklable_and_huge_values_are_recorded_as_skipped(ip):
    run(ip, "%config ReproMagics.checkpoint_max_object_bytes = 100000")
    run(ip, "%repro on --seed 4")
    res = run(
        ip,
        "import threading, numpy as np\nlock = threading.Lock()\ngen = (i for i in range(3))\n"
        "huge = np.zeros(1_000_000)\nok = 1",
        cell_id="u",
    )
    assert res.success
    session = _session(ip)
    session.flush()
    record = session.store().objects.get_json(session.cell_metadata["u"]["record"])
    skipped = record["state"]["not_checkpointed"]
    assert "lock" in skipped and "gen" in skipped
    assert "larger than" in skipped["huge"]


def test_check_reloads_a_checkpoint_in_a_fresh_kernel(tmp_path, capsys):
    src = make_notebook(
        tmp_path / "k.ipynb",
        [
            "%precision 3\nimport numpy as np\nw = np.random.rand(4)",
            "def scale(v):\n    return v * 3\nw2 = scale(w)",
            "noise = np.random.rand(2)\nprint((scale(w2) + noise.sum()).round(6))",
        ],
        ids=["k0", "k1", "k2"],
    )
    assert cli("run", src, "-q", "--seed", "2") == 0
    assert cli("check", src, "--cell", "k1") == 0
    assert "REPRODUCED" in capsys.readouterr().out
    nb = nbformat.read(src, 4)
    assert METADATA_KEY in nb.cells[1].metadata


def test_catalog_row_pointing_at_another_valid_object_is_refused_even_lazily(ip):
    """A catalog row can come from another writer's journal: only the fingerprint ties an object to a
    variable, so a lazy (memory-mapped) restore checks it too."""
    import json

    import numpy as np

    run(ip, "%repro on --seed 4")
    run(ip, "import numpy as np\nv = np.arange(1000.0)\nw = np.full(1000, 666.0)", cell_id="p")
    session = _session(ip)
    session.flush()
    db = Catalog(session.store().root / "catalog.sqlite")
    fp_v, fp_w = (fingerprint(ip.user_ns[n])["digest"] for n in ("v", "w"))
    other = db.checkpoint(fp_w)["object"]
    db._conn.execute("UPDATE checkpoints SET object = ? WHERE fingerprint = ?", (other, fp_v))
    db.close()
    del ip.user_ns["v"]
    with pytest.raises(UsageError) as info:
        ip.run_line_magic("repro", "restore p v")  # lazy by default
    assert "does not match its recorded fingerprint" in str(info.value)
    assert "v" not in ip.user_ns or not np.array_equal(ip.user_ns["v"], np.full(1000, 666.0))
    assert json.dumps(str(info.value)).count("\\n") == 0
