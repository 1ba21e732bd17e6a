"""The type matrix: every common ML type, built in two fresh processes, fingerprints the same; a one-element
change fingerprints differently (value types) or is classified opaque; and each checkpoints in a safe format
whose restored value has the recorded fingerprint, or says why not.

The two processes run with different ``PYTHONHASHSEED`` values, so set and dict-from-set orders differ
between them as they do between two runs of a notebook.  Run as a script, this file builds the cases and
prints their fingerprints and checkpoint formats as JSON (that is what the test calls twice).
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"

# name -> expected class: "value" (a change gives another digest), "opaque", or "display" (not state)
EXPECTED = {
    "ndarray": "value",
    "ndarray_0d": "value",
    "ndarray_object": "value",
    "ndarray_structured": "value",
    "ndarray_view": "value",
    "ndarray_fortran": "value",
    "np_scalar": "value",
    "np_generator": "value",
    "tensor": "value",
    "tensor_requires_grad": "value",
    "tensor_noncontiguous": "value",
    "nn_module": "value",
    "optimizer": "value",
    "lr_scheduler": "value",
    "dataframe_csv": "value",
    "series": "value",
    "index": "value",
    "categorical": "value",
    "sk_unfitted": "value",
    "sk_fitted": "value",
    "sk_pipeline": "value",
    "sk_gridsearch": "value",
    "sk_randomsearch": "value",
    "sk_dictvectorizer": "value",
    "sk_dictvectorizer_sparse": "value",
    "sk_countvectorizer": "value",
    "sparse_csr": "value",
    "sparse_coo": "value",
    "sparse_lil": "value",
    "pil_image": "value",
    "mpl_figure": "display",
    "mpl_axes": "display",
    "mpl_axes_grid": "display",
    "mpl_axes_3d": "display",
    "nested": "value",
    "dataclass": "value",
    "datetime": "value",
    "date_and_delta": "value",
    "str_set": "value",
    "dict_from_set": "value",
    "foreign_object": "opaque",
}


@dataclasses.dataclass
class Config:
    """A notebook's own dataclass (top level, as in a notebook's ``__main__``)."""

    lr: float
    layers: list[int]
    weights: Any


def build(name: str, changed: bool) -> Any:  # noqa: C901 (one flat table of cases)
    """The case ``name``; ``changed`` alters exactly one element (or one parameter)."""
    import io

    k = 1 if changed else 0
    if name.startswith("ndarray") or name.startswith("np_"):
        import numpy as np

        if name == "ndarray":
            a = np.arange(12.0).reshape(3, 4)
            a[1, 2] += k
            return a
        if name == "ndarray_0d":
            return np.array(3.5 + k)
        if name == "ndarray_object":
            return np.array([1, "b" if changed else "a", (2, 3), None], dtype=object)
        if name == "ndarray_structured":
            return np.array([(1, 2.0), (3, 4.0 + k)], dtype=[("i", "i4"), ("f", "f8")])
        if name == "ndarray_view":
            a = np.arange(20.0).reshape(4, 5)
            a[3, 1] += k
            return a[:, 1]
        if name == "ndarray_fortran":
            a = np.asfortranarray(np.arange(12.0).reshape(3, 4))
            a[0, 3] += k
            return a
        if name == "np_scalar":
            return np.float32(0.5 + k)
        if name == "np_generator":
            rng = np.random.default_rng(0)
            rng.random(1 + k)
            return rng
    if name.startswith("tensor") or name in ("nn_module", "optimizer", "lr_scheduler"):
        import torch

        torch.manual_seed(0)
        if name == "tensor":
            t = torch.arange(6.0).reshape(2, 3)
            t[1, 1] += k
            return t
        if name == "tensor_requires_grad":
            return torch.tensor([1.0, 2.0 + k, 3.0], requires_grad=True)
        if name == "tensor_noncontiguous":
            t = torch.arange(12.0).reshape(3, 4)
            t[2, 0] += k
            return t.t()
        model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
        if name == "nn_module":
            with torch.no_grad():
                model[0].weight[1, 1] += k
            return model
        opt = torch.optim.Adam(model.parameters(), lr=0.01 * (1 + k))
        model(torch.ones(5, 4)).sum().backward()
        opt.step()
        if name == "optimizer":
            return opt
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        for _ in range(1 + k):
            sched.step()
        return sched
    if name in ("dataframe_csv", "series", "index", "categorical"):
        import pandas as pd

        csv = "city,temp,when\nOslo,1.5,2024-01-01\nLima,22.0,2024-01-02\nPune,30.25,2024-01-03\n"
        if changed:
            csv = csv.replace("22.0", "22.5")
        frame = pd.read_csv(io.StringIO(csv), parse_dates=["when"])
        if name == "dataframe_csv":
            return frame
        if name == "series":
            return frame["temp"]
        if name == "index":
            return pd.Index(["a", "b", "x" if changed else "c"], name="letters")
        return pd.Categorical(["lo", "hi", "hi" if changed else "lo"], categories=["lo", "hi"], ordered=True)
    if name.startswith("sk_"):
        from sklearn.datasets import make_classification
        from sklearn.linear_model import LogisticRegression

        X, y = make_classification(n_samples=60, n_features=5, random_state=0)
        X[3, 2] += k
        if name == "sk_unfitted":
            return LogisticRegression(C=0.5 if changed else 1.0)
        if name == "sk_fitted":
            return LogisticRegression().fit(X, y)
        if name == "sk_pipeline":
            from sklearn.pipeline import make_pipeline
            from sklearn.preprocessing import StandardScaler

            return make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
        if name == "sk_gridsearch":
            from sklearn.model_selection import GridSearchCV

            return GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=3).fit(X, y)
        if name == "sk_randomsearch":
            from sklearn.model_selection import RandomizedSearchCV

            grid = {"C": [0.01, 0.1, 1.0, 10.0]}
            return RandomizedSearchCV(LogisticRegression(), grid, n_iter=2, cv=3, random_state=0).fit(X, y)
        if name.startswith("sk_dictvectorizer"):  # as in the Data Science Handbook's 05.04
            from sklearn.feature_extraction import DictVectorizer

            rows = [{"price": 850000, "rooms": 4, "neighborhood": "Queen Anne"}]
            rows += [{"price": 700000, "rooms": 3, "neighborhood": "Fremont" if not changed else "Ballard"}]
            rows += [{"price": 650000, "rooms": 3, "neighborhood": "Wallingford"}]
            vec = DictVectorizer(sparse=name.endswith("sparse"), dtype=int)
            vec.fit_transform(rows)
            vec.get_feature_names_out()
            return vec
        if name == "sk_countvectorizer":  # holds ``_stop_words_id = id(stop_words)``
            from sklearn.feature_extraction.text import CountVectorizer

            vec = CountVectorizer()
            last = "horizon quest" if changed else "horizon problem"
            vec.fit_transform(["problem of evil", "evil queen", last])
            return vec
    if name.startswith("sparse_"):
        from scipy import sparse

        m = sparse.random(6, 5, density=0.4, random_state=0, format="csr")
        m.data[2] += k
        return {"sparse_csr": m, "sparse_coo": m.tocoo(), "sparse_lil": m.tolil()}[name]
    if name == "pil_image":
        from PIL import Image

        img = Image.new("RGB", (4, 3), (10, 20, 30))
        img.putpixel((2, 1), (10, 20, 31 if changed else 30))
        return img
    if name.startswith("mpl_"):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        if name == "mpl_axes_grid":
            return plt.subplots(2, 2)[1]
        if name == "mpl_axes_3d":
            return plt.figure().add_subplot(projection="3d")
        fig, ax = plt.subplots()
        ax.plot([1, 2, 3 + k])
        return fig if name == "mpl_figure" else ax
    if name == "nested":
        import numpy as np
        import torch

        arr = np.ones(3)
        arr[1] += k
        return {"arr": arr, "rows": [1, (2, 3), {"t": torch.zeros(2)}], 7: ("x", None)}
    if name == "dataclass":
        import numpy as np

        return Config(0.1, [64, 32 + k], np.zeros(2))
    import datetime

    if name == "datetime":
        return datetime.datetime(2024, 1, 28 if not changed else 12, 9, 30, tzinfo=datetime.timezone.utc)
    if name == "date_and_delta":
        return [datetime.date(2024, 1, 28), datetime.timedelta(seconds=90 + k)]
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
    if changed:
        words[3] = "iota"
    if name == "str_set":
        return set(words)
    if name == "dict_from_set":
        return dict.fromkeys(set(words), 0)
    if name == "foreign_object":
        import argparse

        return argparse.Namespace(lr=0.1 * (1 + k), name="run")
    raise KeyError(name)


def _checkpoint(name: str, value: Any, fp: dict[str, Any]) -> dict[str, Any]:
    """The format ``encode`` picks, and whether decoding it gives back the same fingerprint.

    An optimizer checkpoint is its ``state_dict``: restore loads it into a live optimizer, as here.
    """
    from repro_jupyter.checkpoint import Skipped, decode, encode
    from repro_jupyter.fingerprint import fingerprint

    if not fp.get("digest"):
        return {"skipped": fp.get("skipped", "no fingerprint")}
    encoded = encode(value)
    if isinstance(encoded, Skipped):
        return {"skipped": encoded.reason}
    data = b"".join(bytes(c) for c in encoded.chunks())
    back = decode(encoded.format, encoded.meta, data)
    if encoded.format == "torch-optimizer":
        live = build(name, False)
        live.load_state_dict(back)
        back = live
    return {"format": encoded.format, "roundtrip": fingerprint(back).get("digest") == fp["digest"]}


def main() -> None:
    from repro_jupyter.fingerprint import fingerprint

    out = {}
    for name in EXPECTED:
        base, changed = build(name, False), build(name, True)
        fp0, fp1 = fingerprint(base), fingerprint(changed)
        out[name] = {"base": fp0, "changed": fp1, "checkpoint": _checkpoint(name, base, fp0)}
    json.dump(out, sys.stdout)


def _matrix(hash_seed: str, key_dir: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "MPLBACKEND": "Agg"}
    env["REPRO_JUPYTER_SIGNING_KEY"] = str(key_dir / "signing_key")
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.Popen(
        [str(PYTHON), str(Path(__file__).resolve())],
        env=env,
        cwd=key_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _results(proc: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out)


def _matrices(tmp_path_factory: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    key_dir = tmp_path_factory.mktemp("matrix")
    first, second = _matrix("1", key_dir), _matrix("2", key_dir)  # two fresh processes, in parallel
    return _results(first), _results(second)


if __name__ == "__main__":
    main()
else:
    import pytest

    from repro_jupyter.checkpoint import FORMATS, signing

    for module in ("torch", "sklearn", "scipy", "PIL", "matplotlib", "pandas"):
        pytest.importorskip(module)
    assert signing.KEY_ENV == "REPRO_JUPYTER_SIGNING_KEY"

    @pytest.fixture(scope="module")
    def matrices(tmp_path_factory):
        return _matrices(tmp_path_factory)

    @pytest.mark.parametrize("name", list(EXPECTED))
    def test_same_value_in_two_fresh_processes_fingerprints_the_same(matrices, name):
        a, b = matrices
        for variant in ("base", "changed"):
            assert a[name][variant] == b[name][variant], (name, variant)

    @pytest.mark.parametrize("name", list(EXPECTED))
    def test_a_one_element_change_is_seen_or_called_opaque(matrices, name):
        entry = matrices[0][name]
        base, changed = entry["base"], entry["changed"]
        expected = EXPECTED[name]
        if expected == "display":
            assert base.get("skipped", "").startswith("display object"), base
            assert "digest" not in base
            return
        assert base.get("digest") and changed.get("digest"), entry
        assert base["digest"] != changed["digest"], name
        assert bool(base.get("opaque")) == (expected == "opaque"), base
        assert bool(changed.get("opaque")) == (expected == "opaque"), changed

    @pytest.mark.parametrize("name", list(EXPECTED))
    def test_each_checkpoints_in_a_safe_format_or_says_why_not(matrices, name):
        checkpoint = matrices[0][name]["checkpoint"]
        if EXPECTED[name] == "display":
            assert checkpoint["skipped"].startswith("display object"), checkpoint
            return
        assert checkpoint.get("format") in FORMATS, checkpoint
        assert checkpoint["roundtrip"], f"{name}: the restored value does not match its fingerprint"

    # -- in-process edge cases of the walker ------------------------------------------------------------

    def test_values_that_used_to_collide_are_told_apart():
        """Canonical JSON said the same for a list and a tuple, NaN and "nan", 1 and "1" as dict keys."""
        from repro_jupyter.fingerprint import fingerprint

        pairs = [
            ([1, 2], (1, 2)),
            ([float("nan")] * 20, ["nan"] * 20),
            ({1: "a"}, {"1": "a"}),
            ({i: 0.5 for i in range(20)}, {str(i): 0.5 for i in range(20)}),
            ([1] * 20, [1.0] * 20),
            ([True], [1]),
            (["a\0b"], ["a", "b"]),
        ]
        for a, b in pairs:
            assert fingerprint(a)["digest"] != fingerprint(b)["digest"], (a, b)

    def test_order_free_where_equality_is_and_ordered_where_it_is_not():
        import collections

        from repro_jupyter.fingerprint import fingerprint

        forward = {f"k{i}": (i, [i]) for i in range(30)}
        backward = dict(reversed(list(forward.items())))
        assert fingerprint(forward)["digest"] == fingerprint(backward)["digest"]
        od = collections.OrderedDict(forward)
        assert fingerprint(od)["digest"] != fingerprint(collections.OrderedDict(backward))["digest"]

    def test_cycles_huge_ints_and_shared_members_are_fingerprinted():
        from repro_jupyter.fingerprint import fingerprint

        loop: list = [1]
        loop.append(loop)
        assert fingerprint(loop)["digest"] and not fingerprint(loop).get("opaque")
        assert fingerprint(2**20000)["digest"] != fingerprint(2**20000 + 1)["digest"]
        shared = [0.5] * 3
        assert fingerprint([shared, shared])["digest"] == fingerprint([[0.5] * 3, [0.5] * 3])["digest"]

    def test_opacity_propagates_and_display_members_are_left_out():
        import argparse

        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from repro_jupyter.fingerprint import fingerprint

        holder = {"ns": argparse.Namespace(a=1), "x": 1}
        assert fingerprint(holder).get("opaque") is True
        fig, ax = plt.subplots()
        with_fig = fingerprint({"ax": ax, "loss": 0.5})
        assert with_fig["digest"] and not with_fig.get("opaque")
        assert with_fig["digest"] != fingerprint({"ax": ax, "loss": 0.25})["digest"]
        assert fingerprint([fig, ax])["skipped"].startswith("display object")
        plt.close(fig)

    def test_unpicklable_values_are_skipped_with_the_reason():
        import threading

        from repro_jupyter.fingerprint import fingerprint

        fp = fingerprint(threading.Lock())
        assert "digest" not in fp and "cannot pickle" in fp["skipped"]
