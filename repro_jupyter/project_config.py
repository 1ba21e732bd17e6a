"""``[tool.repro-jupyter]`` of the nearest ``pyproject.toml``: one reader for every setting there.

Comparison options (rtol, atol, normalisers) and the team store URL live in the
project's own ``pyproject.toml``, so a repository carries its settings to CI and
to every teammate.  The nearest file above the notebook wins, as with ruff and pytest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]


def nearest_tool_config(directory: Path) -> tuple[dict[str, Any], Path] | None:
    """The ``[tool.repro-jupyter]`` table (``{}`` if absent) and its file's folder; None when there is
    no readable ``pyproject.toml`` above ``directory``."""
    for folder in [directory, *directory.parents]:
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            try:
                data = tomllib.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                return None
            table = data.get("tool", {}).get("repro-jupyter", {})
            return (table if isinstance(table, dict) else {}), folder
    return None
