"""The Kishu comparison (``bench/kishu_compare.py``) says why in one line when Kishu cannot run, and
never counts a restore as verified unless the restored state is epoch k's (no kernel, no Kishu needed:
the full scenario runs in ``python -m bench --only kishu_compare``)."""

from __future__ import annotations

from bench import kishu_compare


def test_missing_kishu_python_is_one_line_and_nothing_is_installed(tmp_path, monkeypatch):
    missing = tmp_path / "no-venv" / "bin" / "python"
    monkeypatch.setenv("KISHU_PYTHON", str(missing))  # explicit: the bench must not make a venv there
    python, why = kishu_compare.kishu_python()
    assert python is None
    assert why is not None and why.startswith("kishu not run:") and "\n" not in why
    assert not (tmp_path / "no-venv").exists()


def test_restore_counts_as_verified_only_when_it_is_epoch_k():
    epoch2 = (2, "a021c9d9bf6b1504", "0x1.2p+1")
    run = {"digests": {1: (1, "d3a9d84bb5934665", "0x1.4p+1"), 2: epoch2}}
    assert kishu_compare._verified({**run, "restored": epoch2}, 2)
    # the model restored but the losses list is a later one: not the state after epoch 2
    assert not kishu_compare._verified({**run, "restored": (3, epoch2[1], epoch2[2])}, 2)
    # losses restored, the model left at a later epoch ("model: not checkpointed")
    assert not kishu_compare._verified({**run, "restored": (2, "6afa6475feba65b4", epoch2[2])}, 2)
    assert not kishu_compare._verified({**run, "restored": None}, 2)
    assert kishu_compare._weights_of("check 2 a021c9d9bf6b1504 0x1.2p+1") == epoch2
    assert kishu_compare._weights_of("2 a021c9d9bf6b1504 0x1.2p+1") == epoch2
    assert kishu_compare._weights_of("UserWarning: something") is None
