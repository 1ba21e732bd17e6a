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


def _url(value: str) -> bool:
    return value.startswith(("http://", "https://", "file://"))


def explain_sources(directory: Path) -> tuple[tuple[str, ...], str | None]:
    """Where ``explain`` (the Lab's "Find the cause") takes the recorded versions from:
    ``explain-find-links`` (a folder or URL, or a list of them; folders relative to the
    ``pyproject.toml``) and ``explain-index-url`` (an http(s) or file URL).  ``((), None)``
    when neither is set (uv's default index).  A wrong type, a URL scheme we do not pass to
    uv or a folder that does not exist is one ``UsageError`` naming the file and the key:
    a wheelhouse silently dropped would send trials to PyPI instead."""
    found = nearest_tool_config(directory)
    if not found or not found[0]:
        return (), None
    conf, folder = found
    where = f"{folder / 'pyproject.toml'} [tool.repro-jupyter]"
    links = conf.get("explain-find-links", [])
    if isinstance(links, str):
        links = [links]
    if not isinstance(links, list) or not all(isinstance(x, str) and x.strip() for x in links):
        raise UsageError(
            f"{where}: explain-find-links must be a folder or URL, or a list of them, not {repr(links)[:60]}"
        )
    resolved = []
    for link in links:
        if "://" in link:
            if not _url(link):
                raise UsageError(f"{where}: explain-find-links: {link[:200]!r} is not an http(s) or file URL")
            resolved.append(link)
            continue
        path = (folder / Path(link).expanduser()).resolve()
        if not path.is_dir():
            raise UsageError(
                f"{where}: explain-find-links: {link[:200]} is not a folder (relative to {folder})"
            )
        resolved.append(str(path))
    index = conf.get("explain-index-url")
    if index is not None and (not isinstance(index, str) or not _url(index)):
        raise UsageError(f"{where}: explain-index-url must be an http(s) or file URL, not {repr(index)[:60]}")
    return tuple(resolved), index
