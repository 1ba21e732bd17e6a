"""Incremental checkpoints of changed variables, and restoring them.

After a recorded cell, every variable the state tracker re-hashed (new or changed)
is snapshotted in the foreground (``checkpoint.encode``: a stable copy) and
written by the background writer into the store; the catalog maps its
fingerprint to the stored object.  Identical content is stored once across
cells, runs and notebooks of a store (fingerprint + format are the key).
Restore looks a cell's record up, finds each variable's checkpoint by its
fingerprint, verifies the object's sha256 before use (memory-mapped arrays
included), decodes it (pickles only with a valid signature) and checks the
fingerprint of what it got back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .canonical import canonical_bytes
from .checkpoint import Skipped, decode, encode
from .checkpoint.backlog import WriteBacklog, estimated_bytes
from .errors import ReproError, StoreError
from .fingerprint import fingerprint, user_variables
from .redact import WITHHELD, chunks_hold_secret, is_secret_name, looks_secret
from .schema import METADATA_KEY
from .state_chain import full_state, state_of
from .store import Store
from .store.catalog import Catalog

DEFAULT_MAX_OBJECT_BYTES = 2 << 30
DEFAULT_MAX_CELL_BYTES = 4 << 30
LAZY_FORMATS = {"npy"}


def _write_checkpoint(store: Store, encoded: Any, fingerprint_digest: str) -> None:
    try:
        obj, size, _new = store.objects.put_stream(encoded.chunks())
    finally:
        encoded.release()  # its snapshot buffer may now serve the next snapshot
    store.catalog.add_checkpoint(fingerprint_digest, encoded.format, obj, encoded.meta, size)


class Checkpointer:
    """Per-kernel checkpoint policy and the set of fingerprints already stored."""

    def __init__(self) -> None:
        self.enabled = True
        self.max_object_bytes = DEFAULT_MAX_OBJECT_BYTES
        self.max_cell_bytes = DEFAULT_MAX_CELL_BYTES
        self._done: set[str] = set()
        self._reader: Catalog | None = None
        self.backlog = WriteBacklog()

    def _write(self, store: Store, encoded: Any, digest: str, reserved: int) -> None:
        try:
            _write_checkpoint(store, encoded, digest)
        finally:
            self.backlog.done(reserved)

    def _known(self, store: Store, digest: str) -> bool:
        if digest in self._done:
            return True
        try:
            if self._reader is None:
                self._reader = Catalog(store.root / "catalog.sqlite")
            return self._reader.checkpoint(digest) is not None
        except Exception:  # a catalog we cannot read: write again (content addressing dedups)
            return False

    def after_cell(
        self,
        store: Store,
        writer: Any,
        namespace: dict[str, Any],
        hidden: set[str],
        fingerprints: dict[str, dict[str, Any]],
        changed: list[str],
    ) -> dict[str, str]:
        """Queue checkpoints of the changed variables; return {name: why not} for those skipped."""
        if not self.enabled:
            return {}
        variables = user_variables(namespace, hidden)
        budget = self.max_cell_bytes
        skipped: dict[str, str] = {}
        for name in changed:
            fp = fingerprints.get(name) or {}
            digest = fp.get("digest")
            if not digest:
                skipped[name] = fp.get("skipped", "no fingerprint")
                continue
            if self._known(store, digest) or name not in variables:
                continue
            secret = _secret_reason(name, variables[name])
            if secret:
                skipped[name] = secret
                continue
            limit = min(self.max_object_bytes, max(budget, 0))
            reserved = estimated_bytes(variables[name])
            if reserved > limit:
                reserved = 0  # encode refuses it before copying anything
            elif reserved and not self.backlog.reserve(reserved):
                skipped[name] = (
                    f"not stored: the store writer is {self.backlog.pending} bytes behind"
                    f" and made no room in {self.backlog.patience_s:.0f} s"
                )
                continue
            encoded = encode(variables[name], max_bytes=limit)
            if isinstance(encoded, Skipped):
                self.backlog.done(reserved)
                skipped[name] = encoded.reason
                continue
            if _may_hold_text(encoded) and chunks_hold_secret(_text_of(encoded)):
                encoded.release()
                self.backlog.done(reserved)
                skipped[name] = WITHHELD
                continue
            if not encoded.deferred:
                budget -= encoded.nbytes
            self._done.add(digest)
            writer.submit(self._write, encoded, digest, reserved)
        return skipped


def _may_hold_text(encoded: Any) -> bool:
    """Pickles, JSON, containers and string/object arrays can carry text; numeric arrays and tensors cannot
    (scanning gigabytes of floats would cost seconds per cell); a deferred Parquet frame is scanned through
    its labels and text columns (its bytes do not exist yet)."""
    if encoded.deferred:
        return encoded.text is not None
    if encoded.format == "npy":
        return str(encoded.meta.get("dtype", ""))[1:2] in ("U", "S", "O", "V")
    return encoded.format not in ("safetensors", "torch-optimizer")


def _text_of(encoded: Any) -> Iterator[Any]:
    """The bytes that can carry text: the meta (it goes to the catalog: a Series' name), then all of
    the file, unless the format says which of it (``Encoded.text``: no compressed or tensor bytes)."""
    yield canonical_bytes(encoded.meta)
    yield from encoded.text() if encoded.text is not None else encoded.chunks()


def _secret_reason(name: str, value: Any) -> str | None:
    """Never write a secret into the store: by name, or by the text of small plain values."""
    if is_secret_name(name):
        return "not stored: the name looks like a secret"
    if isinstance(value, (str, bytes, dict, list, tuple)):
        try:
            text = (
                value.decode("utf-8", "replace")
                if isinstance(value, bytes)
                else (value if isinstance(value, str) else json.dumps(value, default=repr))
            )
        except (TypeError, ValueError, RecursionError):
            return None
        if len(text) <= 1_000_000 and looks_secret(text):
            return "not stored: the value looks like a secret"
    return None


def find_record(session: Any, ref: str, store: Store | None = None) -> dict[str, Any]:
    """A cell record by record digest, cell id (this session, the saved notebook, or the run log)."""
    if store is not None:  # an explicit store (``jupyter repro check``): digests only
        return store.objects.get_json(ref)
    store = session.store()
    if store is None:
        raise StoreError("no store: nothing was recorded")
    session.flush()
    digest = None
    if ref.startswith("sha256:"):
        digest = ref
    elif ref in session.cell_metadata:
        digest = session.cell_metadata[ref]["record"]
    else:
        path = session.location.path
        if path is not None and Path(path).is_file():
            try:
                nb = json.loads(Path(path).read_text(encoding="utf-8"))
                for cell in nb.get("cells", []):
                    if cell.get("id") == ref and METADATA_KEY in cell.get("metadata", {}):
                        digest = cell["metadata"][METADATA_KEY]["record"]
            except (OSError, ValueError, KeyError):
                pass
        if digest is None:
            reader = Catalog(store.root / "catalog.sqlite")  # the store's own connection is the writer's
            try:
                history = reader.cell_history(ref)
            finally:
                reader.close()
            digest = history[-1]["record"] if history else None
    if digest is None:
        raise ReproError(f"no recorded cell {ref!r} (give a cell id or a record digest)")
    return store.objects.get_json(digest)


def _explicit_store(spec: str) -> Store:
    """``--store``: a local store folder, or a team store URL (its catalog pulled into the cache)."""
    from .store import open_store
    from .store.location import is_url

    return open_store(Path.cwd(), create=False, url=spec) if is_url(spec) else Store(Path(spec))


def restore(
    session: Any,
    ref: str,
    names: list[str] | None,
    lazy: bool = True,
    drop_others: bool = False,
    store_root: str | None = None,
) -> dict[str, str]:
    """Bring variables of cell ``ref`` back into the namespace; {name: "restored"|why not}."""
    explicit = _explicit_store(store_root) if store_root else None
    record = find_record(session, ref, explicit)
    store = explicit or session.store()
    if state_of(record) is None:
        raise ReproError(f"cell {record.get('cell_key')} recorded no variables (state was off)")
    variables = full_state(store, record)  # records hold deltas: follow the chain
    if not variables:
        raise ReproError(f"cell {record.get('cell_key')} recorded no variables")
    wanted = names or sorted(variables)
    unknown = [n for n in wanted if n not in variables]
    if unknown:
        raise ReproError(f"cell {record.get('cell_key')} recorded no variable {unknown[0]!r}")
    reader = Catalog(store.root / "catalog.sqlite")
    namespace = session.shell.user_ns
    results: dict[str, str] = {}
    # optimizers last: one without a live instance is rebuilt on its (restored) model's parameters
    ordered = sorted(wanted, key=lambda n: _is_optimizer_type(variables[n].get("type", "")))
    try:
        for name in ordered:
            fp = variables[name]
            entry = reader.checkpoint(fp.get("digest", "")) if fp.get("digest") else None
            if entry is None:
                results[name] = "not checkpointed" + (f" ({fp['skipped']})" if fp.get("skipped") else "")
                continue
            value = _load(store, entry, lazy)
            if entry["format"] == "torch-optimizer":
                value = _optimizer(name, value, entry["meta"], fp, namespace)
            # lazy (memory-mapped) values too: the catalog row that led here may come from another
            # writer's journal, and only the fingerprint ties the object to this variable (one pass
            # over pages that ``verified_path`` has just read)
            got = fingerprint(value).get("digest")
            if got != fp["digest"]:
                raise StoreError(f"restored {name!r} does not match its recorded fingerprint")
            namespace[name] = value
            results[name] = "restored"
    finally:
        reader.close()
    if drop_others:
        hidden = session.hidden_names()
        for name in list(user_variables(namespace, hidden)):
            if name not in variables:
                del namespace[name]
                results[name] = "removed (defined after that cell)"
    return results


def _is_optimizer_type(type_name: str) -> bool:
    return type_name.startswith("torch.optim.")


def _optimizer(
    name: str, state_dict: Any, meta: dict[str, Any], fp: dict[str, Any], namespace: dict[str, Any]
) -> Any:
    """A live optimizer holding ``state_dict``: the existing one, or one rebuilt on its model's params."""
    live = namespace.get(name)
    if live is None or not hasattr(live, "load_state_dict"):
        import importlib

        import torch

        owners = [namespace.get(n) for n in fp.get("shares", [])]
        models = [m for m in owners if isinstance(m, torch.nn.Module)]
        if not models:
            raise StoreError(f"cannot rebuild optimizer {name!r}: its model is not in the namespace")
        params = list(models[0].parameters())
        if sum(len(g["params"]) for g in state_dict["param_groups"]) != len(params):
            raise StoreError(
                f"cannot rebuild optimizer {name!r}: it did not cover exactly its model's parameters"
            )
        module_name, _, class_name = str(meta.get("class", "")).rpartition(".")
        cls = getattr(importlib.import_module(module_name), class_name)
        hyper = {k: v for k, v in state_dict["param_groups"][0].items() if k not in ("params", "initial_lr")}
        live = cls(params, **hyper)
    live.load_state_dict(state_dict)
    return live


def _load(store: Store, entry: dict[str, Any], lazy: bool) -> Any:
    if lazy and entry["format"] in LAZY_FORMATS:
        return decode(entry["format"], entry["meta"], store.objects.verified_path(entry["object"]), lazy=True)
    return decode(entry["format"], entry["meta"], store.objects.get_bytes(entry["object"]))
