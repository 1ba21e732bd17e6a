"""Checkpoint write/restore vs ``np.save``+fsync (the limit) and dill (Kishu's serializer), and store
growth of a training notebook: our bytes vs a dill dump of the session per cell (ElasticNotebook/Kishu
baselines), all measured in the same run; and what each checkpoint format costs on its own (a 256 MiB
array, a signed pickle, a tensor), figures the format tests once printed without asserting anything."""

from __future__ import annotations

import io
import os
import pickle
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from .common import fsync_write, ratio, timed


def array_io(nbytes: int, repeats: int) -> dict[str, Any]:
    import dill

    from repro_jupyter.checkpoint import decode, encode
    from repro_jupyter.checkpoint.snapshot_pool import POOL
    from repro_jupyter.store import Store

    folder = Path(tempfile.mkdtemp(prefix="bench-ckpt-"))
    store = Store(folder / ".repro")
    arr = np.random.default_rng(1).random(nbytes // 8)
    out: dict[str, Any] = {"bytes": nbytes}

    def ours() -> str:
        encoded = encode(arr)
        digest, _, _ = store.objects.put_stream(encoded.chunks())
        encoded.release()  # as the kernel's writer does: the buffer serves the next snapshot
        return digest

    def limit() -> None:
        fsync_write(folder / "limit.npy", lambda fh: np.save(fh, arr))

    def with_dill() -> None:
        fsync_write(folder / "dill.pkl", lambda fh: dill.dump(arr, fh))

    POOL.clear()
    out["foreground_first_snapshot_s"] = timed(lambda: encode(arr).release(), 1)  # fresh pages
    foreground = timed(lambda: encode(arr).release(), repeats)  # a buffer the writer handed back
    out["foreground_snapshot_s"] = foreground
    digest = ours()
    for path in (folder / ".repro" / "objects").rglob("*"):
        if path.is_file():
            path.chmod(0o644)
            path.unlink()
    out["ours_durable_s"] = timed(lambda: [ours(), _clear(folder)], repeats)
    out["np_save_fsync_s"] = timed(limit, repeats)
    out["dill_fsync_s"] = timed(with_dill, repeats)
    digest = ours()
    path = store.objects.path_for(digest)
    out["restore_eager_s"] = timed(lambda: decode("npy", {}, store.objects.get_bytes(digest)), repeats)
    out["np_load_warm_s"] = timed(lambda: np.load(folder / "limit.npy"), repeats)
    start = time.perf_counter()
    lazy = decode("npy", {}, store.objects.verified_path(digest), lazy=True)
    out["restore_lazy_verified_ms"] = round((time.perf_counter() - start) * 1000, 2)
    start = time.perf_counter()
    decode("npy", {}, path, lazy=True)
    out["restore_lazy_open_ms"] = round((time.perf_counter() - start) * 1000, 3)
    del lazy
    out["summary"] = {
        "durable_over_np_save_fsync": ratio(out["ours_durable_s"], out["np_save_fsync_s"]),
        "target_durable_ratio": 1.3,
        "dill_over_ours": ratio(out["dill_fsync_s"], out["ours_durable_s"]),
        "foreground_ms_per_GiB": round(foreground["median"] * 1000 * (1 << 30) / nbytes, 1),
        "first_snapshot_ms_per_GiB": round(
            out["foreground_first_snapshot_s"]["median"] * 1000 * (1 << 30) / nbytes, 1
        ),
        "target_foreground_ms_per_GiB": 200,
        "lazy_open_ms": out["restore_lazy_open_ms"],
    }
    return out


def _clear(folder: Path) -> None:
    for path in (folder / ".repro" / "objects").rglob("*"):
        if path.is_file():
            path.chmod(0o644)
            path.unlink()


def store_growth(epochs: int) -> dict[str, Any]:
    """A training loop, one cell per epoch, with a big unchanging dataset in the namespace."""
    import dill
    from IPython.core.interactiveshell import InteractiveShell

    from repro_jupyter import magics

    folder = Path(tempfile.mkdtemp(prefix="bench-growth-"))
    os.chdir(folder)
    ip = InteractiveShell.instance()
    ip.reset(new_session=False)  # nothing left over from other scenarios in this process
    magics.load(ip)
    ip.run_line_magic("repro", "on --seed 3")
    ip.run_cell(
        "import numpy as np, torch\ntorch.set_num_threads(1)\nX = torch.randn(20000, 256)\n"
        "y = torch.randn(20000, 1)\nmodel = torch.nn.Sequential(torch.nn.Linear(256, 512), torch.nn.ReLU(),"
        " torch.nn.Linear(512, 1))\nopt = torch.optim.Adam(model.parameters(), lr=1e-3)",
        cell_id="setup",
    )
    dill_bytes = 0
    baseline = ["dill"]
    for epoch in range(epochs):
        ip.run_cell(
            "for i in range(0, 20000, 2000):\n    opt.zero_grad()\n"
            "    loss = torch.nn.functional.mse_loss(model(X[i:i+2000]), y[i:i+2000])\n"
            "    loss.backward()\n    opt.step()",
            cell_id=f"epoch{epoch}",
        )
        buf = io.BytesIO()
        names = {k: ip.user_ns[k] for k in ("X", "y", "model", "opt", "loss", "i")}
        try:  # a per-cell dump of the session's variables (the dill baseline)
            dill.dump(names, buf)
        except Exception:  # dill cannot pickle torch modules here: plain pickle is the same size class
            buf = io.BytesIO()
            pickle.dump(names, buf, protocol=5)
            baseline[0] = "pickle (dill failed on torch modules)"
        dill_bytes += buf.tell()
    session = magics._LOADED[id(ip)].session
    session.flush()
    ours = sum(p.stat().st_size for p in (folder / ".repro" / "objects").rglob("*") if p.is_file())
    magics.unload(ip)
    return {
        "epochs": epochs,
        "ours_bytes": ours,
        "dill_per_cell_bytes": dill_bytes,
        "dill_over_ours": round(dill_bytes / ours, 2),
        "kishu_reported_best": 4.55,
    }


def formats_io(encode_runs: int = 5) -> dict[str, Any]:
    """What each checkpoint format costs on its own, outside the store: a 256 MiB float32 array (encode,
    streamed write, +fsync, lazy and eager decode), a signed pickle (a dict holding a 64 MiB array) and a
    64 MiB tensor (encode, write with its signature, decode), as the format tests once printed them.

    Separate from ``array_io`` on purpose: no store, no hash, so these figures move only when a format
    does. The signing key is a throwaway one in the scratch folder, never the user's."""
    from repro_jupyter.checkpoint import signing

    folder = Path(tempfile.mkdtemp(prefix="bench-formats-"))
    previous_key = os.environ.get(signing.KEY_ENV)
    os.environ[signing.KEY_ENV] = str(folder / "keys" / "signing_key")
    try:
        return {"array_256mib_float32": _array_format(folder, encode_runs), **_object_formats(folder)}
    finally:
        if previous_key is None:
            os.environ.pop(signing.KEY_ENV, None)
        else:
            os.environ[signing.KEY_ENV] = previous_key


def _ms(seconds: float, digits: int = 1) -> float:
    return round(seconds * 1000, digits)


def _array_format(folder: Path, encode_runs: int) -> dict[str, Any]:
    from repro_jupyter.checkpoint import decode, encode
    from repro_jupyter.checkpoint.snapshot_pool import POOL

    POOL.clear()  # buffers ``array_io`` gave back would make the first snapshot look warm
    array = np.random.default_rng(0).random(64 << 20, dtype=np.float32)  # 256 MiB
    array += 1  # touch every page
    encodes = []
    encoded = None
    for _ in range(encode_runs):
        encoded = None  # free the previous snapshot first, as a kernel would once it was written
        start = time.perf_counter()
        encoded = encode(array)
        encodes.append(time.perf_counter() - start)
    assert encoded is not None
    path = folder / "big.npy"
    start = time.perf_counter()
    with open(path, "wb") as fh:
        for piece in encoded.chunks():
            fh.write(piece)
        written_s = time.perf_counter() - start
        fh.flush()
        os.fsync(fh.fileno())
    durable_s = time.perf_counter() - start
    start = time.perf_counter()
    lazy = decode(encoded.format, encoded.meta, path, lazy=True)
    lazy_s = time.perf_counter() - start
    start = time.perf_counter()
    eager = decode(encoded.format, encoded.meta, path)
    eager_s = time.perf_counter() - start
    if not (np.array_equal(lazy[:1000], array[:1000]) and eager.shape == array.shape):
        raise RuntimeError("the 256 MiB array did not come back as written: its timings mean nothing")
    gb = encoded.nbytes / 1e9
    del lazy, eager, encoded
    path.unlink()
    later = encodes[1:] or encodes
    return {
        "bytes": array.nbytes,
        "encode_runs_ms": [_ms(s) for s in encodes],
        # the first snapshot may land on never-touched pages (~4x slower in a fresh process; after
        # ``array_io`` the allocator often has touched ones to hand out), the others on reused memory
        "encode_first_ms": _ms(encodes[0]),
        "encode_median_ms": _ms(statistics.median(later)),
        "stream_write_ms": _ms(written_s),
        "stream_write_GBps": round(gb / written_s, 2),
        "write_fsync_ms": _ms(durable_s),
        "write_fsync_GBps": round(gb / durable_s, 2),
        "decode_lazy_ms": _ms(lazy_s, 3),
        "decode_eager_ms": _ms(eager_s),
    }


def _object_formats(folder: Path) -> dict[str, Any]:
    from repro_jupyter.checkpoint import decode, encode

    values: dict[str, Any] = {
        "signed_pickle_dict_64mib_array": {
            "weights": np.random.default_rng(0).random(16 << 20, dtype=np.float32),
            "note": "x",
        }
    }
    try:
        import torch
    except ImportError:
        values["tensor_64mib"] = None
    else:
        values["tensor_64mib"] = torch.rand(16 << 20)
    out: dict[str, Any] = {}
    path = folder / "object"
    for name, value in values.items():
        if value is None:
            out[name] = "skipped: torch is not installed"
            continue
        start = time.perf_counter()
        encoded = encode(value)
        encode_s = time.perf_counter() - start
        start = time.perf_counter()
        encoded.write_to(path)
        write_s = time.perf_counter() - start
        start = time.perf_counter()
        decode(encoded.format, encoded.meta, path)
        decode_s = time.perf_counter() - start
        out[name] = {
            "format": encoded.format,
            "bytes": encoded.nbytes,
            "encode_ms": _ms(encode_s),
            "write_and_sign_ms": _ms(write_s),
            "decode_ms": _ms(decode_s),
        }
        path.unlink()
    return out


def run(quick: bool, repeats: int) -> dict[str, Any]:
    nbytes = (256 if quick else 1024) * 1024 * 1024
    io_result = array_io(nbytes, max(repeats, 2) if not quick else 2)
    formats = formats_io()
    growth = store_growth(5 if quick else 20)
    return {
        "array": io_result,
        "formats": formats,
        "store_growth": growth,
        "summary": {**io_result["summary"], "store_growth_dill_over_ours": growth["dill_over_ours"]},
    }
