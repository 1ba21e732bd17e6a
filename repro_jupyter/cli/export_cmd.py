"""``jupyter repro export mlflow NB.ipynb``: log a recorded run to another system.

One nested subcommand per target, so more targets can join without new top-level
commands.  The plan is built (and every problem reported) before anything is sent.
An unreachable tracking server costs seconds, not MLflow's default of 7 retries with
doubling back-off (254 s): ``MLFLOW_HTTP_REQUEST_*`` get bounded defaults unless set.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from ..errors import ExportError
from ..redaction.console import redacted_console


def add_parser(sub: Any) -> None:
    """``export TARGET NB``: one nested subcommand per target (only
    ``mlflow`` so far), so more targets need no new top-level command."""
    p = sub.add_parser("export", help="log a recorded run to another system (mlflow)")
    targets = p.add_subparsers(dest="export_target", metavar="TARGET")
    mlflow = targets.add_parser(
        "mlflow",
        help="one MLflow run: params, seeds, git/environment tags, artifacts, dataset inputs",
    )
    mlflow.add_argument("notebook", type=Path)
    mlflow.add_argument(
        "--tracking-uri", help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, else MLflow's default)"
    )
    mlflow.add_argument(
        "--experiment",
        help="experiment name, created if missing (default: $MLFLOW_EXPERIMENT_NAME, else Default)",
    )
    mlflow.add_argument(
        "--checkpoint",
        action="append",
        default=[],
        metavar="NAME",
        help="also log this variable's checkpoint from the last recorded state (repeatable)",
    )
    mlflow.add_argument("-q", "--quiet", action="store_true", help="print only the run id")


# MLflow reads these at each request; a user's own setting wins
MLFLOW_HTTP_BOUNDS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "20",
}


def main(args: argparse.Namespace) -> int:
    """Log the notebook's recorded run to MLflow with bounded HTTP retries
    (a user's own ``MLFLOW_HTTP_REQUEST_*`` wins): 0 once logged; problems
    are one-line ReproErrors (ExportError for MLflow's), exit 2."""
    for name, value in MLFLOW_HTTP_BOUNDS.items():
        os.environ.setdefault(name, value)
    with redacted_console():
        return _main(args)


def _main(args: argparse.Namespace) -> int:
    if getattr(args, "export_target", None) != "mlflow":
        raise ExportError("choose a target: jupyter repro export mlflow NB.ipynb")
    from ..export.mlflow_log import import_mlflow, log_plan
    from ..export.mlflow_run import build_plan

    import_mlflow()  # before reading anything: a missing extra is the first thing to say
    plan = build_plan(args.notebook, checkpoints=args.checkpoint)
    logged = log_plan(plan, tracking_uri=args.tracking_uri, experiment=args.experiment)
    if args.quiet:
        print(logged.run_id)
        return 0
    print(
        f"logged {args.notebook} to MLflow run {logged.run_id} ({logged.run_uri}) at {logged.tracking_uri}: "
        f"{len(plan.params)} params, {len(plan.tags)} tags, {len(plan.artifacts)} artifacts, "
        f"{len(plan.datasets)} dataset inputs"
    )
    if logged.ui_url:
        print(f"  {logged.ui_url}")
    for note in plan.notes:
        print(f"  note: {note}")
    return 0
