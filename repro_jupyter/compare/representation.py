"""Representation drift: the value is the same, the library prints it differently.

NumPy 2 prints ``np.int64(9)`` where NumPy 1 printed ``9``; pandas 3 prints
``dtype: str`` where pandas 2 printed ``dtype: object``; old IPython sorted dict
keys.  These rules map both spellings to one, so such cells count as benign
(the report still names the difference).  They are applied only when comparing,
never when digesting, and ``--strict-repr`` turns them off.
"""

from __future__ import annotations

import ast
import re

REPR_RULES: list[tuple[str, re.Pattern[str], str]] = [
    (
        "numpy2_scalar",
        re.compile(r"\bnp\.(?:u?int|float|complex|longdouble|clongdouble)\d*\(([^()]*)\)"),
        r"\1",
    ),
    ("numpy2_str", re.compile(r"\bnp\.(?:str_|bytes_)\(((?:'[^']*'|\"[^\"]*\"|b'[^']*'))\)"), r"\1"),
    # np.void(('Alice', 25, 55.0), dtype=[('name', '<U10'), ...]) printed ('Alice', 25, 55.) in NumPy 1
    (
        "numpy2_void",
        re.compile(
            r"\bnp\.void\((\([^()]*\)), dtype=\[(?:\('[^']*', '[^']*'(?:, \([^()]*\))?\)(?:, )?)*\]\)"
        ),
        r"\1",
    ),
    ("numpy2_bool", re.compile(r"\bnp\.(True|False)_\b"), r"\1"),
    ("numpy2_bool_call", re.compile(r"\bnp\.bool_?\((True|False)\)"), r"\1"),
    ("pandas3_str_dtype", re.compile(r"\bdtype: (?:str|object|string)\b"), "dtype: <text>"),
    ("pandas3_str_dtype_arg", re.compile(r"dtype='(?:str|object|string)'"), "dtype='<text>'"),
    ("pandas_module_path", re.compile(r"\bpandas\.core\.[\w.]+\.(\w+)"), r"pandas.\1"),
    ("pandas_int64index", re.compile(r"\b(?:Int64|UInt64|Float64|Range)?Index\("), "Index("),
    ("micro_sign", re.compile("\u00b5"), "\u03bc"),
]


def normalize_repr(text: str) -> str:
    """Rewrite library-version spellings (NumPy 2 scalars, pandas 3 dtypes,
    ...) to one form, for comparing only; never applied to what is digested."""
    for _name, pattern, replacement in REPR_RULES:
        text = pattern.sub(replacement, text)
    return text


def same_literal_value(old: str, new: str) -> bool:
    """Both texts are Python literals with equal values (e.g. dict keys in another order)."""
    old, new = old.strip(), new.strip()
    if not old or not new or len(old) > 200_000:
        return False
    try:
        return bool(ast.literal_eval(old) == ast.literal_eval(new))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False
