"""``[tool.repro-jupyter]`` of the nearest ``pyproject.toml``: one reader for every setting there.

Comparison options (rtol, atol, normalisers) and the team store URL live in the
project's own ``pyproject.toml``, so a repository carries its settings to CI and
to every teammate.  The nearest file above the notebook wins, as with ruff and pytest.
A file that is not valid TOML, or whose ``[tool.repro-jupyter]`` is not a table, is a
``UsageError`` (one line naming the file and the place): settings silently ignored
would make a run or a verification do something else than the project asked for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import UsageError

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]


def nearest_tool_config(directory: Path) -> tuple[dict[str, Any], Path] | None:
    """The ``[tool.repro-jupyter]`` table (``{}`` if absent) and its file's folder; None when there is
    no ``pyproject.toml`` above ``directory``; ``UsageError`` when the nearest one is broken."""
    for folder in [directory, *directory.parents]:
        candidate = folder / "pyproject.toml"
        try:
            found = candidate.is_file()
        except OSError:  # a name too long for the file system, a folder we may not enter: none here
            found = False
        if found:
            try:
                data = tomllib.loads(candidate.read_text(encoding="utf-8"))
            except OSError as exc:
                raise UsageError(f"cannot read {candidate}: {exc.strerror or exc}") from None
            except UnicodeDecodeError:
                raise UsageError(f"{candidate} is not UTF-8 text") from None
            except tomllib.TOMLDecodeError as exc:
                raise UsageError(f"{candidate} is not valid TOML: {' '.join(str(exc).split())}") from None
            tool = data.get("tool", {})
            if not isinstance(tool, dict):
                raise UsageError(f"{candidate}: 'tool' must be a table, not {type(tool).__name__}")
            table = tool.get("repro-jupyter", {})
            if not isinstance(table, dict):
                raise UsageError(
                    f"{candidate}: [tool.repro-jupyter] must be a table, not {type(table).__name__}"
                )
            return table, folder
    return None
