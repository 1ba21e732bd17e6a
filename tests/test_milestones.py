"""Milestone checkpoints in-process: every refusal is one line and changes nothing, resume is exact, the
parts are safe formats, and the CLI says what it cannot do (kernels are in test_milestones_training.py)."""

from __future__ import annotations

import copy
import random
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import repro_jupyter  # noqa: E402
from repro_jupyter.milestones import MilestoneError  # noqa: E402
from repro_jupyter.store import open_store  # noqa: E402

from .conftest import cli, make_notebook  # noqa: E402

DATA = Path(__file__).parent / "data"


@pytest.fixture
def tm(tmp_path, monkeypatch):
    """The training module, importable, in a folder with notebook a.ipynb (the kernel's notebook)."""
    shutil.copy(DATA / "training_model.py", tmp_path / "training_model.py")
    make_notebook(tmp_path / "a.ipynb", ["x = 1"])
    make_notebook(tmp_path / "b.ipynb", ["x = 1"])
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("JPY_SESSION_NAME", str(tmp_path / "a.ipynb"))
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("training_model", None)
    import training_model

    yield training_model
    sys.modules.pop("training_model", None)


def _setup(tm, workers: int = 0, channels: int = 4, generator: bool = True):
    torch.manual_seed(3)
    ds = tm.SyntheticImages(n=32)
    gen = torch.Generator().manual_seed(5) if generator else None
    loader = torch.utils.data.DataLoader(ds, batch_size=8, shuffle=True, num_workers=workers, generator=gen)
    model = tm.build(channels)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    scaler = torch.amp.GradScaler("cpu", init_scale=1024.0)
    return ds, loader, model, opt, sched, scaler


def _state(model, opt, sched, loader) -> dict:
    return {
        "weights": {k: v.clone() for k, v in model.state_dict().items()},
        "opt": copy.deepcopy(opt.state_dict()),
        "sched": copy.deepcopy(sched.state_dict()),
        "gen": loader.generator.get_state().clone(),
        "torch": torch.get_rng_state(),
        "python": random.getstate(),
        "numpy": np.random.get_state()[1].copy(),
    }


def _same(a: dict, b: dict) -> bool:
    def eq(x, y):
        if isinstance(x, torch.Tensor):
            return torch.equal(x, y)
        if isinstance(x, np.ndarray):
            return np.array_equal(x, y)
        if isinstance(x, dict):
            return x.keys() == y.keys() and all(eq(x[k], y[k]) for k in x)
        if isinstance(x, (list, tuple)):
            return len(x) == len(y) and all(eq(i, j) for i, j in zip(x, y, strict=True))
        return x == y

    return all(eq(a[k], b[k]) for k in a)


@pytest.fixture
def saved(tm):
    ds, loader, model, opt, sched, scaler = _setup(tm)
    tm.train_epoch(model, loader, opt, sched)
    digest = repro_jupyter.checkpoint(
        "e1", model=model, optimizer=opt, scheduler=sched, scaler=scaler, loader=loader, probe=ds.images[:4]
    )
    return digest


def _refused(tm, name="e1", channels=4, optimizer=None, **kw) -> str:
    _, loader, model, opt, sched, _ = _setup(tm, channels=channels)
    opt = optimizer(model) if optimizer else opt
    random.random(), np.random.rand(), torch.rand(1)  # RNGs somewhere else than at the milestone
    before = _state(model, opt, sched, loader)
    with pytest.raises(MilestoneError) as info:
        repro_jupyter.restore_checkpoint(
            name, model=model, optimizer=opt, scheduler=sched, loader=loader, **kw
        )
    assert _same(before, _state(model, opt, sched, loader)), "a refused restore changed something"
    message = str(info.value)
    assert "\n" not in message and message
    return message


def test_import_is_light_and_checkpoint_stays_the_function():
    code = (
        "import sys, repro_jupyter; assert 'torch' not in sys.modules; "
        "from repro_jupyter.checkpoint import formats; import repro_jupyter.magics; "
        "assert callable(repro_jupyter.checkpoint) and callable(repro_jupyter.restore_checkpoint); "
        "from repro_jupyter import checkpoint; assert callable(checkpoint)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_name_is_one_line_naming_what_exists(tm, saved):
    assert "no milestone named 'nope'" in _refused(tm, "nope") and "e1" in _refused(tm, "nope")


@pytest.mark.parametrize("role", ["rng", "optimizer", "manifest"])
def test_a_flipped_byte_is_refused_before_anything_loads(tm, saved, role):
    store = open_store(Path.cwd(), create=False)
    target = saved if role == "manifest" else store.objects.get_json(saved)["parts"][role]["object"]
    path = store.objects.path_for(target)
    store.close()
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x20
    path.write_bytes(bytes(data))
    message = _refused(tm)
    assert target in message and "corrupt" in message


def test_a_foreign_name_is_refused_naming_its_notebook(tm, saved, monkeypatch, tmp_path):
    monkeypatch.setenv("JPY_SESSION_NAME", str(tmp_path / "b.ipynb"))
    message = _refused(tm)
    assert "belongs to a.ipynb, not b.ipynb" in message
    _, loader, model, opt, sched, _ = _setup(tm)  # taken on purpose, by name
    repro_jupyter.restore_checkpoint("e1", model=model, optimizer=opt, notebook="a.ipynb")


def test_a_model_of_another_shape_is_refused(tm, saved):
    assert "does not match its weights" in _refused(tm, channels=5)


def test_an_optimizer_of_another_type_is_refused(tm, saved):
    message = _refused(tm, optimizer=lambda m: torch.optim.SGD(m.parameters(), lr=0.1))
    assert "torch.optim.adam.Adam, not a torch.optim.sgd.SGD" in message


def test_an_optimizer_over_other_parameter_groups_is_refused(tm, saved):
    def split(m):
        return torch.optim.Adam([{"params": m.conv.parameters()}, {"params": m.head.parameters()}])

    assert "parameter groups" in _refused(tm, optimizer=split)


def test_bad_names_are_one_line(tm):
    for bad in ("", "a\nb", "x" * 500, 3):
        with pytest.raises(MilestoneError):
            repro_jupyter.checkpoint(bad, model=torch.nn.Linear(1, 1))


@pytest.mark.parametrize("workers", [0, 2])
def test_resume_is_bit_identical_with_scaler_and_loader_generator(tm, workers):
    ds, loader, model, opt, sched, scaler = _setup(tm, workers=workers)
    scaler.scale(torch.ones(()))  # GradScaler makes its scale tensor on first use
    losses = []
    for epoch in range(4):
        losses.append(tm.train_epoch(model, loader, opt, sched))
        repro_jupyter.checkpoint(f"ep{epoch}", model=model, optimizer=opt, scheduler=sched, scaler=scaler,
                                 loader=loader)  # fmt: skip
        scaler.update(scaler.get_scale() * 0.5)  # state that must come back too
    final = {k: v.clone() for k, v in model.state_dict().items()}

    torch.manual_seed(99)  # a fresh start somewhere else entirely
    _, loader2, model2, opt2, sched2, scaler2 = _setup(tm, workers=workers)
    torch.rand(7)
    repro_jupyter.restore_checkpoint("ep1", model=model2, optimizer=opt2, scheduler=sched2, scaler=scaler2,
                                     loader=loader2)  # fmt: skip
    assert scaler2.get_scale() == 1024.0 * 0.5
    resumed = [tm.train_epoch(model2, loader2, opt2, sched2) for _ in range(2)]
    assert resumed == losses[2:]
    assert all(torch.equal(final[k], v) for k, v in model2.state_dict().items())


def test_parts_are_safe_formats_content_addressed_and_readable_by_safetensors(tm):
    from safetensors.torch import load

    ds, loader, model, opt, sched, scaler = _setup(tm)
    args = dict(
        model=model, optimizer=opt, scheduler=sched, scaler=scaler, loader=loader, probe=ds.images[:2]
    )
    first = repro_jupyter.checkpoint("same", **args)
    objects = sorted(p.name for p in Path(".repro/objects").rglob("*") if p.is_file())
    assert repro_jupyter.checkpoint("same", **args) == first  # same state, same manifest, no new object
    assert sorted(p.name for p in Path(".repro/objects").rglob("*") if p.is_file()) == objects
    store = open_store(Path.cwd(), create=False)
    manifest = store.objects.get_json(first)
    assert {p["format"] for p in manifest["parts"].values()} <= {"safetensors", "tree"}
    weights = load(store.objects.get_bytes(manifest["parts"]["weights"]["object"]))
    assert all(torch.equal(weights[k], v) for k, v in model.state_dict().items())
    assert len(store.catalog.milestones(notebook="a.ipynb", name="same")) == 2
    store.close()
    assert manifest["recorded"] is False  # plain Python: no run links are invented


def test_persistent_workers_are_said_to_resume_inexactly(tm):
    ds = tm.SyntheticImages(n=16)
    loader = torch.utils.data.DataLoader(ds, batch_size=8, num_workers=2, persistent_workers=True)
    for _ in loader:
        pass
    model = tm.build()
    repro_jupyter.checkpoint("p", model=model, loader=loader)
    with pytest.warns(UserWarning, match="persistent_workers"):
        repro_jupyter.restore_checkpoint("p", model=model, loader=loader)


def test_cli_bad_input_is_one_line_exit_2(tm, saved, tmp_path, capsys):
    assert cli("checkpoints", tmp_path / "missing.ipynb") == 2
    empty = make_notebook(tmp_path / "elsewhere" / "c.ipynb", ["x = 1"])
    assert cli("checkpoints", empty) == 2
    assert cli("check", tmp_path / "a.ipynb", "--checkpoint", "nope") == 2
    assert cli("check", tmp_path / "a.ipynb", "--checkpoint", "e1", "--rtol", "-1") == 2
    assert cli("check", tmp_path / "a.ipynb", "--checkpoint", "e1", "--cell", "x") == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line]
    assert len(errors) == 5, errors
    assert cli("checkpoints", tmp_path / "a.ipynb") == 0


def test_load_check_says_a_notebook_class_cannot_be_rebuilt(tm, tmp_path, capsys):
    Net = type("Net", (torch.nn.Linear,), {"__module__": "__main__"})
    model = Net(3, 2)
    repro_jupyter.checkpoint("nb-class", model=model, probe=torch.ones(1, 3))
    repro_jupyter.checkpoint("no-probe", model=tm.build(), factory="training_model:build")
    capsys.readouterr()
    assert cli("check", tmp_path / "a.ipynb", "--checkpoint", "nb-class") == 2
    err = capsys.readouterr().err
    assert "defined in the notebook (__main__)" in err and len(err.strip().splitlines()) == 1
    assert cli("check", tmp_path / "a.ipynb", "--checkpoint", "no-probe") == 2
    assert "has no probe" in capsys.readouterr().err


def test_load_check_passes_in_a_fresh_process(tm, tmp_path, capsys):
    ds, loader, model, opt, sched, _ = _setup(tm)
    repro_jupyter.checkpoint("ok", model=model, probe=ds.images[:4], factory="training_model:build")
    assert cli("check", tmp_path / "a.ipynb", "--checkpoint", "ok") == 0
    assert "same" in capsys.readouterr().out


def test_objects_of_the_wrong_kind_are_refused_in_one_line(tm, saved):
    for bad in ({"model": 3}, {"optimizer": "adam"}, {"loader": []}):
        with pytest.raises(MilestoneError) as info:
            repro_jupyter.restore_checkpoint("e1", **bad)
        assert "\n" not in str(info.value)


def test_gc_keeps_every_milestone_object(tm, saved):
    from repro_jupyter.store.maintenance import fsck, gc

    store = open_store(Path.cwd(), create=False)
    report = gc(store, grace_seconds=0)
    assert fsck(store).clean
    store.close()
    assert not report.removed
    _, loader, model, opt, sched, scaler = _setup(tm)
    repro_jupyter.restore_checkpoint("e1", model=model, optimizer=opt, scheduler=sched, scaler=scaler)


def test_a_lost_catalog_gives_the_milestones_back(tm, saved, capsys):
    """The catalog is deleted: `fsck --rebuild-catalog` adds the milestone row again from its manifest
    (named by the manifest; attributed to the notebook whose cell saved it, else, as here where no
    recorded cell saved it, to no notebook, and usable by name), and restore works as before (before:
    the manifest was an anonymous kept object and the catalog counted as lost)."""
    from repro_jupyter.store.maintenance import gc

    store = open_store(Path.cwd(), create=False)
    manifest = store.catalog.milestones()[-1]["manifest"]
    store.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f".repro/catalog.sqlite{suffix}").unlink(missing_ok=True)
    assert cli("fsck", Path.cwd(), "--rebuild-catalog") == 0
    assert "1 milestone(s)" in capsys.readouterr().out
    store = open_store(Path.cwd(), create=False)
    rows = store.catalog.milestones()
    assert [(r["name"], r["manifest"], r["notebook"]) for r in rows] == [("e1", manifest, None)]
    assert not gc(store, grace_seconds=0).removed  # every part stays reachable from the manifest
    store.close()
    _, loader, model, opt, sched, scaler = _setup(tm)
    repro_jupyter.restore_checkpoint("e1", model=model, optimizer=opt, scheduler=sched, scaler=scaler)
