"""Lineage: which cell execution wrote which variable, and which cells read it.

Built from what was recorded: a cell *writes* a variable when the variable's
fingerprint after the cell differs from its fingerprint after the previous
recorded cell (or it is new); a cell *reads* a variable when its code loads the
name and an earlier cell wrote it.  Each write is a new *version* of the variable
(``X`` v1 written by cell 3, v2 by cell 7), so a reader points at the version it saw.
Loop variables and ``_names`` are marked ``temporary``: the panel hides them unless asked.
Configuration cells (only ``%load_ext`` and ``%repro status|env|seed|on|off|state`` lines,
``magic_args.configuration_commands``) are left out: they hold no data flow, only settings.
``graph(path)`` is the Python API; ``jupyter repro lineage`` prints it as JSON or Graphviz dot;
the side panel draws it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .cell_source import source_changed, source_text
from .compare.upstream import loop_names, names_read
from .errors import ReproError
from .magic_args import is_configuration_cell
from .notebook_io import read_notebook
from .numbering import cell_label
from .redact import redact_text
from .schema import METADATA_KEY
from .state_chain import full_state, state_of
from .store import Store, open_store


def _state_after(
    store: Store | None, digest: str | None, record: dict[str, Any] | None, chain: list[Any]
) -> dict[str, Any]:
    """All live variables after the cell (records hold deltas); {} when unknown or unreadable."""
    if store is None or record is None or not digest or state_of(record) is None:
        return {}
    try:
        state = full_state(store, record, chain[-1] if chain else None)
    except ReproError:
        return {}
    chain[:] = [(digest, state)]
    return state


def _load_record(store: Store | None, meta: dict[str, Any]) -> dict[str, Any] | None:
    if store is None or not meta.get("record"):
        return None
    try:
        return store.objects.get_record(meta["record"])
    except ReproError:
        return None


def graph_from(nb: Any, store: Store | None) -> dict[str, Any]:
    """Nodes (cells, variables) and edges (writes, reads) for a notebook and its store."""
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    variables: dict[str, str] = {}  # name -> node id of its latest version
    previous: dict[str, str] = {}  # name -> fingerprint digest after the previous recorded cell
    versions: dict[str, int] = {}
    chain: list[tuple[str, dict[str, Any]]] = []  # the last state put together, to walk one step
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get(METADATA_KEY) or {}
        if not meta:
            continue
        source = source_text(cell)
        if is_configuration_cell(source):
            # older notebooks recorded them: keep the state chain in step, draw nothing
            record = _load_record(store, meta)
            state = _state_after(store, meta.get("record"), record, chain)
            if state:
                previous = {name: fp.get("digest") or fp.get("skipped", "") for name, fp in state.items()}
            continue
        cell_node = f"cell:{index}"
        stale = source_changed(source, meta.get("source"))
        nodes.append(
            {
                "id": cell_node,
                "kind": "cell",
                "label": f"{cell_label(index)}: "
                + redact_text((source.strip().splitlines() or [""])[0])[:40],
                "cell_index": index,
                "cell_id": cell.get("id"),
                "stale": stale,
            }
        )
        for name in sorted(names_read(source)):
            if name in variables:
                edges.append({"source": variables[name], "target": cell_node, "kind": "reads"})
        record = _load_record(store, meta)
        state = _state_after(store, meta.get("record"), record, chain)
        current = {name: fp.get("digest") or fp.get("skipped", "") for name, fp in state.items()}
        temporaries = loop_names(source)
        for name in sorted(current):
            if previous.get(name) != current[name]:
                versions[name] = versions.get(name, 0) + 1
                var_node = f"var:{name}:{versions[name]}"
                fp = state[name]
                nodes.append(
                    {
                        "id": var_node,
                        "kind": "variable",
                        "label": name,
                        "type": fp.get("type"),
                        "version": versions[name],
                        "fingerprint": fp.get("digest"),
                        "written_by": index,
                        "temporary": name in temporaries or name.startswith("_"),
                    }
                )
                edges.append({"source": cell_node, "target": var_node, "kind": "writes"})
                variables[name] = var_node
        previous = current or previous
    return {"nodes": nodes, "edges": edges}


def graph(notebook_path: str | os.PathLike[str]) -> dict[str, Any]:
    """The lineage graph of a recorded notebook on disk."""
    path = Path(notebook_path)
    nb = read_notebook(path)
    try:
        store = open_store(path.resolve().parent, create=False)
    except ReproError:
        store = None
    return graph_from(nb, store)


def to_dot(g: dict[str, Any]) -> str:
    """The lineage graph in Graphviz dot: cells as boxes, variables as
    ellipses, reads dotted, stale cells dashed; every id and label quoted."""
    lines = ["digraph lineage {", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    for node in g["nodes"]:
        shape = "box" if node["kind"] == "cell" else "ellipse"
        style = ", style=dashed" if node.get("stale") else ""
        lines.append(f"  {_dot_id(node['id'])} [shape={shape}, label={_dot_id(node['label'])}{style}];")
    for edge in g["edges"]:
        style = "" if edge["kind"] == "writes" else " [style=dotted]"
        lines.append(f"  {_dot_id(edge['source'])} -> {_dot_id(edge['target'])}{style};")
    lines.append("}")
    return "\n".join(lines)


def _dot_id(text: str) -> str:
    """A quoted Graphviz id: ids and labels come from the store (variable names), so nothing in them
    may end the quote or the line (a crafted name could add nodes with file-reading attributes)."""
    clean = "".join(c if c.isprintable() else " " for c in str(text))
    # DOT unescapes only \" in quoted strings: a trailing backslash would escape the closing quote
    return '"' + clean.replace("\\", "\u29f5").replace('"', '\\"') + '"'
