"""What a recorded notebook run becomes in MLflow, as plain data (no MLflow needed).

``build_plan`` reads the notebook, its store records and environment and returns a
``RunPlan``: params (hyperparameters, master and per-cell seeds), tags (git, notebook
path, environment digest, versions), metrics (cell durations from the run log),
artifacts (environment JSON, requirements.txt, provenance, the notebook, chosen
checkpoints) and dataset inputs (declared and opened files by digest).  Keeping it
apart from the code that talks to MLflow lets tests check every value, and every
limit MLflow puts on keys and values, without a tracking server.  Every string in
the plan has passed the export scrubber; ``check_clean`` proves it before logging.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from .. import __version__
from ..cell_source import source_changed, source_text
from ..environment.export import requirements
from ..errors import ExportError, ReproError
from ..redact import redact_value
from .checkpoints import CheckpointFile, find_checkpoints, manifest
from .recorded import Recorded as _Recorded
from .recorded import load_recorded as _load
from .recorded import relative_to
from .scrub import Scrubber

# MLflow's limits (mlflow/utils/validation.py)
MAX_KEY = 250
MAX_PARAM_VALUE = 6000
MAX_TAG_VALUE = 8000
MAX_DATASET_NAME = 500
MAX_DATASET_DIGEST = 36
MAX_INPUT_TAG_VALUE = 500
# the characters MLflow accepts in keys on every platform (a colon is refused on Windows)
_BAD_KEY_CHARS = re.compile(r"[^\w.\- ]")
_FLATTEN_DEPTH = 4
# base64 images are binary, not text: scrubbing them could only corrupt them
_BINARY_MIMETYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp"})


@dataclass
class Artifact:
    """One file to log: in-memory ``data`` or a verified store object at
    ``source``, under a POSIX ``path`` in the run's artifact root."""

    path: str  # POSIX path inside the run's artifact root
    data: bytes | None = None
    source: Path | None = None  # a verified store object, copied byte for byte


@dataclass
class DatasetRef:
    """An MLflow dataset input by name, digest and source: the data itself is never read."""

    name: str
    digest: str
    source_type: str
    source: str
    profile: str
    context: str
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class Metric:
    """One metric value at an epoch time in milliseconds and a step."""

    key: str
    value: float
    timestamp_ms: int
    step: int = 0


@dataclass
class RunPlan:
    """Everything one MLflow run will hold, built and checked before anything
    is sent (plain data, no MLflow import); ``notes`` say what was left out."""

    run_name: str
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: list[Metric] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    datasets: list[DatasetRef] = field(default_factory=list)
    start_time_ms: int | None = None
    end_time_ms: int | None = None
    notes: list[str] = field(default_factory=list)  # what was left out, for the user


def mlflow_key(key: str) -> str:
    """A key MLflow accepts: portable characters, not a path that normalises to another, ≤ 250 chars."""
    clean = _BAD_KEY_CHARS.sub("_", key).strip() or "_"
    if posixpath.normpath(clean) != clean or clean.startswith(".."):
        clean = "_" + clean
    if len(clean) > MAX_KEY:
        clean = clean[: MAX_KEY - 17] + "." + hashlib.sha256(key.encode()).hexdigest()[:16]
    return clean


def _text(value: Any, limit: int) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    if len(text) > limit:
        marker = "...(truncated)"
        text = text[: limit - len(marker)] + marker
    return text


def _param_leaves(params: dict[str, Any], prefix: str = "", depth: int = 0) -> list[tuple[str, Any]]:
    """Nested dicts become dotted keys (``config.lr``); markers from ``params.param_value`` unwrap."""
    out: list[tuple[str, Any]] = []
    for name, value in params.items():
        key = f"{prefix}{name}"
        value = redact_value(str(name), value)
        if isinstance(value, dict) and set(value) == {"missing"}:
            continue
        if isinstance(value, dict) and "repr" in value and set(value) <= {"repr", "truncated"}:
            value = value["repr"]
        if isinstance(value, dict) and value and depth < _FLATTEN_DEPTH:
            out.extend(_param_leaves(value, key + ".", depth + 1))
        else:
            out.append((key, value))
    return out


def _cell_label(index: int, cell_key: str) -> str:
    """The cell's id, or its index when it has none (``src:`` keys are digests of the source)."""
    return str(index) if cell_key.startswith("src:") else cell_key


def _params(rec: _Recorded) -> dict[str, str]:
    seeds: dict[str, Any] = {"seed.master": rec.meta["master_seed"]}
    hyper: dict[str, Any] = {}
    for index, _cell, cell_meta, record in rec.cells:
        seeds[mlflow_key(f"seed.cell.{_cell_label(index, cell_meta['cell_key'])}")] = cell_meta["seed"]
        for key, value in _param_leaves(record.get("params") or {}):
            hyper[mlflow_key(key)] = value  # a later cell's value wins, as in the kernel
    params = {(mlflow_key(f"param.{k}") if k in seeds else k): v for k, v in hyper.items()}
    params.update(seeds)
    return {k: _text(v, MAX_PARAM_VALUE) for k, v in params.items()}


def _tags(rec: _Recorded) -> dict[str, str]:
    git = rec.env.get("git") or {}
    code_cells = sum(1 for c in rec.nb.cells if c.cell_type == "code")
    stale = sum(
        1
        for _i, cell, cell_meta, _r in rec.cells
        if source_changed(source_text(cell), cell_meta.get("source"))
    )
    tags: dict[str, Any] = {
        "mlflow.source.type": "NOTEBOOK",
        "mlflow.source.name": rec.rel_path,
        "repro_jupyter.notebook": rec.rel_path,
        "repro_jupyter.version": __version__,
        "repro_jupyter.schema_version": rec.meta.get("schema_version", 1),
        "repro_jupyter.environment": rec.env_digest,
        "repro_jupyter.deterministic": bool(rec.meta.get("deterministic", False)),
        "repro_jupyter.cells": f"{len(rec.cells)}/{code_cells} recorded",
        "repro_jupyter.stale_cells": stale,
        "repro_jupyter.nondeterministic_cells": sum(
            1 for *_x, m, _r in rec.cells if m.get("nondeterministic")
        ),
        "repro_jupyter.git.available": bool(git.get("available")),
    }
    if git.get("available"):
        for mlflow_name, key in (
            ("mlflow.source.git.commit", "commit"),
            ("mlflow.source.git.branch", "branch"),
        ):
            if git.get(key):
                tags[mlflow_name] = git[key]
        if git.get("remote"):
            tags["mlflow.source.git.repoURL"] = git["remote"]
        tags["repro_jupyter.git.dirty"] = bool(git.get("dirty"))
        if git.get("diff_digest"):
            tags["repro_jupyter.git.diff_digest"] = git["diff_digest"]
    else:
        tags["repro_jupyter.git.reason"] = git.get("reason", "not recorded")
    return {k: _text(json.dumps(v) if isinstance(v, bool) else v, MAX_TAG_VALUE) for k, v in tags.items()}


def _datasets(rec: _Recorded, scrub: Scrubber) -> tuple[list[DatasetRef], list[str]]:
    datasets: dict[tuple[str, str], DatasetRef] = {}
    notes = []
    base = rec.path.resolve().parent
    for index, _cell, cell_meta, record in rec.cells:
        for entry in record.get("inputs") or []:
            path = scrub.text(entry["path"])
            if not entry.get("digest"):
                notes.append(f"input {path} has no digest ({entry.get('skipped', 'not hashed')}): not logged")
                continue
            if not path.startswith(("~", "/")):  # relative to the notebook: make it relative to the repo
                path = relative_to(base / path, rec.repo_top) or path
            hexdigest = entry["digest"].split(":", 1)[-1]
            profile = {k: entry[k] for k in ("digest", "size", "files", "kind") if k in entry}
            key = (path, entry["digest"])
            if key in datasets:
                continue
            datasets[key] = DatasetRef(
                name=path[-MAX_DATASET_NAME:],
                digest=hexdigest[:MAX_DATASET_DIGEST],
                source_type="local",
                source=json.dumps({"uri": path}),
                profile=json.dumps(profile, sort_keys=True),
                context=entry.get("how", "declared"),
                tags={
                    "repro_jupyter.digest": entry["digest"],
                    "repro_jupyter.cell": _cell_label(index, cell_meta["cell_key"])[:MAX_INPUT_TAG_VALUE],
                },
            )
    return list(datasets.values()), notes


def _metrics(rec: _Recorded) -> tuple[list[Metric], int | None, int | None]:
    """Cell durations from the run log (the catalog), matched to the records the notebook points at."""
    metrics = []
    starts, ends = [], []
    try:
        for index, _cell, cell_meta, _record in rec.cells:
            history = [
                h
                for h in rec.store.catalog.cell_history(cell_meta["cell_key"])
                if h["record"] == cell_meta["record"]
            ]
            if not history:
                continue
            last = history[-1]
            started, duration = float(last["started_at"]), float(last["duration_s"])
            label = _cell_label(index, cell_meta["cell_key"])
            metrics.append(
                Metric(mlflow_key(f"duration_s.cell.{label}"), duration, int(started * 1000), index)
            )
            starts.append(started)
            ends.append(started + duration)
    except (ReproError, sqlite3.Error):
        return [], None, None
    if not starts:
        return metrics, None, None
    return metrics, int(min(starts) * 1000), int(max(ends) * 1000)


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False, default=str) + "\n").encode()


def _notebook_bytes(nb: Any, scrub: Scrubber) -> bytes:
    """Scrubbed in memory, where each source and output text is one string (on disk nbformat splits them
    into lines, and a PEM block split into lines is no longer one match)."""
    data = scrub.value(json.loads(json.dumps(nb)), skip=_BINARY_MIMETYPES)
    return _json_bytes(json.loads(nbformat.writes(nbformat.from_dict(data))))


def _artifacts(rec: _Recorded, scrub: Scrubber, files: list[CheckpointFile]) -> list[Artifact]:
    env = scrub.value(rec.env)
    provenance = {
        "notebook": rec.rel_path,
        "metadata": rec.meta,
        "cells": [
            {"index": index, "id": cell.get("id"), "metadata": cell_meta, "record": record}
            for index, cell, cell_meta, record in rec.cells
        ],
    }
    artifacts = [
        Artifact("repro/environment.json", _json_bytes({"digest": rec.env_digest, **env})),
        Artifact("repro/requirements.txt", scrub.text(requirements(rec.env)).encode()),
        Artifact("repro/provenance.json", _json_bytes(scrub.value(provenance))),
        Artifact(f"notebook/{rec.path.name}", _notebook_bytes(rec.nb, scrub)),
    ]
    if files:
        artifacts.append(Artifact("checkpoints/manifest.json", _json_bytes(manifest(files))))
        artifacts += [Artifact(f"checkpoints/{f.file_name}", source=f.path) for f in files]
    return artifacts


def build_plan(
    notebook: Path, checkpoints: list[str] | None = None, scrub: Scrubber | None = None
) -> RunPlan:
    """Everything to log for ``notebook``'s recorded run; raises a ``ReproError`` for what cannot be."""
    scrub = scrub or Scrubber()
    rec = _load(Path(notebook))
    scrub.learn(rec.nb)
    try:
        files = find_checkpoints(rec.store, [r for *_x, r in rec.cells], checkpoints or [], scrub)
        datasets, notes = _datasets(rec, scrub)
        metrics, start, end = _metrics(rec)
        plan = RunPlan(
            run_name=scrub.text(rec.path.stem),
            params={mlflow_key(scrub.text(k)): scrub.text(v) for k, v in _params(rec).items()},
            tags={k: scrub.text(v) for k, v in _tags(rec).items()},
            metrics=metrics,
            artifacts=_artifacts(rec, scrub, files),
            datasets=datasets,
            start_time_ms=start,
            end_time_ms=end,
            notes=notes,
        )
    finally:
        rec.store.close()
    check_clean(plan, scrub)
    return plan


def check_clean(plan: RunPlan, scrub: Scrubber) -> None:
    """Refuse to log a plan in which any text still holds a secret (a bug if it ever fires)."""
    texts = [plan.run_name, *plan.params, *plan.params.values(), *plan.tags, *plan.tags.values()]
    texts += [m.key for m in plan.metrics]
    texts += [t for d in plan.datasets for t in (d.name, d.source, d.profile, d.context, *d.tags.values())]
    texts += [a.path for a in plan.artifacts]
    for artifact in plan.artifacts:
        if artifact.data is not None:
            texts += _texts_of(artifact.data.decode("utf-8", "replace"))
    if any(scrub.leaks(t) for t in texts):
        raise ExportError("refusing to export: a secret survived redaction (please report this)")


def _texts_of(text: str) -> list[str]:
    """A JSON artifact's keys and string leaves one by one (a context rule such as ``pass: ...`` must not
    read ``"db_pass": "not stored"`` across a key and its value); any other artifact as one text."""
    try:
        value = json.loads(text)
    except ValueError:
        return [text]
    out: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict):
            out.extend(str(k) for k in item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return out
