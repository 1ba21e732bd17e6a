"""Environment variables that change results, allow-listed and redacted.

Only names on the allow-list are recorded at all (most of the environment is
noise or private).  A variable whose name or value looks like a secret is left
out entirely (not even its name is kept: the name alone can tell which cloud
account a run used); only the count of omitted variables is recorded.  "Looks
like a secret" is the redaction service's judgement (``redaction``): a secret
name (``*_TOKEN``, ``*CONNECTION_STRING``), a secret shape anywhere in the value
(``AccountKey=``, ``https://TOKEN@host``) or the value of another secret
variable.  In kept values the home directory becomes ``~``.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Mapping

from ..redaction import is_secret_name, looks_secret

ALLOWED_PATTERNS = (
    "PYTHONHASHSEED",
    "PYTHONPATH",
    "PYTHONOPTIMIZE",
    "PYTHONWARNINGS",
    "CUDA_*",
    "CUBLAS_*",
    "CUDNN_*",
    "NVIDIA_*",
    "NCCL_*",
    "OMP_*",
    "MKL_*",
    "OPENBLAS_*",
    "BLIS_*",
    "VECLIB_*",
    "NUMEXPR_*",
    "KMP_*",
    "TORCH_*",
    "PYTORCH_*",
    "TF_*",
    "XLA_*",
    "JAX_*",
    "HF_*",
    "TRANSFORMERS_*",
    "TOKENIZERS_PARALLELISM",
    "LANG",
    "LC_ALL",
    "LC_NUMERIC",
    "TZ",
    "MPLBACKEND",
    "REPRO_JUPYTER_*",
    "AWS_*",
    "GOOGLE_*",
    "AZURE_*",
    "WANDB_*",
    "MLFLOW_*",  # recorded only as redacted/benign
)

# Where records go, not what results are (and the options may hold credentials): never recorded.
WHERE_NOT_WHAT = frozenset(
    {"REPRO_JUPYTER_STORE", "REPRO_JUPYTER_STORE_OPTIONS", "REPRO_JUPYTER_SCRATCH_STORE"}
)


def captured_environment(environ: Mapping[str, str] | None = None) -> dict[str, object]:
    """``{"variables": {name: value}, "omitted_secrets": n}`` for the allow-listed names."""
    environ = os.environ if environ is None else environ
    home = os.path.expanduser("~")
    kept: dict[str, str] = {}
    omitted = 0
    for name in sorted(environ):
        if name in WHERE_NOT_WHAT or not any(fnmatch.fnmatchcase(name, p) for p in ALLOWED_PATTERNS):
            continue
        value = environ[name]
        if is_secret_name(name) or looks_secret(value):
            omitted += 1
            continue
        if home and home != "/" and home in value:
            value = value.replace(home, "~")
        kept[name] = value
    return {"variables": kept, "omitted_secrets": omitted}
