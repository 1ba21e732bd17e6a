"""``pytest --repro``: every code cell of every collected notebook is a test.

Each notebook is re-executed once, in a fresh kernel, by :func:`repro_jupyter.verify.verify_notebook`;
its cells then pass (same, benign, within tolerance), fail (drift, error) or skip (tagged
``repro-skip`` / ``nbval-skip``) from that one drift report.  The items live in
:mod:`repro_jupyter.pytest_items`; this module holds the options and the collection hook.

Options (``--repro-rtol 1e-4`` on the command line, or ``repro_rtol = 1e-4`` under
``[tool.pytest.ini_options]``; the command line wins)::

    --repro               collect *.ipynb files (ini: repro = true)
    --repro-rtol FLOAT    relative tolerance for numbers in outputs
    --repro-atol FLOAT    absolute tolerance for numbers in outputs
    --repro-timeout SEC   per-cell timeout
    --repro-kernel NAME   kernel to run the notebooks in (default: each notebook's own)
    --repro-runs N        run each notebook N times to tell flaky cells from regressions
    --repro-strict-repr   count representation changes (np.int64(9) vs 9) as drift

Parallel runs (pytest-xdist): a notebook must keep all its cells on one worker, or it is executed once
on each worker that gets some of them (the results are still right, the time is not).  Use
``pytest --repro -n 4 --dist loadfile`` (a notebook is one file) or ``--dist loadgroup`` (every cell item
carries ``xdist_group(name=<notebook>)``).  Every kernel picks its own free ports, so workers never clash.
``loadgroup`` does not group with pytest 9.2 and pytest-xdist <= 3.8 (pytest-dev/pytest-xdist#1386);
the plugin warns when it sees that happen.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

from .compare.rules import CompareOptions
from .pytest_items import OPTIONS_KEY, ReproCellItem, ReproNotebook
from .verify import VerifyOptions

# (name, type, help); each is both --repro-x and the ini option repro_x.
OPTIONS: tuple[tuple[str, type, str], ...] = (
    ("rtol", float, f"relative tolerance for numbers in outputs (default {CompareOptions.rtol:g})"),
    ("atol", float, f"absolute tolerance for numbers in outputs (default {CompareOptions.atol:g})"),
    ("timeout", int, f"per-cell timeout in seconds (default {VerifyOptions.timeout})"),
    ("kernel", str, "kernel name to run notebooks in (default: each notebook's kernelspec)"),
    ("runs", int, "run each notebook N times to separate flaky cells from regressions (default 1)"),
    ("strict_repr", bool, "count representation changes (np.int64(9) vs 9, dtype) as drift"),
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("repro", "notebook reproducibility (repro-jupyter)")
    group.addoption(
        "--repro", action="store_true", default=None, help="collect *.ipynb files and verify each code cell"
    )
    parser.addini("repro", "collect *.ipynb files and verify each code cell", type="bool", default=False)
    for name, kind, help_text in OPTIONS:
        flag = "--repro-" + name.replace("_", "-")
        if kind is bool:
            group.addoption(flag, action="store_true", default=None, dest=f"repro_{name}", help=help_text)
            parser.addini(f"repro_{name}", help_text, type="bool", default=False)
        else:
            metavar = {float: "FLOAT", int: "N", str: "NAME"}[kind]
            group.addoption(flag, default=None, dest=f"repro_{name}", metavar=metavar, help=help_text)
            parser.addini(f"repro_{name}", help_text, default=None)


def _setting(config: pytest.Config, name: str, kind: type) -> Any:
    """The command-line value, else the ini value, converted to ``kind``; None when neither is set."""
    value = config.getoption(f"repro_{name}", None)
    if value is None:
        value = config.getini(f"repro_{name}")
        if kind is bool:
            return bool(value)
        if value in (None, ""):
            return None
    if kind is bool:
        return bool(value)
    try:
        converted = kind(str(value).strip())
    except ValueError:
        flag = "--repro-" + name.replace("_", "-")
        raise pytest.UsageError(f"{flag} / repro_{name}: expected {kind.__name__}, got {value!r}") from None
    if kind in (int, float) and converted < 0:
        raise pytest.UsageError(f"--repro-{name.replace('_', '-')} must not be negative, got {value!r}")
    return converted


def verify_options(config: pytest.Config) -> VerifyOptions:
    """The engine's options from the command line and the ini file, validated once at startup."""
    values = {name: _setting(config, name, kind) for name, kind, _ in OPTIONS}
    compare = CompareOptions(
        rtol=CompareOptions.rtol if values["rtol"] is None else values["rtol"],
        atol=CompareOptions.atol if values["atol"] is None else values["atol"],
        representation_is_benign=not values["strict_repr"],
    )
    return VerifyOptions(
        compare=compare,
        timeout=VerifyOptions.timeout if values["timeout"] is None else values["timeout"],
        kernel=values["kernel"] or None,
        runs=max(1, values["runs"] or 1),
        # tolerances set for pytest win over [tool.repro-jupyter] next to a notebook
        explicit=frozenset(k for k in ("rtol", "atol") if values[k] is not None),
    )


def collection_enabled(config: pytest.Config) -> bool:
    """Whether notebooks are collected: ``--repro``/``--no-repro`` if given, else the ``repro`` ini option."""
    flag = config.getoption("repro", None)
    return bool(flag) if flag is not None else bool(config.getini("repro"))


def pytest_configure(config: pytest.Config) -> None:
    # Registered here too so that --strict-markers works without pytest-xdist installed.
    config.addinivalue_line("markers", "xdist_group(name): run these tests on one pytest-xdist worker")
    if not collection_enabled(config):
        return
    config.stash[OPTIONS_KEY] = verify_options(config)
    is_controller = not hasattr(config, "workerinput")
    numprocesses = getattr(config.option, "numprocesses", None)
    dist = getattr(config.option, "dist", "no")
    if is_controller and numprocesses and dist in ("load", "worksteal"):
        config.issue_config_time_warning(
            pytest.PytestConfigWarning(
                f"repro: --dist {dist} may split a notebook's cells over several workers, so the notebook "
                "runs once on each; use --dist loadfile (or loadgroup)"
            ),
            stacklevel=2,
        )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On an xdist worker under --dist loadgroup, xdist has (after its own hook) suffixed grouped node
    ids with ``@group``; when it could not (pytest-dev/pytest-xdist#1386), say so instead of silently
    running each notebook on several workers."""
    if not getattr(config.option, "loadgroup", False):
        return
    ours = [item for item in items if isinstance(item, ReproCellItem)]
    if ours and not any("@" in item.nodeid for item in ours):
        warnings.warn(
            pytest.PytestWarning(
                "repro: this pytest-xdist does not apply xdist_group with this pytest (pytest-xdist#1386), "
                "so --dist loadgroup runs a notebook once per worker; use --dist loadfile"
            ),
            stacklevel=1,
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Skips are reported at the notebook (``nb.ipynb: cell 3: skipped by tag``), not at the line of
    the plugin that called ``pytest.skip``."""
    report = yield
    if isinstance(item, ReproCellItem) and report.skipped and isinstance(report.longrepr, tuple):
        report.longrepr = (str(item.path), None, report.longrepr[2])
    return report


def _hidden(file_path: Path, rootpath: Path) -> bool:
    """Checkpoints, dot-files and the verifier's own temporary copies (``.nb.verify-PID.ipynb``)."""
    try:
        parts = file_path.relative_to(rootpath).parts
    except ValueError:
        parts = (file_path.name,)
    return any(part.startswith(".") for part in parts)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> ReproNotebook | None:
    if file_path.suffix != ".ipynb" or not collection_enabled(parent.config):
        return None
    if _hidden(file_path, parent.config.rootpath):
        return None
    notebook: ReproNotebook = ReproNotebook.from_parent(parent, path=file_path)
    return notebook


__all__ = ["ReproNotebook", "ReproCellItem", "verify_options", "collection_enabled"]
