"""Notebook files: read (upgraded, every cell with a stable id, repro metadata validated), atomic
write, and the write that refuses to overwrite a file changed under it.

Stream merging (``compare.normalize.coalesce_streams``) stays with the output normalisation the kernel
needs for its digests: the kernel must not import this module (nbformat and jsonschema: ~1.3 s more at
``%load_ext``; ``tests/test_notebook_io.py`` guards it).

One module, so the core (``headless``, ``verify``, ``explain``) never imports the CLI to save a notebook,
and every writer keeps the same two promises: a crash half way leaves the old file intact (temp file,
fsync, rename), and a file that changed on disk while a run executed (another run, an editor's save,
a ``git checkout``) is left as it is, with this run's result written beside it and named in a one-line
error (exit 2): no work is lost either way.  The lock (``flock`` on the folder, POSIX only) makes
check-and-replace one step for cooperating runs; it needs no lock file in the user's folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nbformat

from . import schema
from .atomic import temp_beside
from .errors import NotebookError
from .numbering import cell_label
from .schema import METADATA_KEY


def read_notebook(path: str | os.PathLike[str]) -> nbformat.NotebookNode:
    """Read and upgrade a notebook, turning every failure into one clear line."""
    try:
        with open(path, encoding="utf-8") as fh:
            nb = nbformat.reads(_without_repeated_ids(fh.read()), as_version=4)
    except FileNotFoundError:
        raise NotebookError(f"{path}: no such notebook") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise NotebookError(f"{path}: cannot read: {exc}") from None
    except Exception as exc:  # nbformat raises bare ValueErrors and NBFormatErrors for bad JSON
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise NotebookError(f"{path}: not a valid notebook: {first}") from None
    if nb.nbformat_minor < 5:  # cell ids appeared in 4.5: give every cell a stable one
        nb.nbformat_minor = 5
    taken: set[str] = set()
    for index, cell in enumerate(nb.cells):  # missing or repeated ids: stable new ones, in order
        if not cell.get("id") or cell["id"] in taken:
            cell["id"] = _stable_id(index, cell, taken)
        taken.add(cell["id"])
    check_repro_metadata(nb, Path(path))
    return nb


def _without_repeated_ids(text: str) -> str:
    """The file's text, or (when a cell id is missing or repeats) the same notebook with stable ids.

    nbformat's validation repairs missing and repeated ids of a 4.5+ notebook with random ones while
    it reads, so a copy-pasted cell would get another key on every read: stable ids are given here,
    before nbformat sees them (older notebooks have no ids: ``read_notebook`` adds them after).
    """
    try:
        raw = json.loads(text)
        cells = raw["cells"] if isinstance(raw, dict) and isinstance(raw.get("cells"), list) else []
        minor = raw.get("nbformat_minor", 0) if isinstance(raw, dict) else 0
    except (ValueError, RecursionError):
        return text  # nbformat says what is wrong with it
    if not isinstance(minor, int) or minor < 5 or not all(isinstance(c, dict) for c in cells):
        return text
    ids = [c.get("id") if isinstance(c.get("id"), str) and c.get("id") else None for c in cells]
    if None not in ids and len(set(ids)) == len(ids):
        return text
    taken: set[str] = set()
    for index, cell in enumerate(cells):
        if ids[index] is None or ids[index] in taken:
            cell["id"] = _stable_id(index, cell, taken | {i for i in ids if i})
        taken.add(cell["id"])
    return json.dumps(raw)


def check_repro_metadata(nb: Any, path: Path) -> dict[str, Any]:
    """The notebook's repro metadata, every cell's too, validated: a hand-edited or foreign file gets
    one line naming the cell and the field, never a traceback deep in the judge."""
    meta = nb.metadata.get(METADATA_KEY)
    if meta is None:
        meta = {}
    problems = schema.errors("notebookMetadata", meta) if meta else []
    if problems:
        raise NotebookError(
            f"{path.name}: notebook metadata '{METADATA_KEY}' is not valid: {problems[0][:200]}"
        )
    for index, cell in enumerate(nb.cells):
        cell_meta = cell.get("metadata", {}).get(METADATA_KEY)
        if cell_meta is None:
            continue
        problems = schema.errors("cellMetadata", cell_meta)
        if problems:
            raise NotebookError(
                f"{path.name}: {cell_label(index)} metadata '{METADATA_KEY}' is not valid: "
                f"{problems[0][:200]}"
            )
    return meta


def _stable_id(index: int, cell: Any, taken: set[str]) -> str:
    """A deterministic id for a cell that has none or repeats an earlier one (index + source), so
    re-runs agree (``nbformat.validator.normalize`` would repair with random ids: ours must be stable)."""
    n = 0
    while True:
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        material = f"{index}:{source}" + (f":{n}" if n else "")
        cid = hashlib.sha256(material.encode()).hexdigest()[:8]
        if cid not in taken:
            return cid
        n += 1


def write_notebook(nb: Any, path: Path) -> None:
    """Atomic write: the old file stays intact if anything fails half way."""
    path = path.resolve()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with temp_beside(path.parent, f".{path.name}.", ".tmp") as (fd, tmp):
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                nbformat.write(nb, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o644)
            os.replace(tmp, path)
    except OSError as exc:
        raise NotebookError(f"cannot write {path}: {exc.strerror or exc}") from None


FileState = tuple[int, int, str] | None  # (mtime_ns, size, sha256) or None: no file


def file_state(path: Path) -> FileState:
    """(mtime in ns, size, sha256) of the file as it is now, None
    when there is none; NotebookError when it cannot be read."""
    try:
        stat = os.stat(path)
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise NotebookError(f"cannot read {path}: {exc.strerror or exc}") from None
    return stat.st_mtime_ns, stat.st_size, digest


def changed(before: FileState, now: FileState) -> bool:
    """Content decides: a touched file with the same bytes is no conflict."""
    if before is None or now is None:
        return before != now
    return before[2] != now[2]


@contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive flock on ``folder`` for the block, so checking and writing a
    notebook is atomic against our other writers; a no-op where flock is unavailable."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: the state check alone
        yield
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def side_file(path: Path) -> Path:
    """A free ``NB.repro-conflict-<time>.ipynb`` name beside ``path`` for a
    result that must not overwrite it; NotebookError after 1000 taken names."""
    stamp = time.strftime("%Y%m%dT%H%M%S")
    for n in range(1000):
        suffix = f"-{n}" if n else ""
        candidate = path.with_name(f"{path.stem}.repro-conflict-{stamp}{suffix}{path.suffix or '.ipynb'}")
        if not candidate.exists():
            return candidate
    raise NotebookError(f"cannot name a conflict file beside {path}")


def write_unless_changed(
    nb: Any, output: Path, before: FileState, write: Callable[[Any, Path], None]
) -> None:
    """``write(nb, output)`` if ``output`` is as it was when the run read it; else keep the file on
    disk, write ``nb`` to a side file and say so (``NotebookError``, exit 2)."""
    folder = output.resolve().parent
    folder.mkdir(parents=True, exist_ok=True)
    with folder_lock(folder):
        if not changed(before, file_state(output)):
            write(nb, output)
            return
        side = side_file(output)
        write(nb, side)
    raise NotebookError(
        f"{output} changed on disk while this run executed (another run or an editor saved it): "
        f"it was left as it is; this run's result is in {side}"
    )
