"""The "Must hold" training notebook of issue 15, with real kernels: a small CNN on synthetic images, a
DataLoader with 2 workers whose dataset draws augmentations from Python, NumPy and torch RNGs, Adam + StepLR,
a milestone checkpoint with a probe every epoch.

- ``jupyter repro run`` then ``jupyter repro verify``, twice: exit 0 each time;
- another master seed drifts at the first cell that draws (the model's initial weights);
- a fresh kernel restores epoch 2 and trains to 4: per-epoch losses and final weights bit-identical;
- a flipped byte in a milestone object is refused in one line, nothing restored;
- ``jupyter repro check --checkpoint``: 0 on the recorded code, 1 when the model code changed;
- ``jupyter repro checkpoints --json`` lists the four milestones with their manifests.

The worker augmentations are reproducible here because torch seeds each worker's ``random``, NumPy and torch
from a base seed drawn from the main process's torch RNG, which the cell seed (verify) or the restored RNG
state (resume) fixes; nothing in these assertions depends on a ``worker_init_fn``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest

from repro_jupyter import METADATA_KEY
from repro_jupyter.verify import VerifyOptions, verify_notebook

from .conftest import cli, make_notebook

pytest.importorskip("torch")

DATA = Path(__file__).parent / "data"
TRAIN = [
    "import hashlib, json, random\nimport numpy as np\nimport torch\nimport repro_jupyter\n"
    "from training_model import SyntheticImages, build, train_epoch\ntorch.set_num_threads(1)",
    "EPOCHS = 4\nLR = 0.01\nBATCH = 16",
    "config = json.load(open('data.json'))\ndataset = SyntheticImages(**config)\n"
    "loader = torch.utils.data.DataLoader(dataset, batch_size=BATCH, shuffle=True, num_workers=2)\n"
    "probe = dataset.images[:8]\nprint(len(dataset))",
    "model = build()\noptimizer = torch.optim.Adam(model.parameters(), lr=LR)\n"
    "scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)\n"
    "print(sum(p.numel() for p in model.parameters()))",
    "losses = []\nfor epoch in range(1, EPOCHS + 1):\n"
    "    losses.append(train_epoch(model, loader, optimizer, scheduler))\n"
    "    digest = repro_jupyter.checkpoint(f'epoch-{epoch}', model=model, optimizer=optimizer,\n"
    "        scheduler=scheduler, loader=loader, probe=probe, factory='training_model:build', epoch=epoch)\n"
    "    print(epoch, round(losses[-1], 6), digest[:19])",
    "def weights_digest(m):\n"
    "    return hashlib.sha256(b''.join(t.numpy().tobytes() for t in m.state_dict().values())).hexdigest()\n"
    "print([x.hex() for x in losses])\nprint(weights_digest(model))",
]
RESUME = [
    *TRAIN[:4],
    "manifest = repro_jupyter.restore_checkpoint('epoch-2', model=model, optimizer=optimizer,\n"
    "    scheduler=scheduler, loader=loader, notebook='training.ipynb')\n"
    "losses = []\n"
    "for epoch in range(manifest['extra']['epoch'] + 1, EPOCHS + 1):\n"
    "    losses.append(train_epoch(model, loader, optimizer, scheduler))",
    TRAIN[5].replace("print([x.hex() for x in losses])", "print([x.hex() for x in losses[-2:]])"),
]


def _stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")


def _errors(cell) -> list[str]:
    return [f"{o['ename']}: {o['evalue']}" for o in cell.outputs if o.get("output_type") == "error"]


def _execute(path: Path) -> nbformat.NotebookNode:
    """A fresh, unrecorded kernel (nbclient) in the notebook's folder."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, 4)
    NotebookClient(
        nb, timeout=300, allow_errors=True, resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    return nb


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    base = tmp_path_factory.mktemp("training")
    shutil.copy(DATA / "training_model.py", base / "training_model.py")
    (base / "data.json").write_text('{"n": 96, "seed": 0}')
    make_notebook(base / "training.ipynb", TRAIN)
    assert cli("run", base / "training.ipynb", "-q", "--seed", "7") == 0
    return base


@pytest.fixture
def work(recorded, tmp_path):
    target = tmp_path / "w"
    shutil.copytree(recorded, target)
    return target


def test_records_and_verifies_twice_in_a_row(work):
    nb = work / "training.ipynb"
    first = nbformat.read(nb, 4)
    assert cli("verify", nb, "-q") == 0
    assert cli("run", nb, "-q") == 0
    assert cli("verify", nb, "-q") == 0
    again = nbformat.read(nb, 4)
    # the re-run reproduced every milestone: the same manifests (printed digests)
    assert _stdout(again.cells[4]) == _stdout(first.cells[4])


def test_a_rerun_leaves_every_record_pointer_as_it_was(work):
    nb = work / "training.ipynb"
    first = nbformat.read(nb, 4)
    assert cli("run", nb, "-q") == 0
    again = nbformat.read(nb, 4)
    assert [c.metadata[METADATA_KEY]["record"] for c in again.cells] == [
        c.metadata[METADATA_KEY]["record"] for c in first.cells
    ]


def test_another_master_seed_drifts_at_the_first_cell_that_draws(work):
    path = work / "training.ipynb"
    nb = nbformat.read(path, 4)
    nb.metadata[METADATA_KEY]["master_seed"] = 8
    nbformat.write(nb, path)
    report = verify_notebook(path, VerifyOptions())
    assert report["status"] == "drift"
    assert report["first_drift"]["index"] == 3  # build(): the initial weights
    assert [c["status"] for c in report["cells"][:3]] == ["same"] * 3


def test_a_fresh_kernel_resumes_bit_identically_from_a_milestone(work):
    recorded = _stdout(nbformat.read(work / "training.ipynb", 4).cells[5]).splitlines()
    make_notebook(work / "resume.ipynb", RESUME)
    done = _execute(work / "resume.ipynb")
    assert not [e for c in done.cells for e in _errors(c)]
    resumed = _stdout(done.cells[5]).splitlines()
    losses = json.loads(recorded[0].replace("'", '"'))
    assert json.loads(resumed[0].replace("'", '"')) == losses[2:]  # epochs 3 and 4, float.hex: every bit
    assert resumed[1] == recorded[1]  # final weights


def test_a_flipped_byte_is_refused_in_one_line_and_nothing_is_restored(work, capsys):
    from repro_jupyter.store import open_store

    store = open_store(work, create=False)
    row = store.catalog.milestones(notebook="training.ipynb", name="epoch-2")[-1]
    weights = store.objects.get_json(row["manifest"])["parts"]["weights"]["object"]
    store.close()
    path = store.objects.path_for(weights)
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    make_notebook(work / "resume.ipynb", RESUME)
    done = _execute(work / "resume.ipynb")
    errors = _errors(done.cells[4])
    assert len(errors) == 1 and errors[0].startswith("MilestoneError:") and weights in errors[0]
    assert "\n" not in errors[0] and "corrupt" in errors[0]
    shown = [o["traceback"] for o in done.cells[4].outputs if o.get("output_type") == "error"][0]
    assert len(shown) == 1 and "MilestoneError" in shown[0]  # one line in the notebook too, no traceback
    capsys.readouterr()
    assert cli("check", work / "training.ipynb", "--checkpoint", "epoch-2") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "corrupt" in err


def test_load_check_passes_on_the_recorded_code_and_catches_a_changed_model(work, capsys):
    nb = work / "training.ipynb"
    assert cli("check", nb, "--checkpoint", "epoch-4") == 0
    assert "bit-identical" in capsys.readouterr().out
    source = (work / "training_model.py").read_text()
    (work / "training_model.py").write_text(source.replace("return self.head(", "return 1.001 * self.head("))
    assert cli("check", nb, "--checkpoint", "epoch-4") == 1
    assert "drift" in capsys.readouterr().out


def test_checkpoints_lists_the_milestones_with_their_manifests(work, capsys):
    capsys.readouterr()
    assert cli("checkpoints", work / "training.ipynb", "--json") == 0
    listed = json.loads(capsys.readouterr().out)["milestones"]
    assert [m["name"] for m in listed] == ["epoch-1", "epoch-2", "epoch-3", "epoch-4"]
    manifest = listed[1]["manifest"]
    assert manifest["recorded"] is True and manifest["seeds"]["master"] == 7
    assert (
        manifest["seeds"]["cell"]
        == nbformat.read(work / "training.ipynb", 4).cells[4].metadata[METADATA_KEY]["seed"]
    )
    assert manifest["hyperparameters"]["LR"] == 0.01 and manifest["extra"] == {"epoch": 2}
    assert [i["path"] for i in manifest["data"]["inputs"]] == ["data.json"]
    assert manifest["data"]["inputs"][0]["digest"].startswith("sha256:")
    assert set(manifest["parts"]) == {"weights", "optimizer", "scheduler", "loader", "rng", "probe"}
    assert manifest["model"]["factory"] == "training_model:build" and manifest["exact_resume"] is True
    assert cli("checkpoints", work / "training.ipynb") == 0
    assert capsys.readouterr().out.count("epoch-") == 4
