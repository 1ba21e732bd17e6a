"""The panel's Checkpoints section through a real Jupyter Server: ``POST milestones`` lists what
``repro_jupyter.checkpoint`` saved for the notebook (the rows of ``jupyter repro checkpoints --json``),
with the saving cell's position, and says what it cannot read in one line."""

from __future__ import annotations

import json
import os

import nbformat
import pytest

torch = pytest.importorskip("torch")

import repro_jupyter  # noqa: E402
from repro_jupyter.store import open_store  # noqa: E402

from .conftest import make_notebook  # noqa: E402


async def _post(jp_fetch, body):
    response = await jp_fetch("repro-jupyter", "milestones", method="POST", body=json.dumps(body))
    return json.loads(response.body)


@pytest.fixture
def saved(jp_root_dir, monkeypatch):
    """Two milestones of work/nb.ipynb saved in-process, as a kernel running that notebook would."""
    folder = jp_root_dir / "work"
    path = make_notebook(folder / "nb.ipynb", ["import torch", "model = torch.nn.Linear(3, 2)", "x = 1"])
    make_notebook(folder / "other.ipynb", ["x = 1"])
    monkeypatch.chdir(folder)
    monkeypatch.setenv("JPY_SESSION_NAME", str(path))
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.ones(8, 3)),
        batch_size=4,
        shuffle=True,
        generator=torch.Generator().manual_seed(1),
    )
    first = repro_jupyter.checkpoint("epoch-1", model=model, epoch=1, loss=0.5)
    second = repro_jupyter.checkpoint("epoch-2", model=model, loader=loader, epoch=2)
    # a row as a recorded kernel writes it: the cell that saved it, by key
    store = open_store(folder, create=False)
    store.catalog.add_milestone("nb.ipynb", "epoch-3", second, None, "cell-1")
    store.close()
    return path, first, second


async def test_lists_the_notebooks_milestones_with_their_facts(jp_fetch, saved):
    path, first, second = saved
    data = await _post(jp_fetch, {"path": "work/nb.ipynb", "notebook": nbformat.read(path, 4)})
    assert data["notebook"] == "nb.ipynb" and data["problem"] is None
    rows = data["milestones"]
    assert [r["name"] for r in rows] == ["epoch-1", "epoch-2", "epoch-3"]
    one, two, three = rows
    assert one["manifest_digest"] == first and two["manifest_digest"] == three["manifest_digest"] == second
    assert one["extra"] == {"epoch": 1, "loss": 0.5} and two["extra"] == {"epoch": 2}
    assert one["exact_resume"] is None  # no loader: nothing says where the data stream stood
    assert two["exact_resume"] is True
    assert one["parts"] == ["weights", "rng"] and two["parts"] == ["weights", "loader", "rng"]
    assert one["model"] == "torch.nn.modules.linear:Linear" and one["size"] > 0
    assert one["recorded"] is False  # saved outside a recorded kernel
    assert one["cell_index"] is None and three["cell_index"] == 1 and three["cell_key"] == "cell-1"
    assert isinstance(one["created_at"], float) and "error" not in one


async def test_only_this_notebooks_milestones(jp_fetch, saved, jp_root_dir):
    other = jp_root_dir / "work" / "other.ipynb"
    data = await _post(jp_fetch, {"path": "work/other.ipynb", "notebook": nbformat.read(other, 4)})
    assert data["milestones"] == []


async def test_no_store_is_an_empty_list_with_the_reason(jp_fetch, jp_root_dir):
    path = make_notebook(jp_root_dir / "fresh" / "nb.ipynb", ["x = 1"])
    data = await _post(jp_fetch, {"path": "fresh/nb.ipynb", "notebook": nbformat.read(path, 4)})
    assert data["milestones"] == [] and "no repro store" in data["problem"]


async def test_a_corrupt_manifest_is_listed_with_its_one_line_problem(jp_fetch, saved):
    path, first, _ = saved
    store = open_store(path.parent, create=False)
    target = store.objects.path_for(first)
    store.close()
    os.chmod(target, 0o644)
    raw = bytearray(target.read_bytes())
    raw[10] ^= 1
    target.write_bytes(bytes(raw))
    data = await _post(jp_fetch, {"path": "work/nb.ipynb", "notebook": nbformat.read(path, 4)})
    bad = data["milestones"][0]
    assert bad["name"] == "epoch-1" and "\n" not in bad["error"] and "parts" not in bad
    assert all("error" not in r for r in data["milestones"][1:])


async def test_rows_without_a_notebook_are_ours_by_the_cell_that_saved_them(jp_fetch, saved):
    """A kernel whose notebook was renamed since it started saves rows without a notebook name."""
    path, first, _ = saved
    store = open_store(path.parent, create=False)
    store.catalog.add_milestone(None, "renamed", first, None, "cell-2")
    store.catalog.add_milestone(None, "elsewhere", first, None, "a-cell-of-another-notebook")
    store.close()
    data = await _post(jp_fetch, {"path": "work/nb.ipynb", "notebook": nbformat.read(path, 4)})
    rows = data["milestones"]
    assert [r["name"] for r in rows] == ["epoch-1", "epoch-2", "epoch-3", "renamed"]
    assert rows[-1]["cell_index"] == 2 and rows[-1]["manifest_digest"] == first
