"""Checkpoint formats: round-trips per type, refusal of foreign pickles, skips, size limits (what each
format costs is measured by ``bench/checkpoint_io.py``, ``formats_io``).

Real files under tmp_path; the signing key always lives in tmp_path (never the real home)."""

from __future__ import annotations

import json
import math
import os
import pickle
import shlex
import socket
import stat
import struct
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from repro_jupyter.checkpoint import (
    BadSignature,
    CheckpointError,
    Encoded,
    Skipped,
    UnsignedObject,
    decode,
    encode,
    formats_data,
    loads_signed,
    signing,
)
from repro_jupyter.checkpoint.formats_base import DEFAULT_CHUNK
from repro_jupyter.errors import StoreError

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def signing_key(tmp_path, monkeypatch):
    path = tmp_path / "keys" / "signing_key"
    monkeypatch.setenv(signing.KEY_ENV, str(path))
    return path


def write(encoded: Encoded, path: Path) -> Path:
    assert isinstance(encoded, Encoded), encoded
    size = encoded.write_to(path)
    assert size == encoded.nbytes == path.stat().st_size
    return path


def roundtrip(
    value, tmp_path: Path, *, expect: str | None = None, lazy: bool = False, via_bytes: bool = False
):
    encoded = encode(value)
    assert isinstance(encoded, Encoded), encoded
    if expect is not None:
        assert encoded.format == expect
    path = write(encoded, tmp_path / f"obj.{encoded.format}")
    data = path.read_bytes() if via_bytes else path
    return decode(encoded.format, encoded.meta, data, lazy=lazy)


def same(a, b) -> bool:
    """Equal with exact types, NaN equal to NaN, dict order included."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return a == b


# -- numpy -------------------------------------------------------------------------------------------------

ARRAYS = {
    "float64": np.random.default_rng(0).standard_normal((3, 4)),
    "int32": np.arange(12, dtype=np.int32).reshape(3, 4),
    "bool": np.array([True, False, True]),
    "zero-d": np.array(3.5),
    "non-contiguous": np.arange(40.0).reshape(5, 8)[::2, 1::3],
    "fortran": np.asfortranarray(np.arange(12.0).reshape(3, 4)),
    "empty": np.zeros((0, 3), dtype=np.float32),
    "nan-inf": np.array([np.nan, np.inf, -np.inf, -0.0]),
    "big-endian": np.arange(5, dtype=">i8"),
    "structured": np.array([(1, 2.5), (3, -1.0)], dtype=[("a", "<i4"), ("b", ">f8")]),
    "datetime": np.array(["2020-01-01", "NaT"], dtype="datetime64[ns]"),
    "unicode": np.array(["a", "bcd"]),
    "float16": np.array([1.5, -2.0], dtype=np.float16),
    "complex": np.array([1 + 2j, -3j]),
}


@pytest.mark.parametrize("name", list(ARRAYS))
def test_numpy_round_trip(name, tmp_path):
    array = ARRAYS[name]
    restored = roundtrip(array, tmp_path, expect="npy")
    assert type(restored) is np.ndarray
    assert restored.dtype == array.dtype and restored.shape == array.shape
    assert restored.tobytes() == array.tobytes()  # bit-exact: NaN, NaT, -0.0, byte order
    assert restored.flags.writeable
    if name == "fortran":
        assert restored.flags.f_contiguous  # layout kept, not transposed


@pytest.mark.parametrize(
    "scalar", [np.float32(1.25), np.int64(-7), np.bool_(True), np.datetime64("2021-03-04")]
)
def test_numpy_scalar_round_trip(scalar, tmp_path):
    restored = roundtrip(scalar, tmp_path, expect="npy", via_bytes=True)
    assert type(restored) is type(scalar) and restored == scalar


def test_lazy_npy_is_a_read_only_memmap(tmp_path):
    array = np.arange(1_000_000, dtype=np.float32)
    restored = roundtrip(array, tmp_path, lazy=True)
    assert isinstance(restored, np.memmap)
    assert not restored.flags.writeable
    assert np.array_equal(restored, array)
    with pytest.raises(ValueError):
        restored[0] = 1
    from_bytes = roundtrip(array, tmp_path, lazy=True, via_bytes=True)
    assert not from_bytes.flags.writeable and np.array_equal(from_bytes, array)


def test_snapshot_is_stable_after_encode(tmp_path):
    array = np.zeros(1000)
    encoded = encode(array)
    array[:] = 7  # the user keeps working while the writer thread streams
    restored = decode(encoded.format, encoded.meta, write(encoded, tmp_path / "a.npy"))
    assert not restored.any()


def test_chunks_are_bounded_views(tmp_path):
    array = np.ones(40 << 20, dtype=np.uint8)
    encoded = encode(array)
    sizes = [memoryview(c).nbytes for c in encoded.chunks()]
    assert max(sizes) <= DEFAULT_CHUNK and sum(sizes) == encoded.nbytes
    assert b"".join(encoded.chunks()) == b"".join(encoded.chunks())  # re-iterable


def test_object_and_subclass_arrays_use_the_signed_pickle(tmp_path):
    objects = np.array([{"a": 1}, None], dtype=object)
    restored = roundtrip(objects, tmp_path, expect="pickle-hmac")
    assert restored[0] == {"a": 1} and restored[1] is None
    masked = np.ma.masked_array([1.0, 2.0, 3.0], mask=[False, True, False])
    restored = roundtrip(masked, tmp_path, expect="pickle-hmac")
    assert isinstance(restored, np.ma.MaskedArray) and list(restored.mask) == [False, True, False]


def test_npy_record_mismatch_and_garbage_are_refused(tmp_path):
    encoded = encode(np.arange(4))
    path = write(encoded, tmp_path / "a.npy")
    with pytest.raises(CheckpointError, match="shape"):
        decode("npy", {**encoded.meta, "shape": [5]}, path)
    (tmp_path / "bad.npy").write_bytes(pickle.dumps([1, 2]))
    with pytest.raises(CheckpointError, match="malformed npy"):
        decode("npy", {}, tmp_path / "bad.npy")
    with pytest.raises(CheckpointError, match="unknown checkpoint format"):
        decode("nope", {}, path)


# -- torch -------------------------------------------------------------------------------------------------


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "int64", "bool", "float16", "complex64"])
def test_tensor_round_trip(dtype, torch, tmp_path):
    gen = torch.Generator().manual_seed(0)
    tensor = (torch.randn(4, 5, generator=gen, dtype=torch.float32) * 100).to(getattr(torch, dtype))
    if dtype == "complex64":
        tensor = torch.complex(torch.randn(3), torch.randn(3)).conj()  # conjugate bit must be resolved
    restored = roundtrip(tensor, tmp_path, expect="safetensors")
    assert restored.dtype == tensor.dtype and restored.device.type == "cpu"
    assert torch.equal(restored, tensor.resolve_conj())


def test_tensor_shapes_grad_and_parameter(torch, tmp_path):
    base = torch.arange(24.0).reshape(4, 6)
    for tensor in (base.t(), base[::2, 1:], torch.tensor(3.0), torch.empty(0, 5)):
        restored = roundtrip(tensor, tmp_path)
        assert restored.shape == tensor.shape and torch.equal(restored, tensor)
    grad = roundtrip(torch.ones(3, requires_grad=True), tmp_path)
    assert grad.requires_grad and grad.is_leaf
    param = roundtrip(torch.nn.Parameter(torch.ones(2), requires_grad=False), tmp_path)
    assert type(param) is torch.nn.Parameter and not param.requires_grad


def test_lazy_tensor_is_copy_on_write(torch, tmp_path):
    tensor = torch.arange(10_000, dtype=torch.bfloat16)
    encoded = encode(tensor)
    path = write(encoded, tmp_path / "t.safetensors")
    before = path.read_bytes()
    lazy = decode(encoded.format, encoded.meta, path, lazy=True)
    assert torch.equal(lazy, tensor)
    lazy.add_(1)  # private pages: the store object is never written
    assert path.read_bytes() == before
    assert torch.equal(decode(encoded.format, encoded.meta, path), tensor)


def test_safetensors_files_are_standard(torch, tmp_path):
    st = pytest.importorskip("safetensors.torch")
    tensor = torch.randn(3, 4).to(torch.bfloat16)
    encoded = encode(tensor)
    theirs = st.load(b"".join(bytes(c) for c in encoded.chunks()))
    assert torch.equal(theirs["tensor"], tensor)
    data = st.save({"tensor": tensor})
    assert torch.equal(decode("safetensors", {}, data), tensor)
    model = torch.nn.Linear(2, 2)
    opt = torch.optim.SGD(model.parameters(), momentum=0.9)
    model(torch.ones(1, 2)).sum().backward()
    opt.step()
    path = write(encode(opt), tmp_path / "opt.safetensors")
    with __import__("safetensors").safe_open(str(path), framework="pt") as fh:
        assert "repro_jupyter.state" in fh.metadata() and len(fh.keys()) == 2  # two momentum buffers


try:
    import torch as _torch
except ImportError:  # the torch tests skip; the class below needs a module-level base to be picklable
    _torch = None


class Tied(_torch.nn.Module if _torch is not None else object):  # type: ignore[misc]
    def __init__(self):
        import torch

        super().__init__()
        self.a = torch.nn.Linear(3, 3)
        self.b = torch.nn.Linear(3, 3)
        self.b.weight = self.a.weight
        self.register_buffer("offset", torch.full((3,), 0.5), persistent=False)

    def forward(self, x):
        return self.b(self.a(x)) + self.offset


def test_module_round_trip(torch, tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.BatchNorm1d(8), torch.nn.Linear(8, 2)
    )
    model(torch.randn(16, 4))  # update BatchNorm running stats (buffers)
    model.eval()
    restored = roundtrip(model, tmp_path, expect="torch-module")
    x = torch.randn(5, 4)
    assert not restored.training
    assert torch.equal(restored(x), model(x))
    assert all(p.requires_grad for p in restored.parameters())


def test_module_keeps_ties_and_non_persistent_buffers(torch, tmp_path):
    model = Tied()
    encoded = encode(model)
    assert encoded.format == "torch-module" and encoded.meta["devices"] == ["cpu"]
    restored = decode(encoded.format, encoded.meta, write(encoded, tmp_path / "m"))
    assert restored.a.weight is restored.b.weight
    assert torch.equal(restored.offset, model.offset)
    x = torch.randn(2, 3)
    assert torch.equal(restored(x), model(x))


def test_optimizer_state_dict_round_trip(torch, tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    model(torch.randn(4, 3)).sum().backward()
    opt.step()
    state = roundtrip(opt, tmp_path, expect="torch-optimizer")
    original = opt.state_dict()
    assert state["param_groups"] == original["param_groups"]  # tuples (betas), None, bools intact
    assert list(state["state"]) == list(original["state"])  # int keys
    for key, slots in original["state"].items():
        for name, value in slots.items():
            assert torch.equal(state["state"][key][name], value)
    # the caller loads it into a live optimizer over the restored parameters: training continues identically
    twin = torch.nn.Linear(3, 2)
    twin.load_state_dict(model.state_dict())
    twin_opt = torch.optim.Adam(twin.parameters(), lr=0.01)
    twin_opt.load_state_dict(state)
    x = torch.randn(4, 3)
    for m, o in ((model, opt), (twin, twin_opt)):
        o.zero_grad()
        m(x).sum().backward()
        o.step()
    assert torch.equal(model.weight, twin.weight)


@pytest.mark.skipif("not __import__('torch').cuda.is_available()")
def test_cuda_tensor_restores_on_cpu(torch, tmp_path):
    tensor = torch.randn(8, device="cuda").to(torch.bfloat16)
    encoded = encode(tensor)
    assert encoded.meta["device"].startswith("cuda")
    restored = decode(encoded.format, encoded.meta, write(encoded, tmp_path / "t"))
    assert restored.device.type == "cpu" and torch.equal(restored, tensor.cpu())


def test_decoding_torch_formats_without_torch_is_a_clear_error(torch, tmp_path, monkeypatch):
    encoded = encode(torch.ones(2))
    path = write(encoded, tmp_path / "t")
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now raises ImportError
    with pytest.raises(CheckpointError, match="needs torch"):
        decode(encoded.format, encoded.meta, path)


# -- pandas ------------------------------------------------------------------------------------------------


@pytest.fixture
def pd():
    return pytest.importorskip("pandas")


def _frames(pd):
    return {
        "mixed": pd.DataFrame(
            {
                "f": [1.0, np.nan, 3.0],
                "i": [1, 2, 3],
                "b": [True, False, True],
                "s": ["a", None, "c"],  # pandas 3: the `str` dtype
                "dt": pd.to_datetime(["2020-01-01", None, "2021-05-06"]),
                "dtz": pd.date_range("2020", periods=3, tz="Europe/Paris"),
                "ns": np.array([1, 2, 3], dtype="datetime64[ns]"),
                "td": pd.to_timedelta([1, 2, None], unit="s"),
                "cat": pd.Categorical(["a", "b", "a"]),
                "I64": pd.array([1, None, 3], dtype="Int64"),
                "string": pd.array(["x", None, "z"], dtype="string"),
                "f32": np.array([1, 2, 3], dtype=np.float32),
            }
        ),
        "named-index": pd.DataFrame({"x": [1, 2]}, index=pd.Index(["r1", "r2"], name="rows")),
        "freq-index": pd.DataFrame({"x": [1.0, 2.0, 3.0]}, index=pd.date_range("2020", periods=3, freq="D")),
        "multi-index": pd.DataFrame(
            {"x": [1, 2]}, index=pd.MultiIndex.from_tuples([("a", 1), ("b", 2)], names=["k", "n"])
        ),
        "empty": pd.DataFrame(),
        "more-indexes": pd.DataFrame(
            {
                "u": np.array([1, 2, 3], np.uint64),
                "U": pd.array([1, None, 3], dtype="UInt16"),
                "bool": pd.array([True, None, False], dtype="boolean"),
                "ordered": pd.Categorical(["lo", "hi", "lo"], categories=["lo", "hi"], ordered=True),
            },
            index=pd.date_range("2020", periods=3, freq="h", tz="UTC"),
        ).rename_axis("cols", axis=1),
        "categorical-index": pd.DataFrame(
            {"x": [1, 2, 3]}, index=pd.CategoricalIndex(["a", "b", "a"], name="c")
        ),
    }


@pytest.mark.parametrize(
    "name",
    ["mixed", "named-index", "freq-index", "multi-index", "empty", "more-indexes", "categorical-index"],
)
def test_dataframe_round_trip_as_parquet(name, pd, tmp_path):
    frame = _frames(pd)[name]
    restored = roundtrip(frame, tmp_path, expect="parquet")
    pd.testing.assert_frame_equal(restored, frame)
    assert list(restored.dtypes) == list(frame.dtypes)


def test_series_round_trip(pd, tmp_path):
    for series in (
        pd.Series([1.5, np.nan], name="price"),
        pd.Series(["a", None], name=None),
        pd.Series([1, 2], name=7, index=pd.Index(["x", "y"], name="k")),
        pd.Series([1.0, 2.0], index=pd.date_range("2020", periods=2, freq="D"), name=float("nan")),
    ):
        restored = roundtrip(series, tmp_path, expect="parquet")
        pd.testing.assert_series_equal(restored, series)


def test_big_frames_are_converted_by_the_writer(pd, tmp_path, monkeypatch):
    monkeypatch.setattr(formats_data, "PARQUET_EAGER_BYTES", 0)
    frame = _frames(pd)["mixed"]
    encoded = encode(frame)
    assert encoded.format == "parquet" and encoded.deferred
    frame.iloc[0, 0] = 99.0  # after encode: must not show up
    restored = decode(encoded.format, encoded.meta, write(encoded, tmp_path / "f"))
    assert restored.iloc[0, 0] == 1.0


def test_frames_parquet_cannot_hold_use_the_signed_pickle(pd, tmp_path, monkeypatch):
    odd = {
        "object cells": pd.DataFrame({"x": [[1], {"a": 2}]}),
        "int labels": pd.DataFrame({0: [1.0], 1: [2.0]}),
        "attrs": pd.DataFrame({"x": [1]}).set_flags(allows_duplicate_labels=True),
        "period": pd.DataFrame({"p": pd.period_range("2020", periods=2, freq="M")}),
        "int categories": pd.DataFrame({"c": pd.Categorical([1, 2, 1])}),
        "seconds": pd.DataFrame({"t": np.array(["2020-01-01"], dtype="datetime64[s]")}),
        "object strings": pd.DataFrame({"x": [1, 2]}, index=pd.Index(["a", "b"], dtype=object)),
    }
    odd["attrs"].attrs["source"] = "sensor"
    for frame in odd.values():
        restored = roundtrip(frame, tmp_path, expect="pickle-hmac")
        pd.testing.assert_frame_equal(restored, frame)
    monkeypatch.setattr(formats_data, "parquet_available", lambda: False)  # no pyarrow
    restored = roundtrip(_frames(pd)["mixed"], tmp_path, expect="pickle-hmac")
    pd.testing.assert_frame_equal(restored, _frames(pd)["mixed"])


# -- JSON --------------------------------------------------------------------------------------------------

JSON_VALUES = [
    None,
    True,
    0,
    2**100,
    -0.0,
    1e-310,
    float("nan"),
    float("inf"),
    float("-inf"),
    "naïve \u2603",
    [1, (2, (3,)), [None, False]],
    {"b": 1, "a": 2},  # insertion order is part of the value
    {"a": {"$tuple": 1}, "z": {"$float": "x"}},  # keys that look like tags
    {"$dict": [1]},
    {1: "int key", (1, "t"): [float("nan")], None: 0.5, 2.5: True},
    {"nested": [{"k": (float("inf"), -0.0)}]},
    (),
    [],
    {},
]


@pytest.mark.parametrize("value", JSON_VALUES, ids=[repr(v)[:30] for v in JSON_VALUES])
def test_json_round_trip(value, tmp_path):
    restored = roundtrip(value, tmp_path, expect="json", via_bytes=True)
    assert same(restored, value)


def test_json_is_canonical_and_readable():
    first = encode({"a": [1, 2.5], "b": None})
    second = encode({"a": [1, 2.5], "b": None})
    assert b"".join(first.chunks()) == b"".join(second.chunks()) == b'{"a":[1,2.5],"b":null}'


def test_shared_lists_keep_their_aliasing(tmp_path):
    row = [0, 0]
    grid = [row, row]
    restored = roundtrip(grid, tmp_path, expect="pickle-hmac")
    restored[0][0] = 1
    assert restored[1][0] == 1
    cyclic: list = [1]
    cyclic.append(cyclic)
    restored = roundtrip(cyclic, tmp_path, expect="pickle-hmac")
    assert restored[1] is restored


# -- signed pickle -----------------------------------------------------------------------------------------


class Experiment:
    def __init__(self):
        self.name = "run-1"
        self.weights = np.arange(6.0).reshape(2, 3)
        self.history = [(1, 0.5), (2, 0.25)]

    def __eq__(self, other):
        return (
            type(other) is Experiment
            and self.name == other.name
            and np.array_equal(self.weights, other.weights)
            and self.history == other.history
        )


def test_custom_object_round_trip(tmp_path):
    value = Experiment()
    encoded = encode(value)
    assert encoded.format == "pickle-hmac" and encoded.meta["class"].endswith("Experiment")
    assert encoded.meta["pickle_buffers"] == 1  # the array went out-of-band (copied once, not re-pickled)
    restored = decode(encoded.format, encoded.meta, write(encoded, tmp_path / "o"))
    assert restored == value
    restored.weights[0, 0] = 5.0  # restored arrays are ordinary writable arrays


class Evil:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {shlex.quote(str(self.marker))}",))


def _container(header: dict, parts: list[bytes], trailer: bytes) -> bytes:
    raw = json.dumps(header).encode()
    raw += b" " * (-(16 + len(raw)) % 64)
    out = b"RJCKPT01" + struct.pack("<Q", len(raw)) + raw
    for part in parts:
        out += part + bytes(-len(part) % 64)
    return out + trailer


def test_planted_pickles_are_refused_and_never_run(tmp_path):
    marker = tmp_path / "pwned"
    evil = pickle.dumps(Evil(marker), protocol=5)
    control = tmp_path / "control"
    pickle.loads(pickle.dumps(Evil(control)))  # the payload is live: plain pickle runs it
    assert control.exists()

    planted = tmp_path / "planted"
    planted.write_bytes(evil)
    entry = {"name": "pickle", "kind": "pickle", "offset": 0, "length": len(evil)}
    unsigned = {"container": 1, "format": "pickle-hmac", "parts": [entry], "signature": None}
    forged = {**unsigned, "signature": "hmac-sha256"}
    attempts = [
        (UnsignedObject, lambda: loads_signed(evil, None)),
        (UnsignedObject, lambda: loads_signed(evil, "sha256:" + "0" * 64)),
        (BadSignature, lambda: loads_signed(evil, "hmac-sha256:" + "0" * 64)),
        (UnsignedObject, lambda: decode("pickle-hmac", {}, planted)),
        (UnsignedObject, lambda: decode("torch-module", {}, planted)),
        (UnsignedObject, lambda: decode("pickle-hmac", {}, _container(unsigned, [evil], b""))),
        (BadSignature, lambda: decode("pickle-hmac", {}, _container(forged, [evil], os.urandom(32)))),
        (UnsignedObject, lambda: decode("pickle-hmac", {}, _container(forged, [evil], b""))),
    ]
    for error, attempt in attempts:
        with pytest.raises(error) as caught:
            attempt()
        message = str(caught.value)
        assert isinstance(caught.value, StoreError)
        assert (
            message.startswith("refusing to unpickle: the object has no valid signature")
            and "\n" not in message
        )
        assert not marker.exists()


def test_a_signature_from_another_key_is_refused(tmp_path, monkeypatch, signing_key):
    encoded = encode(Experiment())
    path = write(encoded, tmp_path / "o")
    data, signature = signing.dumps_signed({"x": 1})
    assert loads_signed(data, signature) == {"x": 1}
    monkeypatch.setenv(signing.KEY_ENV, str(tmp_path / "other-user" / "key"))
    with pytest.raises(BadSignature):
        decode(encoded.format, encoded.meta, path)
    with pytest.raises(BadSignature):
        loads_signed(data, signature)
    monkeypatch.setenv(signing.KEY_ENV, str(signing_key))
    assert decode(encoded.format, encoded.meta, path) == Experiment()


@pytest.mark.parametrize("where", ["pickle", "buffer", "trailer"])
def test_tampering_one_byte_is_refused(where, tmp_path):
    encoded = encode(Experiment())
    data = bytearray(b"".join(bytes(c) for c in encoded.chunks()))
    stream_at = data.index(b"Experiment")  # inside the pickle stream
    buffer_at = data.index(np.arange(6.0).tobytes()) + 9  # inside the out-of-band array buffer
    offset = {"pickle": stream_at, "buffer": buffer_at, "trailer": len(data) - 1}[where]
    data[offset] ^= 0x01
    with pytest.raises(BadSignature):
        decode(encoded.format, encoded.meta, bytes(data))


def test_tampered_module_structure_is_refused(torch, tmp_path):
    encoded = encode(torch.nn.Linear(2, 2))
    data = bytearray(b"".join(bytes(c) for c in encoded.chunks()))
    data[data.index(b"Linear")] ^= 0x20
    with pytest.raises(BadSignature):
        decode(encoded.format, encoded.meta, bytes(data))


# -- skips and limits --------------------------------------------------------------------------------------


def _generator():
    yield 1


def test_unpicklable_values_are_skipped_with_a_reason(tmp_path):
    with open(tmp_path / "f.txt", "w") as fh, socket.socket() as sock:
        cases = {
            "lock": threading.Lock(),
            "generator": _generator(),
            "file": fh,
            "socket": sock,
            "lambda": lambda: 1,
            "in a dict": {"ok": 1, "lock": threading.Lock()},
        }
        for name, value in cases.items():
            result = encode(value)
            assert isinstance(result, Skipped), name
            assert result.reason and "\n" not in result.reason and len(result.reason) <= 300
    assert encode(threading.Lock()).reason == "TypeError: cannot pickle '_thread.lock' object"


def test_max_bytes_skips_before_copying():
    big = np.zeros(50_000_000, dtype=np.float32)  # 200 MB
    tracemalloc.start()
    start = time.perf_counter()
    result = encode(big, max_bytes=1_000_000)
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert result == Skipped("larger than the 1000000 byte limit")
    assert peak < 1_000_000 and elapsed < 0.1
    for value in ({"weights": big}, "x" * 2_000_000, [big]):
        tracemalloc.start()
        assert encode(value, max_bytes=1_000_000) == Skipped("larger than the 1000000 byte limit")
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert peak < 8_000_000
    assert isinstance(encode(np.zeros(10), max_bytes=1_000_000), Encoded)


def test_max_bytes_for_tensors_and_frames(torch, pd):
    assert encode(torch.zeros(1_000_000), max_bytes=1000) == Skipped("larger than the 1000 byte limit")
    assert encode(torch.nn.Linear(1000, 1000), max_bytes=1000) == Skipped("larger than the 1000 byte limit")
    assert encode(pd.DataFrame({"x": np.zeros(100_000)}), max_bytes=1000) == Skipped(
        "larger than the 1000 byte limit"
    )


# -- signing key -------------------------------------------------------------------------------------------


def test_key_is_created_private_and_outside_any_store(tmp_path, monkeypatch):
    monkeypatch.delenv(signing.KEY_ENV)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    signature = signing.sign(b"payload")
    path = tmp_path / "data" / "repro-jupyter" / "signing_key"
    assert signing.key_path() == path
    assert len(path.read_bytes()) == 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert signature.startswith("hmac-sha256:") and path.read_bytes().hex() not in signature
    signing.check(b"payload", signature)
    with pytest.raises(BadSignature):
        signing.check(b"payload!", signature)


def test_racing_processes_agree_on_one_key(tmp_path, monkeypatch):
    key = tmp_path / "race" / "key"
    monkeypatch.setenv(signing.KEY_ENV, str(key))
    code = "from repro_jupyter.checkpoint import signing; print(signing.sign(b'x'))"
    procs = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) for _ in range(4)
    ]
    outputs = {p.communicate(timeout=60)[0].strip() for p in procs}
    assert len(outputs) == 1 and all(p.returncode == 0 for p in procs)
    assert outputs == {signing.sign(b"x")}


def test_an_exposed_or_malformed_key_is_refused(tmp_path, monkeypatch):
    exposed = tmp_path / "exposed"
    exposed.write_bytes(os.urandom(32))
    exposed.chmod(0o644)
    monkeypatch.setenv(signing.KEY_ENV, str(exposed))
    with pytest.raises(StoreError, match="accessible by other users") as caught:
        signing.sign(b"x")
    assert exposed.read_bytes().hex() not in str(caught.value)
    short = tmp_path / "short"
    short.write_bytes(b"12345")
    short.chmod(0o600)
    monkeypatch.setenv(signing.KEY_ENV, str(short))
    with pytest.raises(StoreError, match="malformed"):
        signing.sign(b"x")


def test_checkpointing_imports_no_heavy_library():
    code = (
        "import sys, numpy as np\n"
        "from repro_jupyter.checkpoint import encode\n"
        "for v in ({'a': 1}, np.ones(3), object(), [1.5]):\n"
        "    encode(v)\n"
        "print(sorted(m for m in ('torch', 'pandas', 'pyarrow') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
