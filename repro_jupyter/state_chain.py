"""The whole recorded state after a cell, put back together from the chain of state deltas.

A cell record's ``state.variables`` holds only what changed since the previous record
of the same kernel session (``state.previous``, that record's digest; null for the
first one), with ``{"deleted": true}`` for a variable the cell removed.  Storing the
whole namespace in every record made the store grow quadratically with the number of
cells.  Everything that needs "all live variables after this cell" (restore, checkout,
lineage, show, the server, export) asks ``full_state`` here, and nowhere else.

Records written before the chain existed have no ``previous`` key: their
``variables`` already are the whole state, so the walk stops there.
"""

from __future__ import annotations

from typing import Any

from .errors import StoreError

MAX_CHAIN = 1_000_000  # records walked back at most: a cycle or a corrupt pointer ends, not hangs


def state_of(record: dict[str, Any] | None) -> dict[str, Any] | None:
    """The record's ``state`` block, or None when the cell kept no state (state was off)."""
    state = (record or {}).get("state")
    return state if isinstance(state, dict) else None


def is_deleted(fp: Any) -> bool:
    """A tombstone: the cell removed this variable."""
    return isinstance(fp, dict) and bool(fp.get("deleted"))


def full_state(
    store: Any,
    record: dict[str, Any],
    known: tuple[str, dict[str, dict[str, Any]]] | None = None,
) -> dict[str, dict[str, Any]]:
    """{name: fingerprint} of every live variable after ``record``'s cell.

    ``known`` is (digest, full state) of a record already put together (a caller walking a
    notebook in order passes the previous cell's): the walk stops there instead of at the
    start of the session.  A missing or unreadable record in the chain is one-line StoreError.
    """
    deltas: list[dict[str, Any]] = []
    base: dict[str, dict[str, Any]] = {}
    current: dict[str, Any] | None = record
    seen: set[str] = set()
    while current is not None:
        state = state_of(current) or {}
        deltas.append(state.get("variables") or {})
        if "previous" not in state:
            break  # a record from before the chain: its variables are the whole state
        previous = state.get("previous")
        if not previous:
            break  # the first record of its kernel session
        if known is not None and previous == known[0]:
            base = known[1]
            break
        if previous in seen or len(seen) >= MAX_CHAIN:
            raise StoreError(f"state chain broken: it loops or exceeds {MAX_CHAIN} records at {previous}")
        seen.add(previous)
        try:
            current = store.objects.get_record(previous)
        except Exception as exc:
            raise StoreError(
                f"state chain broken: previous record {previous} unreadable ({type(exc).__name__}: {exc})"
            ) from None
    out = dict(base)
    for delta in reversed(deltas):
        for name, fp in delta.items():
            if is_deleted(fp):
                out.pop(name, None)
            else:
                out[name] = fp
    return dict(sorted(out.items()))


def changed_variables(record: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """What this cell itself changed (its delta), tombstones included."""
    return dict((state_of(record) or {}).get("variables") or {})


def is_delta(record: dict[str, Any] | None) -> bool:
    """The record's variables are a delta (it has ``state.previous``, even null), not the whole state."""
    return "previous" in (state_of(record) or {})


def comparable(
    old_store: Any, old_record: dict[str, Any] | None, new_store: Any, new_record: dict[str, Any] | None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The two records with state of the same kind, for the judge's state comparison.

    Two deltas compare as "what this cell changed"; two old records as whole states.  A record
    made before deltas against one made after would show every variable the cell did not touch
    as a difference (a false alarm on every notebook recorded before), so the delta side is put
    together into its whole state first.  An unreadable chain raises StoreError.
    """
    if is_delta(old_record) == is_delta(new_record) or state_of(old_record) is None:
        return old_record, new_record
    if state_of(new_record) is None:
        return old_record, new_record

    def whole(store: Any, record: dict[str, Any]) -> dict[str, Any]:
        state = {k: v for k, v in record["state"].items() if k != "previous"}
        return {**record, "state": {**state, "variables": full_state(store, record)}}

    if is_delta(old_record):
        return whole(old_store, old_record), new_record  # type: ignore[arg-type]
    return old_record, whole(new_store, new_record)  # type: ignore[arg-type]
