"""Snapshot buffers are reused only after the writer is done with them, and the backlog is bounded."""

from __future__ import annotations

import io
import threading

import numpy as np
import pytest

from repro_jupyter.checkpoint import Skipped, decode, encode
from repro_jupyter.checkpoint.backlog import WriteBacklog, estimated_bytes
from repro_jupyter.checkpoint.snapshot_pool import MIN_POOLED, POOL
from repro_jupyter.checkpointing import Checkpointer
from repro_jupyter.fingerprint import fingerprint_namespace
from repro_jupyter.store import open_store

N = (2 * MIN_POOLED) // 8  # float64 elements: a 2 MiB array, big enough to be pooled


@pytest.fixture(autouse=True)
def empty_pool():
    POOL.clear()
    yield
    POOL.clear()


def _file(encoded) -> bytes:
    out = io.BytesIO()
    for piece in encoded.chunks():
        out.write(piece)
    return out.getvalue()


def _snapshot_of(encoded) -> np.ndarray:
    (buf,) = encoded._pooled
    return buf


def test_released_buffer_serves_the_next_snapshot_and_stored_bytes_stay_right():
    a = np.arange(N, dtype=np.float64)
    first = encode(a)
    a[:] = -1  # the user changes the array the moment the cell returns: the snapshot must not see it
    data_a = _file(first)
    assert np.array_equal(decode("npy", first.meta, data_a), np.arange(N, dtype=np.float64))
    buf = _snapshot_of(first)
    first.release()
    assert POOL.pooled_bytes == buf.nbytes and first.chunks is not None and list(first.chunks()) == []

    reused_before = POOL.reused
    b = np.full(N, 7.0)
    second = encode(b)
    assert POOL.reused == reused_before + 1 and _snapshot_of(second) is buf
    assert np.array_equal(decode("npy", second.meta, _file(second)), b)
    assert np.array_equal(decode("npy", first.meta, data_a), np.arange(N, dtype=np.float64))


def test_buffers_in_flight_are_never_shared():
    one, two = encode(np.ones(N)), encode(np.zeros(N))
    assert not np.shares_memory(_snapshot_of(one), _snapshot_of(two))
    assert np.array_equal(decode("npy", one.meta, _file(one)), np.ones(N))


def test_fortran_order_and_small_arrays():
    f = np.asfortranarray(np.arange(N, dtype=np.float64).reshape(512, -1))
    enc = encode(f)
    back = decode("npy", enc.meta, _file(enc))
    assert np.array_equal(back, f) and back.flags.f_contiguous
    small = encode(np.arange(10))
    assert small._pooled == []  # small snapshots are plain allocations


def test_skipped_values_lease_nothing():
    result = encode(np.ones(N), max_bytes=1024)
    assert isinstance(result, Skipped) and POOL.pooled_bytes == 0


def test_pool_is_bounded():
    old = POOL.limit
    POOL.limit = 3 * MIN_POOLED
    try:
        encs = [encode(np.ones(N)) for _ in range(3)]  # 3 x 2 MiB released into a 3 MiB pool
        for enc in encs:
            enc.release()
        assert POOL.pooled_bytes <= 3 * MIN_POOLED
    finally:
        POOL.limit = old


def test_torch_tensor_snapshot_is_pooled_and_exact():
    torch = pytest.importorskip("torch")
    t = torch.arange(N, dtype=torch.float32)
    enc = encode(t)
    t.add_(1)
    assert len(enc._pooled) == 1
    back = decode("safetensors", enc.meta, _file(enc))
    assert torch.equal(back, torch.arange(N, dtype=torch.float32))


def test_backlog_waits_for_the_writer_and_gives_up_without_one():
    backlog = WriteBacklog(limit=100, patience_s=5)
    assert backlog.reserve(80)
    released = threading.Timer(0.2, backlog.done, args=(80,))
    released.start()
    assert backlog.reserve(80)  # waited for the first write to finish
    assert backlog.pending == 80
    assert WriteBacklog(limit=10).reserve(1000)  # one object always fits when nothing is pending
    stuck = WriteBacklog(limit=100, patience_s=0.1)
    assert stuck.reserve(80) and not stuck.reserve(80)
    assert estimated_bytes(np.ones(5)) == 40 and estimated_bytes("text") == 0


class _StuckWriter:
    """A writer thread that never gets to run (a hung network store, say)."""

    def __init__(self) -> None:
        self.queued: list = []

    def submit(self, func, *args) -> None:
        self.queued.append((func, args))


def test_a_writer_that_falls_behind_costs_a_checkpoint_not_the_kernel(tmp_path):
    store = open_store(tmp_path)
    checkpointer = Checkpointer()
    checkpointer.backlog = WriteBacklog(limit=3 * MIN_POOLED, patience_s=0.1)
    namespace = {"a": np.ones(N), "b": np.zeros(N), "c": np.full(N, 2.0)}
    fps = fingerprint_namespace(namespace)
    writer = _StuckWriter()
    skipped = checkpointer.after_cell(store, writer, namespace, set(), fps, ["a", "b", "c"])
    assert len(writer.queued) == 1 and set(skipped) == {"b", "c"}
    assert "writer is" in skipped["b"] and "behind" in skipped["b"]
    func, args = writer.queued[0]
    func(store, *args)  # the writer catches up: the reservation is returned with the buffer
    assert checkpointer.backlog.pending == 0 and POOL.pooled_bytes == 2 * MIN_POOLED
    store.close()
