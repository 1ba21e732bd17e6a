"""``%repro status`` for frontends without our lab extension (VS Code, classic Notebook): a small widget."""

from __future__ import annotations

from typing import Any

from .recorder import RecordingSession


def in_kernel(shell: Any) -> bool:
    """Whether ``shell`` is a Jupyter kernel's shell (ZMQ),
    where a widget can be displayed; not a terminal IPython."""
    return type(shell).__name__ == "ZMQInteractiveShell"


def show_status_widget(lines: list[str], session: RecordingSession) -> None:
    """Frontends without our lab extension (VS Code, classic) get the provenance as a small widget."""
    try:
        import ipywidgets as widgets
        from IPython.display import display
    except ImportError:
        return
    import html

    rows = "".join(
        f"<tr><th style='text-align:left;padding-right:1em'>{html.escape(k)}</th>"
        f"<td>{html.escape(v)}</td></tr>"
        for k, _, v in (line.partition(": ") for line in lines)
    )
    recorded = "".join(
        f"<li><code>{html.escape(key[:12])}</code> seed {meta['seed']} · {meta['status']}"
        f"{' · nondeterministic' if meta.get('nondeterministic') else ''}</li>"
        for key, meta in list(session.cell_metadata.items())[-10:]
    )
    body = f"<b>repro-jupyter</b><table>{rows}</table>" + (f"<ul>{recorded}</ul>" if recorded else "")
    display(widgets.VBox([widgets.HTML(value=body)]))
