"""Per-cell control (tags and comments) and the comparison options.

Tags are ours (``repro-*``) and, so that notebooks written for nbval verify
unchanged, nbval's own tags and comment markers too.  ``CompareOptions`` is a
plain config object passed down (never module-global state), and can be read
from ``[tool.repro-jupyter]`` in a ``pyproject.toml`` next to the notebook.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .images import DEFAULT_SSIM_THRESHOLD
from .numeric import DEFAULT_ATOL, DEFAULT_RTOL

IGNORE_OUTPUT_TAGS = {"repro-ignore-output", "nbval-ignore-output"}
SKIP_TAGS = {"repro-skip", "nbval-skip", "skip-execution"}
RAISES_TAGS = {"repro-raises", "raises-exception", "nbval-raises-exception"}
IGNORE_COMMENT = re.compile(
    r"^\s*#\s*(NBVAL_IGNORE_OUTPUT|PYTEST_VALIDATE_IGNORE_OUTPUT|REPRO_IGNORE_OUTPUT)\b", re.M
)
# nbval: a comment marker wins over a tag (``# NBVAL_CHECK_OUTPUT`` in a cell tagged nbval-ignore-output)
CHECK_COMMENT = re.compile(r"^\s*#\s*(NBVAL_CHECK_OUTPUT|REPRO_CHECK_OUTPUT)\b", re.M)
SKIP_COMMENT = re.compile(r"^\s*#\s*(NBVAL_SKIP|REPRO_SKIP)\b", re.M)
RAISES_COMMENT = re.compile(r"^\s*#\s*(NBVAL_RAISES_EXCEPTION|REPRO_RAISES)\b", re.M)
# ``repro-rtol=`` sets the relative tolerance, ``repro-atol=`` the absolute one.  ``repro-tolerance=``
# is kept as an alias of ``repro-rtol=``: notebooks already carry it, and nbval users know ``tolerance``.
RTOL_TAG = re.compile(r"^repro-(?:rtol|tolerance)=(?P<value>[0-9.eE+-]+)$")
ATOL_TAG = re.compile(r"^repro-atol=(?P<value>[0-9.eE+-]+)$")


@dataclass(frozen=True)
class RunWindows:
    """When the runs being compared happened (epoch seconds, start and end).

    A date or time printed by a cell is noise only when it is the run's own clock: it falls
    inside the window of the run that printed it.  A date that is a computed value (a peak
    on 2024-01-28) falls outside both windows and is compared as text.  ``old`` is None when
    the recorded run's window is unknown (a notebook never recorded with repro-jupyter).
    """

    new: tuple[float, float] | None = None
    old: tuple[float, float] | None = None


@dataclass(frozen=True)
class CompareOptions:
    """How outputs are compared (tolerances, SSIM threshold, which changes count as
    benign): an immutable config passed down, from CLI flags and ``pyproject.toml``."""

    rtol: float = DEFAULT_RTOL
    atol: float = DEFAULT_ATOL
    ssim_threshold: float = DEFAULT_SSIM_THRESHOLD
    compare_state: bool = True
    stderr_is_benign: bool = True  # warnings text changes with library versions
    representation_is_benign: bool = True  # np.int64(9) vs 9, dtype: str vs object (--strict-repr)
    extra_rules: tuple[tuple[str, str, str], ...] = field(default_factory=tuple)  # (name, regex, repl)
    run_windows: RunWindows = field(default_factory=RunWindows)
    strict_state: bool = False  # an opaque variable's change alone is drift, not "unverified"
    # Agg output and HTML markup are deterministic in one rendering environment, so there images must
    # be pixel-equal and markup equal.  Perceptual tolerance (SSIM) and "same text, other markup" are
    # allowed only when the rendering libraries differ (or are unknown: a notebook never recorded) or
    # the user opts in (--ssim).
    renderers_differ: bool = False
    perceptual_images: bool = False

    def for_cell(self, control: CellControl) -> CompareOptions:
        """These options with a cell's ``repro-rtol=`` / ``repro-atol=``
        tags applied (unchanged when the cell has none)."""
        changes: dict[str, Any] = {}
        if control.rtol is not None:
            changes["rtol"] = control.rtol
        if control.atol is not None:
            changes["atol"] = control.atol
        return replace(self, **changes) if changes else self


@dataclass(frozen=True)
class CellControl:
    """What a cell's tags and comment markers (ours and nbval's) ask for: skip it,
    ignore its outputs, expect an error, or its own tolerances (None: the run's)."""

    skip: bool = False
    ignore_output: bool = False
    raises: bool = False
    rtol: float | None = None
    atol: float | None = None


def _tolerance(tag: str, text: str) -> float:
    """A tag's tolerance, or a one-line ``UsageError``: ``repro-rtol=1e-`` or ``=-1`` in a notebook is
    bad input, to be named, not a traceback (nor a negative tolerance that fails every number)."""
    from ..errors import UsageError

    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (0 <= value < float("inf")):  # also NaN
        raise UsageError(f"cell tag {tag!r}: the tolerance must be a finite number >= 0")
    return value


def cell_control(cell: Any) -> CellControl:
    """The cell's control from its tags and comment markers; two tolerance
    tags keep the tighter value; UsageError for a malformed tolerance tag."""
    tags = set(cell.get("metadata", {}).get("tags", []) or [])
    source = cell.get("source", "")
    if isinstance(source, list):
        source = "".join(source)
    # With two names for rtol a cell can carry both; the tighter value wins (whatever the tags'
    # order), so a second tag never loosens a comparison.
    rtols = [_tolerance(tag, m["value"]) for tag in tags if (m := RTOL_TAG.match(tag))]
    atols = [_tolerance(tag, m["value"]) for tag in tags if (m := ATOL_TAG.match(tag))]
    rtol = min(rtols) if rtols else None
    atol = min(atols) if atols else None
    return CellControl(
        skip=bool(tags & SKIP_TAGS) or bool(SKIP_COMMENT.search(source)),
        ignore_output=(bool(tags & IGNORE_OUTPUT_TAGS) and not CHECK_COMMENT.search(source))
        or bool(IGNORE_COMMENT.search(source)),
        raises=bool(tags & RAISES_TAGS) or bool(RAISES_COMMENT.search(source)),
        rtol=rtol,
        atol=atol,
    )


def options_from_pyproject(
    directory: Path, base: CompareOptions, explicit: frozenset[str] = frozenset()
) -> CompareOptions:
    """Read ``[tool.repro-jupyter]`` (rtol, atol, ssim-threshold, normalize = [{name, pattern, replace}]).

    Fields named in ``explicit`` were given on the command line and win over the file.  A value
    of the wrong type or out of range, or a pattern that does not compile, is a one-line
    ``UsageError`` naming the file and the key: a tolerance silently dropped changes verdicts.
    """
    from ..errors import UsageError
    from ..project_config import nearest_tool_config

    found = nearest_tool_config(directory)
    conf = found[0] if found else {}
    if not conf:
        return base
    where = f"{found[1] / 'pyproject.toml'} [tool.repro-jupyter]" if found else "[tool.repro-jupyter]"
    rules = _normalize_rules(conf.get("normalize", []), where)
    changes: dict[str, Any] = {"extra_rules": base.extra_rules + rules}
    for field_name, key in (("rtol", "rtol"), ("atol", "atol"), ("ssim_threshold", "ssim-threshold")):
        if key not in conf:
            continue
        value = conf[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise UsageError(f"{where}: {key} must be a number, not {_shown(value)}")
        value = float(value)
        ok = 0 < value <= 1 if key == "ssim-threshold" else value >= 0 and value != float("inf")
        if value != value or not ok:  # NaN, negative, infinite
            expected = "in (0, 1]" if key == "ssim-threshold" else "a finite number >= 0"
            raise UsageError(f"{where}: {key} must be {expected}, not {value}")
        if field_name not in explicit:
            changes[field_name] = value
    if "ssim-threshold" in conf:  # a project that sets a threshold opts in to perceptual tolerance
        changes["perceptual_images"] = True
    return replace(base, **changes)


def _shown(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _string_field(rule: dict[str, Any], key: str, default: str | None, entry: str) -> str:
    """``rule[key]`` (or ``default``), which must be a string: a regex rule is nothing else."""
    from ..errors import UsageError

    item = rule.get(key, default)
    if not isinstance(item, str):
        raise UsageError(f"{entry}.{key} must be a string, not {_shown(item)}")
    return item


def _normalize_rules(value: Any, where: str) -> tuple[tuple[str, str, str], ...]:
    """``normalize = [{name, pattern, replace}, ...]`` checked field by field; patterns compiled."""
    from ..errors import UsageError

    if not isinstance(value, list):
        raise UsageError(
            f"{where}: normalize must be a list of tables "
            f'([[tool.repro-jupyter.normalize]] name = "...", pattern = "..."), not {_shown(value)}'
        )
    rules = []
    for index, rule in enumerate(value):
        if not isinstance(rule, dict):
            raise UsageError(f"{where}: normalize[{index}] must be a table, not {_shown(rule)}")
        entry = f"{where}: normalize[{index}]"
        name = _string_field(rule, "name", f"rule {index}", entry)
        pattern = _string_field(rule, "pattern", None, entry)
        repl = _string_field(rule, "replace", "", entry)
        try:
            re.compile(pattern).sub(repl, "")  # a bad group reference in replace fails here too
        except (re.error, IndexError, ValueError, OverflowError, RecursionError) as exc:
            raise UsageError(
                f"{where}: normalize[{index}] ({_shown(name)}): bad regular expression: {exc}"
            ) from None
        rules.append((name, pattern, repl))
    return tuple(rules)
