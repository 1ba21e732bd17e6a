"""Plain data as canonical JSON, and pandas frames/series as Parquet.

JSON layout: ``repro_jupyter.canonical.canonical_bytes`` of a *tagged* tree, so everything JSON cannot say
round-trips exactly.  A tag is a one-key object:

- ``{"$tuple": [...]}`` a tuple;  ``{"$float": "nan" | "inf" | "-inf"}`` a non-finite float;
- ``{"$dict": [[key, value], ...]}`` a dict whose keys are not all strings, or are not already in sorted
  order (canonical JSON sorts keys; insertion order is part of a Python dict's value), or whose only key
  would read as a tag;
- ``{"$tensor": name}`` (optimizer state only) a tensor stored next to the JSON.

Values that share or cycle through the same list/dict are not plain data (JSON would split the alias), and
nor is anything very large or deep: those go to the signed pickle, which keeps them faithfully.

Parquet layout: ``DataFrame.to_parquet(engine="pyarrow")`` (pandas metadata keeps index and dtypes); a Series
is stored as a one-column frame.  Only frames whose every dtype and label is known to round-trip exactly are
stored this way; anything else goes to the signed pickle.
"""

from __future__ import annotations

import importlib.util
import io
import json
import math
import sys
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

from ..canonical import canonical_bytes
from .formats_base import (
    Buffer,
    CheckpointError,
    Encoded,
    PathLike,
    check_size,
    is_path,
    one_line,
    read_writable,
)

TAGS = frozenset({"$tuple", "$float", "$dict", "$tensor"})
JSON_MAX_NODES = 100_000
JSON_MAX_DEPTH = 200
SERIES_COLUMN = "__repro_series__"
# Frames estimated under this size are converted at once (any surprise falls back to the signed pickle);
# bigger ones are converted by the writer thread, from a deep copy, to keep the foreground short.
PARQUET_EAGER_BYTES = 16 << 20


class NotPlain(Exception):
    """The value is not plain data (the message says what part is not)."""


def to_tagged(
    value: Any,
    *,
    leaf: Callable[[Any], Any] | None = None,
    max_nodes: int | None = JSON_MAX_NODES,
    max_bytes: int | None = None,
) -> Any:
    """The tagged JSON tree of ``value``: a fresh structure sharing nothing mutable with it."""
    seen: set[int] = set()
    budget = [0, 0]  # nodes, estimated bytes

    def walk(v: Any, depth: int) -> Any:
        budget[0] += 1
        if max_nodes is not None and budget[0] > max_nodes:
            raise NotPlain(f"more than {max_nodes} items")
        if depth > JSON_MAX_DEPTH:
            raise NotPlain(f"nesting deeper than {JSON_MAX_DEPTH}")
        kind = type(v)
        if v is None or kind is bool or kind is int:
            return v
        if kind is str:
            budget[1] += len(v)
            check_size(budget[1], max_bytes)
            return v
        if kind is float:
            return v if math.isfinite(v) else {"$float": float.hex(v)}  # "nan", "inf", "-inf"
        if kind is tuple:
            return {"$tuple": [walk(x, depth + 1) for x in v]}
        if kind is list or kind is dict:
            if id(v) in seen:
                raise NotPlain("a list or dict that appears twice (shared or cyclic)")
            seen.add(id(v))
            if kind is list:
                return [walk(x, depth + 1) for x in v]
            keys = list(v)
            if (
                all(type(k) is str for k in keys)
                and keys == sorted(keys)
                and not (len(keys) == 1 and keys[0] in TAGS)
            ):
                return {k: walk(v[k], depth + 1) for k in keys}
            return {"$dict": [[walk(k, depth + 1), walk(x, depth + 1)] for k, x in v.items()]}
        if leaf is not None:
            tagged = leaf(v)
            if tagged is not None:
                return tagged
        raise NotPlain(f"a {kind.__module__}.{kind.__qualname__}")

    return walk(value, 0)


def from_tagged(node: Any, *, leaf: Callable[[Any], Any] | None = None) -> Any:
    """Inverse of ``to_tagged``."""
    if isinstance(node, list):
        return [from_tagged(x, leaf=leaf) for x in node]
    if isinstance(node, dict):
        if len(node) == 1:
            ((tag, body),) = node.items()
            if tag == "$tuple":
                return tuple(from_tagged(x, leaf=leaf) for x in body)
            if tag == "$float":
                return float.fromhex(body)
            if tag == "$dict":
                return {from_tagged(k, leaf=leaf): from_tagged(v, leaf=leaf) for k, v in body}
            if tag == "$tensor":
                if leaf is None:
                    raise CheckpointError(
                        "malformed JSON checkpoint (a tensor reference outside a tensor file)"
                    )
                return leaf(body)
        return {k: from_tagged(v, leaf=leaf) for k, v in node.items()}
    return node


def encode_json(value: Any, max_bytes: int | None) -> Encoded | None:
    """Plain data as canonical JSON (tuples, non-finite floats and non-string dict keys tagged);
    None when the value is not plain, so the signed pickle takes it; TooLarge over ``max_bytes``."""
    try:
        data = canonical_bytes(to_tagged(value, max_bytes=max_bytes))
    except (NotPlain, ValueError, UnicodeEncodeError, RecursionError):
        return None  # huge ints, lone surrogates, ...: the signed pickle keeps them
    check_size(len(data), max_bytes)
    return Encoded("json", {"type": type(value).__name__}, [data])


def decode_json(meta: dict[str, Any], data: Buffer | PathLike) -> Any:
    """The value ``encode_json`` stored (tuples, non-finite floats and
    non-string keys rebuilt from their tags); CheckpointError when malformed."""
    try:
        return from_tagged(json.loads(bytes(read_writable(data))))
    except (ValueError, TypeError, AttributeError):
        raise CheckpointError("malformed JSON checkpoint") from None


# -- pandas -----------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def parquet_available() -> bool:
    """pyarrow is installed and new enough to refuse pickled extension types (CVE-2023-47248, 14.0.1)."""
    if importlib.util.find_spec("pyarrow") is None:
        return False
    from importlib.metadata import PackageNotFoundError, version

    try:
        parts = tuple(int(p) for p in version("pyarrow").split(".")[:3] if p.isdigit())
    except PackageNotFoundError:
        return False
    return parts >= (14, 0, 1)


def _dtype_ok(pd: Any, np: Any, dtype: Any) -> bool:
    if isinstance(dtype, np.dtype):
        if dtype.kind in "Mm":
            return np.datetime_data(dtype)[0] in ("ms", "us", "ns")
        return dtype.kind in "biu" or (dtype.kind == "f" and dtype.itemsize in (4, 8))
    if isinstance(dtype, pd.CategoricalDtype):
        # string categories only: integer categories come back from Parquet as a plain int64 column
        return isinstance(dtype.categories.dtype, pd.StringDtype)
    if isinstance(dtype, pd.DatetimeTZDtype):
        return dtype.unit in ("ms", "us", "ns")
    masked: tuple[type, ...] = (pd.BooleanDtype, pd.StringDtype, pd.Float32Dtype, pd.Float64Dtype)
    masked += (pd.Int8Dtype, pd.Int16Dtype)
    masked += (pd.Int32Dtype, pd.Int64Dtype, pd.UInt8Dtype, pd.UInt16Dtype, pd.UInt32Dtype, pd.UInt64Dtype)
    return isinstance(dtype, masked)


def _label_ok(label: Any) -> bool:
    return label is None or type(label) is str


def _index_ok(pd: Any, np: Any, index: Any) -> bool:
    if type(index) is pd.RangeIndex:
        return _label_ok(index.name)
    if isinstance(index, pd.MultiIndex):
        names = [n for n in index.names if n is not None]
        return (
            len(set(names)) == len(names)
            and all(_label_ok(n) for n in index.names)
            and all(_dtype_ok(pd, np, level.dtype) for level in index.levels)
        )
    return type(index) in (pd.Index, pd.DatetimeIndex, pd.TimedeltaIndex, pd.CategoricalIndex) and (
        _label_ok(index.name) and _dtype_ok(pd, np, index.dtype)
    )


def frame_problem(pd: Any, np: Any, frame: Any) -> str | None:
    """Why ``frame`` would not round-trip exactly through Parquet (None: it will)."""
    columns = frame.columns
    if frame.attrs or not frame.flags.allows_duplicate_labels:
        return "attrs or flags"
    if type(columns) not in (pd.Index, pd.RangeIndex) or not columns.is_unique or not _label_ok(columns.name):
        return "column labels"
    if len(columns) and (
        not all(type(c) is str for c in columns) or columns.dtype != pd.Index(list(columns)).dtype
    ):
        return "column labels are not plain strings"
    if not _index_ok(pd, np, frame.index):
        return "index"
    index_names = {n for n in frame.index.names if n is not None}
    if index_names & set(columns) or SERIES_COLUMN in index_names:
        return "an index level named like a column"
    if not all(_dtype_ok(pd, np, d) for d in frame.dtypes):
        return "dtypes"
    return None


def own_import(module: str) -> None:
    """A library the tool imported for its own work is not the notebook's: keep it out of the environment.

    (Otherwise every cell after the first checkpointed frame would list pyarrow, and a re-run that
    checkpoints nothing would record another environment.)
    """
    from ..environment.gpu import PROBE_MODULES

    PROBE_MODULES.add(module)


def encode_pandas(value: Any, max_bytes: int | None) -> Encoded | None:
    """A pandas DataFrame or Series as Parquet (produced later, in the writer thread, above
    ``PARQUET_EAGER_BYTES``); None when pandas is not imported, pyarrow is missing or the frame
    would not round-trip, so the signed pickle takes it."""
    pd = sys.modules.get("pandas")
    if pd is None or type(value) not in (pd.DataFrame, pd.Series) or not parquet_available():
        return None
    fresh = "pyarrow" not in sys.modules  # pandas 2 imports it only on demand (pandas 3 on import)
    np = sys.modules["numpy"]  # pandas imported it; looked up, never imported here

    series = type(value) is pd.Series
    if series:
        if not (value.name is None or type(value.name) in (str, int, float, bool)):
            return None
        frame = value.to_frame(name=SERIES_COLUMN)
    else:
        frame = value
    if frame_problem(pd, np, frame) is not None:
        return None
    estimate = int(frame.memory_usage(index=True, deep=False).sum())
    check_size(estimate, max_bytes)
    meta: dict[str, Any] = {"kind": "Series" if series else "DataFrame", "shape": list(value.shape)}
    if series:
        meta["name"] = to_tagged(value.name)
    freq = getattr(frame.index, "freq", None)
    if freq is not None:
        meta["index_freq"] = frame.index.freqstr
    snapshot = frame.copy(deep=True)

    def to_parquet() -> list[Buffer]:
        sink = io.BytesIO()
        snapshot.to_parquet(sink, engine="pyarrow")
        if fresh:
            own_import("pyarrow")
        return [sink.getbuffer()]

    def to_parquet_later() -> list[Buffer]:
        try:
            return to_parquet()
        except Exception as exc:  # too late to choose the pickle: the writer reports it as a failed write
            raise CheckpointError(f"cannot convert the frame to Parquet: {one_line(exc)}") from None

    if estimate <= PARQUET_EAGER_BYTES:
        try:
            parts = to_parquet()
        except Exception:  # pyarrow refused something the checks let through: the signed pickle keeps it
            return None
        check_size(memoryview(parts[0]).nbytes, max_bytes)
        return Encoded("parquet", meta, parts, text=lambda: frame_text(pd, snapshot))
    return Encoded("parquet", meta, _deferred=to_parquet_later, text=lambda: frame_text(pd, snapshot))


TEXT_BATCH = 65_536  # values per scanned chunk: a chunk stays a few MB, a secret never straddles one badly


def frame_text(pd: Any, frame: Any) -> Iterator[bytes]:
    """Every label and every text-bearing value of ``frame`` as UTF-8 chunks: what the secret scan reads
    instead of the Parquet bytes (compressed, so a key can be split by a back-reference, and written
    later for big frames).  Categories are read whole, used or not (Parquet keeps every one); index
    levels too; numeric and datetime columns cannot carry text and are not read."""
    yield "\n".join(map(str, [*frame.columns, *frame.index.names, *frame.columns.names])).encode()
    index = frame.index
    levels = list(index.levels) if isinstance(index, pd.MultiIndex) else [index]
    columns = [level.to_series() for level in levels] + [frame.iloc[:, i] for i in range(frame.shape[1])]
    for column in columns:
        dtype = column.dtype
        if isinstance(dtype, pd.CategoricalDtype):
            column = pd.Series(dtype.categories)
        elif pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_datetime64_any_dtype(dtype):
            continue
        values = column.array
        for start in range(0, len(values), TEXT_BATCH):
            yield "\n".join(map(str, values[start : start + TEXT_BATCH])).encode("utf-8", "surrogatepass")


def decode_pandas(meta: dict[str, Any], data: Buffer | PathLike) -> Any:
    """The DataFrame or Series ``encode_pandas`` stored, with its index frequency and series
    name; CheckpointError when pandas/pyarrow are missing or the file is malformed."""
    try:
        import pandas as pd
    except ImportError:
        raise CheckpointError("restoring a Parquet checkpoint needs pandas, which is not installed") from None
    if not parquet_available():
        raise CheckpointError("restoring a Parquet checkpoint needs pyarrow>=14.0.1 (pip install pyarrow)")
    source = data if is_path(data) else io.BytesIO(memoryview(data))
    try:
        frame = pd.read_parquet(source, engine="pyarrow")
    except (OSError, ValueError) as exc:
        raise CheckpointError(
            f"malformed Parquet checkpoint ({str(exc).splitlines()[0] if str(exc) else exc})"
        ) from None
    if meta.get("index_freq"):
        frame.index = type(frame.index)(frame.index, freq=meta["index_freq"])
    if meta.get("kind") == "Series":
        if SERIES_COLUMN not in frame.columns:
            raise CheckpointError("malformed Parquet checkpoint (no series column)")
        series = frame[SERIES_COLUMN]
        series.name = from_tagged(meta.get("name"))
        return series
    return frame
