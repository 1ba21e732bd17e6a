"""pandas frames, series, indexes, categoricals and extension arrays, by value.

Values are hashed with ``pandas.util.hash_pandas_object`` (vectorised, a fixed key, so the same in every
process); labels, names and dtypes go into the header.  Object columns that are not all strings are hashed
element by element through the walker, because ``hash_pandas_object`` turns mixed objects into their
``str`` (``1`` and ``"1"`` would collide) and refuses unhashable ones.

(The old version read ``getattr(value, "columns", [value.name])``, which evaluates ``value.name`` first: a
DataFrame has no ``name`` in pandas 3, so every frame was silently skipped and never compared.)
"""

from __future__ import annotations

from typing import Any

from .walk import Digest, Fingerprint, Kind, Walk, loaded

KINDS: list[Kind] = []  # (predicate on the type, handler), in priority order

_HASHABLE_OBJECTS = ("string", "bytes", "empty")


def _pd() -> Any:
    return loaded("pandas")


def _put_dtype(d: Digest, dtype: Any, walk: Walk) -> None:
    pd = _pd()
    if isinstance(dtype, pd.CategoricalDtype):
        d.raw("category", str(dtype.ordered))
        if dtype.categories is not None:
            _put_index(d, dtype.categories, walk)
        return
    d.raw(dtype.str if type(dtype).__module__ == "numpy" else repr(dtype))


def _put_values(d: Digest, values: Any, walk: Walk) -> None:
    """One column's values (an ndarray or an ExtensionArray), labels excluded."""
    pd = _pd()
    if isinstance(values, pd.Categorical):
        _put_dtype(d, values.dtype, walk)
        d.add(walk.child(values.codes))
        return
    if getattr(values.dtype, "kind", "") == "O":
        if pd.api.types.infer_dtype(values, skipna=False) not in _HASHABLE_OBJECTS:
            np = loaded("numpy")
            d.add(walk.child(np.asarray(values, dtype=object)))
            return
    hashed = pd.util.hash_array(values)
    d.raw(memoryview(hashed).cast("B") if hashed.nbytes else b"")


def _put_index(d: Digest, index: Any, walk: Walk) -> None:
    pd = _pd()
    d.raw("index", str(len(index)), repr([None if n is None else str(n) for n in index.names]))
    if isinstance(index, pd.MultiIndex):
        levels = [index.get_level_values(i) for i in range(index.nlevels)]
    else:
        levels = [index]
    for level in levels:
        _put_dtype(d, level.dtype, walk)
        _put_values(d, level._values, walk)


def _frame(value: Any, walk: Walk) -> Fingerprint:
    d = Digest("pandas.DataFrame").raw(str(value.shape))
    _put_index(d, value.columns, walk)
    _put_index(d, value.index, walk)
    for i in range(value.shape[1]):
        column = value.iloc[:, i]
        _put_dtype(d, column.dtype, walk)
        _put_values(d, column._values, walk)
    size = int(value.memory_usage(index=False, deep=False).sum()) + _index_bytes(value.index)
    return d.result(value, size=size, shape=list(value.shape))


def _series(value: Any, walk: Walk) -> Fingerprint:
    d = Digest("pandas.Series").raw(str(value.shape)).add(walk.child(value.name))
    _put_index(d, value.index, walk)
    _put_dtype(d, value.dtype, walk)
    _put_values(d, value._values, walk)
    size = int(value.memory_usage(index=False, deep=False)) + _index_bytes(value.index)
    return d.result(value, size=size, shape=list(value.shape), dtype=str(value.dtype))


def _index(value: Any, walk: Walk) -> Fingerprint:
    d = Digest("pandas.Index")
    _put_index(d, value, walk)
    return d.result(value, size=_index_bytes(value), shape=[len(value)], dtype=str(value.dtype))


def _index_bytes(index: Any) -> int:
    """The index's data only: ``memory_usage`` adds the lookup hash table once pandas has built it
    (after ``.tail()``, ``.loc``), so the same value would record another size, and another digest."""
    try:
        return int(index.nbytes)
    except Exception:
        return 0


def _array(value: Any, walk: Walk) -> Fingerprint:
    """Categorical and other extension arrays (``pd.array``): dtype and values."""
    d = Digest("pandas.array").raw(str(len(value)))
    _put_dtype(d, value.dtype, walk)
    _put_values(d, value, walk)
    return d.result(value, size=int(value.nbytes), shape=[len(value)], dtype=str(value.dtype))


def _is_pandas(name: str) -> Any:
    def predicate(t: type) -> bool:
        pd = _pd()
        if pd is None:
            return False
        base = pd.api.extensions.ExtensionArray if name == "ExtensionArray" else getattr(pd, name)
        return issubclass(t, base)

    return predicate


KINDS.append((_is_pandas("DataFrame"), _frame))
KINDS.append((_is_pandas("Series"), _series))
KINDS.append((_is_pandas("Index"), _index))
KINDS.append((_is_pandas("ExtensionArray"), _array))


def _is_pandas_scalar(t: type) -> bool:
    pd = _pd()
    if pd is None:
        return False
    return issubclass(t, (pd.Period, pd.Interval, pd.DateOffset, type(pd.NA), type(pd.NaT)))


def _pandas_scalar(value: Any, walk: Walk) -> Fingerprint:
    from .kinds_builtin import repr_value

    return repr_value(value, walk)


KINDS.append((_is_pandas_scalar, _pandas_scalar))
