"""The content-addressed store and its SQLite catalog, on a real file system and real SQLite."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pytest

from repro_jupyter.errors import ObjectCorrupt, ObjectMissing, StoreError
from repro_jupyter.store import open_store


def test_put_is_idempotent_and_immutable(tmp_path):
    store = open_store(tmp_path)
    digest, new = store.objects.put_json({"b": 1, "a": [1, 2]})
    assert new
    again, new_again = store.objects.put_json({"a": [1, 2], "b": 1})  # key order does not matter
    assert again == digest and not new_again
    path = store.objects.path_for(digest)
    assert not os.access(path, os.W_OK) or os.geteuid() == 0
    assert oct(path.stat().st_mode & 0o777) == "0o444"
    assert store.objects.get_json(digest) == {"a": [1, 2], "b": 1}
    assert not list(path.parent.glob(".tmp-*"))


def test_corrupt_and_missing_objects_are_reported_in_one_line(tmp_path):
    store = open_store(tmp_path)
    digest, _ = store.objects.put_bytes(b"hello")
    path = store.objects.path_for(digest)
    path.chmod(0o644)
    path.write_bytes(b"hellO")
    with pytest.raises(ObjectCorrupt) as info:
        store.objects.get_bytes(digest)
    assert digest in str(info.value) and "\n" not in str(info.value)
    path.unlink()
    with pytest.raises(ObjectMissing):
        store.objects.get_bytes(digest)
    with pytest.raises(StoreError):
        store.objects.get_bytes("sha256:../../etc/passwd")


def test_store_path_that_is_a_file_falls_back(tmp_path, monkeypatch):
    (tmp_path / ".repro").write_text("I am a file")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    store = open_store(tmp_path)
    assert store.fallback_reason and "not a directory" in store.fallback_reason
    assert str(tmp_path / "cache") in str(store.root)
    assert (tmp_path / ".repro").read_text() == "I am a file"  # nothing lost
    # readers find the fallback again
    store.objects.put_bytes(b"x")
    assert open_store(tmp_path, create=False).root == store.root


def test_no_store_at_all_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(StoreError, match="no repro store found"):
        open_store(tmp_path, create=False)


def _writer(root: str, n: int, worker: int) -> None:
    store = open_store(Path(root))
    run = store.catalog.start_run(f"nb{worker}.ipynb", "test", 1)
    for i in range(n):
        digest, _ = store.objects.put_json({"worker": worker, "i": i, "shared": i % 5})
        store.catalog.add_cell_execution(run, f"c{i}", digest, digest, i, 0.0, 0.0, "ok")
    store.catalog.finish_run(run)


def test_concurrent_writers_lose_nothing(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), 40, w)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    catalog = open_store(tmp_path).catalog
    assert len(catalog.runs()) == 4
    total = sum(len(catalog.cell_history(f"c{i}")) for i in range(40))
    assert total == 160


def test_streamed_object_hashed_beside_its_write_is_named_by_all_its_bytes(tmp_path):
    """Big chunks are hashed in a helper thread while written: order and content must still be exact."""
    import blake3

    from repro_jupyter.store.objects import OVERLAP_MIN, ObjectStore

    chunks = [os.urandom(3 * OVERLAP_MIN), b"small", memoryview(os.urandom(OVERLAP_MIN)), b"", b"tail"]
    objects = ObjectStore(tmp_path)
    digest, size, new = objects.put_stream(iter(chunks))
    whole = b"".join(bytes(c) for c in chunks)
    assert digest == "blake3:" + blake3.blake3(whole).hexdigest() and size == len(whole) and new
    assert objects.path_for(digest) == tmp_path / "objects" / "blake3" / digest[7:9] / digest[9:]
    assert objects.get_bytes(digest) == whole
    assert objects.put_stream(iter(chunks))[2] is False  # same content: stored once


def test_streamed_objects_are_verified_with_the_hash_their_name_says(tmp_path):
    """BLAKE3-named objects: a flipped byte is refused by every reader, as a sha256 one is."""
    from repro_jupyter.store.objects import ObjectStore

    objects = ObjectStore(tmp_path)
    digest, _, _ = objects.put_stream(iter([b"x" * 5000]))
    same, _ = objects.put_bytes(b"x" * 5000)
    assert digest.startswith("blake3:") and same.startswith("sha256:")  # two names, two files
    assert objects.get_bytes(digest) == objects.get_bytes(same) == b"x" * 5000
    path = objects.path_for(digest)
    path.chmod(0o644)
    path.write_bytes(b"y" + b"x" * 4999)
    with pytest.raises(ObjectCorrupt, match="corrupt"):
        objects.get_bytes(digest)
    with pytest.raises(ObjectCorrupt, match="corrupt"):
        objects.verified_path(digest)
    with pytest.raises(ObjectCorrupt):  # a download that hashes to something else is dropped
        objects.put_stream(iter([b"z"]), expect="blake3:" + "0" * 64)
    for bad in ("md5:" + "0" * 64, "blake3:" + "0" * 63, "blake3:" + "G" * 64, 7):
        with pytest.raises(StoreError, match="not a valid object id"):
            objects.path_for(bad)  # type: ignore[arg-type]


def test_fsck_checks_blake3_objects_and_finds_interrupted_streamed_writes(tmp_path):
    """fsck walks objects/blake3/ too, and sees a crashed put_stream's objects/.tmp-* leftover."""
    from repro_jupyter.store.maintenance import fsck

    store = open_store(tmp_path)
    good, _, _ = store.objects.put_stream(iter([b"a" * 100]))
    bad, _, _ = store.objects.put_stream(iter([b"b" * 100]))
    path = store.objects.path_for(bad)
    path.chmod(0o644)
    path.write_bytes(b"c" * 100)
    (store.objects.objects / ".tmp-crashed").write_bytes(b"half")
    report = fsck(store)
    assert report.objects == 2 and report.corrupt == [bad]
    assert report.temporary == [str(Path("objects") / ".tmp-crashed")]
