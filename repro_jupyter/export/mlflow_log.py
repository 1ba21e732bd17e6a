"""Send a ``RunPlan`` to an MLflow tracking server: the only module that imports MLflow.

MLflow is an optional dependency (``repro-jupyter[mlflow]``), imported here on
first use.  Everything goes through ``MlflowClient`` on an explicit run id (no
fluent "active run" state, no autologging, no context tags MLflow would infer from
this process): params and tags in batches within MLflow's limits, dataset inputs
as ``Dataset`` entities (name, digest, source; the data is never read), and
artifacts copied from one staging folder.  A run that fails half way is marked
FAILED, so a partial export is never mistaken for a complete one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ExportError
from ..redact import redact_text
from .mlflow_run import RunPlan

BATCH = 100  # MLflow: at most 100 params and 100 tags per log_batch
INSTALL_HINT = "MLflow is not installed: pip install 'repro-jupyter[mlflow]'"


@dataclass
class LoggedRun:
    """Where ``log_plan`` put the run; ``tracking_uri`` is redacted, so safe to print."""

    run_id: str
    experiment_id: str
    tracking_uri: str  # redacted: safe to print
    artifact_uri: str

    @property
    def run_uri(self) -> str:
        """The ``runs:/<id>`` URI MLflow resolves artifacts and models against."""
        return f"runs:/{self.run_id}"

    @property
    def ui_url(self) -> str | None:
        """The run's page in the MLflow UI for an http(s) tracking
        server; None for a local ``file:`` or database store."""
        if self.tracking_uri.startswith(("http://", "https://")):
            return f"{self.tracking_uri.rstrip('/')}/#/experiments/{self.experiment_id}/runs/{self.run_id}"
        return None


def import_mlflow() -> Any:
    """The ``mlflow`` module, or a one-line error naming the extra to install."""
    try:
        import mlflow
        from mlflow import MlflowClient  # noqa: F401  (fails on a broken install too)
    except ImportError:
        raise ExportError(INSTALL_HINT) from None
    return mlflow


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return redact_text(text[0] if text else type(exc).__name__)[:300]


def _experiment_id(client: Any, name: str | None) -> str:
    """The named experiment (created when missing), else ``MLFLOW_EXPERIMENT_ID`` or the default one."""
    name = name or os.environ.get("MLFLOW_EXPERIMENT_NAME")
    if not name:
        return os.environ.get("MLFLOW_EXPERIMENT_ID") or "0"
    experiment = client.get_experiment_by_name(name)
    if experiment is None:
        return str(client.create_experiment(name))
    if experiment.lifecycle_stage != "active":
        raise ExportError(f"MLflow experiment {name!r} is deleted: restore it or choose another name")
    return str(experiment.experiment_id)


def _chunks(items: list[Any], size: int = BATCH) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _stage(plan: RunPlan, folder: Path) -> None:
    for artifact in plan.artifacts:
        target = folder / artifact.path
        target.parent.mkdir(parents=True, exist_ok=True)
        if artifact.data is not None:
            target.write_bytes(artifact.data)
        elif artifact.source is not None:
            shutil.copyfile(artifact.source, target)


def _log(client: Any, run_id: str, plan: RunPlan) -> None:
    from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag

    for batch in _chunks([Param(k, v) for k, v in sorted(plan.params.items())]):
        client.log_batch(run_id, params=batch, synchronous=True)
    for batch in _chunks([RunTag(k, v) for k, v in sorted(plan.tags.items())]):
        client.log_batch(run_id, tags=batch, synchronous=True)
    metrics = [Metric(m.key, m.value, m.timestamp_ms, m.step) for m in plan.metrics]
    for batch in _chunks(metrics, 1000):
        client.log_batch(run_id, metrics=batch, synchronous=True)
    if plan.datasets:
        inputs = [
            DatasetInput(
                Dataset(d.name, d.digest, d.source_type, d.source, profile=d.profile),
                tags=[InputTag("mlflow.data.context", d.context)]
                + [InputTag(k, v) for k, v in sorted(d.tags.items())],
            )
            for d in plan.datasets
        ]
        client.log_inputs(run_id, datasets=inputs)
    if plan.artifacts:
        with tempfile.TemporaryDirectory(prefix="repro-mlflow-") as staging:
            _stage(plan, Path(staging))
            client.log_artifacts(run_id, staging)


def log_plan(plan: RunPlan, tracking_uri: str | None = None, experiment: str | None = None) -> LoggedRun:
    """Create one FINISHED MLflow run holding everything in ``plan``."""
    mlflow = import_mlflow()
    from mlflow.exceptions import MlflowException

    uri = tracking_uri or mlflow.get_tracking_uri()
    try:  # the client itself may refuse the URI (MLflow 3 refuses file stores unless told otherwise)
        client = mlflow.MlflowClient(tracking_uri=tracking_uri)
        experiment_id = _experiment_id(client, experiment)
        run = client.create_run(experiment_id, start_time=plan.start_time_ms, run_name=plan.run_name)
    except (MlflowException, OSError) as exc:
        raise ExportError(f"MLflow at {redact_text(str(uri))}: {_one_line(exc)}") from None
    run_id = run.info.run_id
    try:
        _log(client, run_id, plan)
        client.set_terminated(run_id, "FINISHED", end_time=plan.end_time_ms)
    except BaseException as exc:
        try:
            client.set_terminated(run_id, "FAILED")
        except Exception:
            pass
        if isinstance(exc, (MlflowException, OSError)):
            raise ExportError(f"MLflow run {run_id} failed: {_one_line(exc)}") from None
        raise
    return LoggedRun(run_id, experiment_id, redact_text(str(uri)), run.info.artifact_uri)
